// tools/recsys/args.hpp — the recsys command's argument parser: declared options, generated --help, one-line usage errors.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <sched.h>
#endif

namespace recsys::cli {

/// A mistake on the command line: main() prints it as one line and exits with status 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One declared option: `--name VALUE` (or `--name=VALUE`), or a flag without a value.
struct OptionSpec {
  std::string name;         ///< long name without the dashes: "epochs"
  std::string value;        ///< placeholder shown in help ("N", "FILE"); empty for a flag
  std::string help;         ///< one line
  std::string default_value = {};  ///< shown in help and returned when the option is absent
  char short_name = 0;      ///< e.g. 'n' for -n
};

/// One positional argument (all positionals are required).
struct PositionalSpec {
  std::string name;  ///< "RUN_A"
  std::string help;
};

/// A subcommand's grammar: what it does, its positionals and options; parse() checks argv against it.
struct CommandSpec {
  std::string name;     ///< "train"
  std::string summary;  ///< one line, shown in `recsys --help`
  std::string details = {};  ///< paragraph(s) shown after the usage line in `recsys NAME --help`
  std::vector<PositionalSpec> positionals = {};
  std::vector<OptionSpec> options = {};
  std::string examples = {};  ///< shown last in --help
};

/// The parsed arguments of one subcommand, with typed getters whose errors name the option.
class Args {
 public:
  Args(const CommandSpec& spec, std::map<std::string, std::string> values, std::vector<std::string> positionals)
      : spec_(&spec), values_(std::move(values)), positionals_(std::move(positionals)) {}

  /// True when the option was given on the command line (not just defaulted).
  bool given(const std::string& name) const { return values_.count(name) != 0; }
  /// A flag's state.
  bool flag(const std::string& name) const { return given(name); }

  /// The option's text, or its declared default.
  std::string str(const std::string& name) const {
    if (auto it = values_.find(name); it != values_.end()) return it->second;
    return find(name).default_value;
  }

  /// The option as an integer in [lo, hi].
  std::int64_t integer(const std::string& name, std::int64_t lo = INT64_MIN, std::int64_t hi = INT64_MAX) const {
    const std::string text = str(name);
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty())
      throw UsageError("--" + name + " expects an integer, got '" + text + "'");
    if (v < lo || v > hi) throw UsageError("--" + name + " must be " + range_text(lo, hi) + ", got " + text);
    return v;
  }

  /// The option as a finite number in [lo, hi].
  double number(const std::string& name, double lo, double hi) const {
    const std::string text = str(name);
    double v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty() || !(v == v))
      throw UsageError("--" + name + " expects a number, got '" + text + "'");
    if (v < lo || v > hi) {
      std::ostringstream os;
      os << "--" << name << " must lie in [" << lo << ", " << hi << "], got " << text;
      throw UsageError(os.str());
    }
    return v;
  }

  /// A thread count option in [lo, 4096]; above the cores this process may run on, a warning on
  /// stderr and the core count (oversubscribed OpenMP teams only wait on each other).
  int threads(const std::string& name, std::int64_t lo) const {
    const std::int64_t n = integer(name, lo, 4096);
    const std::int64_t cores = available_cores();
    if (cores > 0 && n > cores) {
      std::fprintf(stderr, "WARNING: --%s %lld exceeds the %lld cores available; using %lld\n", name.c_str(),
                   static_cast<long long>(n), static_cast<long long>(cores), static_cast<long long>(cores));
      return static_cast<int>(cores);
    }
    return static_cast<int>(n);
  }
  /// Cores this process may run on (its CPU affinity on Linux), 0 when unknown.
  static std::int64_t available_cores() {
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
#endif
    return static_cast<std::int64_t>(std::thread::hardware_concurrency());
  }

  /// The option's text, which must be one of `choices`.
  std::string choice(const std::string& name, const std::vector<std::string>& choices) const {
    const std::string v = str(name);
    if (std::find(choices.begin(), choices.end(), v) != choices.end()) return v;
    std::string list;
    for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
    throw UsageError("--" + name + " must be one of " + list + ", got '" + v + "'");
  }

  /// A required option: its text, or a usage error naming it.
  std::string required(const std::string& name) const {
    if (!given(name) && find(name).default_value.empty()) throw UsageError("missing --" + name + " " + find(name).value);
    return str(name);
  }

  /// Positional argument i.
  const std::string& positional(std::size_t i) const { return positionals_.at(i); }

  /// The whole command line, for config.json ("recsys train --model mf ...").
  const std::string& command_line() const { return command_line_; }
  void set_command_line(std::string line) { command_line_ = std::move(line); }

 private:
  const OptionSpec& find(const std::string& name) const {
    for (const auto& o : spec_->options)
      if (o.name == name) return o;
    throw std::logic_error("recsys " + spec_->name + ": option --" + name + " is not declared");
  }
  static std::string range_text(std::int64_t lo, std::int64_t hi) {
    if (hi == INT64_MAX) return "at least " + std::to_string(lo);
    return "between " + std::to_string(lo) + " and " + std::to_string(hi);
  }

  const CommandSpec* spec_;
  std::map<std::string, std::string> values_;
  std::vector<std::string> positionals_;
  std::string command_line_;
};

