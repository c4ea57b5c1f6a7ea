// tools/recsys/main.cpp — the `recsys` command: generate and clean data, train, evaluate, recommend, compare runs, serve a run over HTTP.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "args.hpp"
#include "cmd_clean.hpp"
#include "cmd_compare.hpp"
#include "cmd_evaluate.hpp"
#include "cmd_generate.hpp"
#include "cmd_recommend.hpp"
#include "cmd_serve.hpp"
#include "cmd_train.hpp"

namespace {

using recsys::cli::Args;
using recsys::cli::CommandSpec;

struct Command {
  const CommandSpec& spec;
  int (*run)(const Args&);
};

const std::vector<Command>& commands() {
  static const std::vector<Command> list{{recsys::cli::generate_spec(), recsys::cli::run_generate},
                                         {recsys::cli::clean_spec(), recsys::cli::run_clean},
                                         {recsys::cli::train_spec(), recsys::cli::run_train},
                                         {recsys::cli::evaluate_spec(), recsys::cli::run_evaluate},
                                         {recsys::cli::recommend_spec(), recsys::cli::run_recommend},
                                         {recsys::cli::serve_spec(), recsys::cli::run_serve},
                                         {recsys::cli::compare_spec(), recsys::cli::run_compare}};
  return list;
}

std::string command_names() {
  std::string s;
  for (const Command& c : commands()) s += (s.empty() ? "" : ", ") + c.spec.name;
  return s;
}

/// The project's version (CMakeLists.txt's project(VERSION); a process test keeps them equal).
constexpr const char* kRecsysVersion = "0.1.0";

void print_overview() {
  std::printf("usage: recsys COMMAND [options]    (recsys help COMMAND, or recsys COMMAND --help, for its options)\n\n"
              "From raw CSV to a trained model, an honest evaluation and top-N recommendations.\n\ncommands:\n");
  for (const Command& c : commands()) std::printf("  %-10s %s\n", c.spec.name.c_str(), c.spec.summary.c_str());
  std::printf("\na typical session:\n"
              "  recsys generate --out data\n"
              "  recsys clean --data data\n"
              "  recsys train --model sequence --users data/user_data.csv --items data/item_data.csv --out runs/ranker\n"
              "  recsys train --model popularity --users data/user_data.csv --items data/item_data.csv --out runs/pop\n"
              "  recsys recommend runs/ranker --user 42 -n 10\n"
              "  recsys compare runs/pop runs/ranker\n");
}

/// Errors are one line on stderr: a message with a line break would read as two problems.
void print_error(const std::string& who, std::string message, const std::string& hint = "") {
  for (char& c : message)
    if (c == '\n' || c == '\r') c = ' ';
  std::fprintf(stderr, "%s: %s%s\n", who.c_str(), message.c_str(), hint.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> words(argv + 1, argv + argc);
  if (words.empty()) {
    print_error("recsys", "missing command (one of " + command_names() + ")", "; see recsys --help");
    return 2;
  }
  if (words[0] == "--version" || words[0] == "-V") {
    std::printf("recsys %s\n", kRecsysVersion);
    return 0;
  }
  if (words[0] == "help" && words.size() > 1) {  // recsys help COMMAND: that command's --help
    for (const Command& c : commands())
      if (c.spec.name == words[1]) {
        std::printf("%s", recsys::cli::help_text(c.spec).c_str());
        return 0;
      }
    print_error("recsys help", "unknown command '" + words[1] + "' (one of " + command_names() + ")");
    return 2;
  }
  if (words[0] == "--help" || words[0] == "-h" || words[0] == "help") {
    print_overview();
    return 0;
  }
  for (const Command& c : commands()) {
    if (c.spec.name != words[0]) continue;
    const std::string who = "recsys " + c.spec.name;
    const std::vector<std::string> rest(words.begin() + 1, words.end());
    if (recsys::cli::wants_help(rest)) {
      std::printf("%s", recsys::cli::help_text(c.spec).c_str());
      return 0;
    }
    try {
      recsys::cli::Args args = recsys::cli::parse(c.spec, rest);
      std::string line = "recsys";
      for (const std::string& w : words) line += " " + w;
      args.set_command_line(line);
      return c.run(args);
    } catch (const recsys::cli::UsageError& e) {
      print_error(who, e.what(), " (see " + who + " --help)");
      return 2;
    } catch (const std::exception& e) {
      print_error(who, e.what());
      return 1;
    }
  }
  print_error("recsys", "unknown command '" + words[0] + "' (one of " + command_names() + ")", "; see recsys --help");
  return 2;
}