/// `recsys NAME --help`: usage line, details, positionals, options with defaults, examples.
inline std::string help_text(const CommandSpec& spec) {
  std::ostringstream os;
  os << "usage: recsys " << spec.name;
  for (const auto& p : spec.positionals) os << ' ' << p.name;
  os << " [options]\n\n" << spec.summary << "\n";
  if (!spec.details.empty()) os << "\n" << spec.details << "\n";
  const auto left = [](const OptionSpec& o) {
    std::string s = o.short_name ? std::string("-") + o.short_name + ", " : std::string("    ");
    s += "--" + o.name;
    if (!o.value.empty()) s += " " + o.value;
    return s;
  };
  std::size_t width = 10;
  for (const auto& p : spec.positionals) width = std::max(width, p.name.size() + 2);
  for (const auto& o : spec.options) width = std::max(width, left(o).size() + 2);
  if (!spec.positionals.empty()) {
    os << "\narguments:\n";
    for (const auto& p : spec.positionals) os << "  " << p.name << std::string(width - p.name.size(), ' ') << p.help << "\n";
  }
  os << "\noptions:\n";
  for (const auto& o : spec.options) {
    const std::string l = left(o);
    os << "  " << l << std::string(width - l.size(), ' ') << o.help;
    if (!o.default_value.empty()) os << " (default: " << o.default_value << ")";
    os << "\n";
  }
  const std::string h = "-h, --help";
  os << "  " << h << std::string(width - h.size(), ' ') << "show this help and exit\n";
  if (!spec.examples.empty()) os << "\nexamples:\n" << spec.examples;
  return os.str();
}

/// True when argv asks for help anywhere (so `recsys train --epochs x --help` still helps).
inline bool wants_help(const std::vector<std::string>& argv) {
  return std::any_of(argv.begin(), argv.end(), [](const std::string& a) { return a == "--help" || a == "-h"; });
}

/// Checks argv (the words after the subcommand) against the spec; throws UsageError on the first mistake.
inline Args parse(const CommandSpec& spec, const std::vector<std::string>& argv) {
  std::map<std::string, std::string> values;
  std::vector<std::string> positionals;
  const auto lookup = [&](std::string_view word) -> const OptionSpec& {
    for (const auto& o : spec.options) {
      if (word.size() > 2 && word.substr(0, 2) == "--" && word.substr(2) == o.name) return o;
      if (word.size() == 2 && word[0] == '-' && o.short_name && word[1] == o.short_name) return o;
    }
    throw UsageError("unknown option '" + std::string(word) + "'");
  };
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& word = argv[i];
    if (word.size() > 1 && word[0] == '-' && !(word[1] >= '0' && word[1] <= '9')) {
      const std::size_t eq = word.find('=');
      const std::string key = eq == std::string::npos ? word : word.substr(0, eq);
      const OptionSpec& o = lookup(key);
      if (values.count(o.name)) throw UsageError("--" + o.name + " given twice");
      if (o.value.empty()) {
        if (eq != std::string::npos) throw UsageError("--" + o.name + " takes no value");
        values[o.name] = "1";
      } else if (eq != std::string::npos) {
        values[o.name] = word.substr(eq + 1);
      } else {
        if (i + 1 >= argv.size()) throw UsageError(key + " needs a value (" + o.value + ")");
        values[o.name] = argv[++i];
      }
    } else {
      if (positionals.size() == spec.positionals.size())
        throw UsageError("unexpected argument '" + word + "'" +
                         (spec.positionals.empty() ? std::string(" (this command takes options only)") : std::string()));
      positionals.push_back(word);
    }
  }
  if (positionals.size() < spec.positionals.size())
    throw UsageError("missing " + spec.positionals[positionals.size()].name + " (" +
                     spec.positionals[positionals.size()].help + ")");
  return Args(spec, std::move(values), std::move(positionals));
}

}  // namespace recsys::cli
