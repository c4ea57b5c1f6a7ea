// tools/recsys/run_folder.hpp — the folder a `recsys train` run writes (config, metrics, history, curves, model, per-unit results) and reads back.
#pragma once

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "recsys/core/error.hpp"
#include "recsys/data/csv.hpp"
#include "recsys/io/atomic_file.hpp"
#include "recsys/io/json.hpp"

#include "manifest.hpp"

namespace recsys::cli {

// A run folder, as `recsys train --out DIR` writes it:
//   config.json     what was run: command line, model, options, data files and their fingerprint, split
//   metrics.json    held-out results (classification, rating, ranking) beside the baselines
//   history.csv     one row per epoch (loss, metrics, validation values); a header only for closed-form models
//   curves.svg      the training curves of history.csv, to open in a browser
//   model.safetensors (+ model.json)   the trained weights and what it takes to rebuild the model
//   per_user.csv    user_id plus one column per ranking metric (leave-last-out), for `recsys compare`
//   per_row.csv     user_id,item_id,label,score,correct for the held-out ratings, for `recsys compare`
//   held_out.csv    user_id,item_id of every held-out interaction: `recsys recommend` never suggests them
//   candidates.csv  sampled ranking protocols: user_id,item_id,target (1 held out, 0 a sampled negative)
//   tuning.json, validation/   with --tune: every grid point's validation score and the choice; the
//                   validation split's fit rows (interactions.csv) and targets (held_out.csv), for peers
//   manifest.json   written last: every other file's path, size and sha256 and the run's identity; every
//                   reader verifies it (manifest.hpp), so a cut, mixed or half-written folder is refused
// A run folder is one unit: `recsys train` writes it whole beside DIR and swaps it in (run_publish.hpp).
struct RunFolder {
  RunFolder() = default;
  explicit RunFolder(std::filesystem::path d) : dir(std::move(d)) {}

  std::filesystem::path dir;

  std::filesystem::path config() const { return dir / "config.json"; }
  std::filesystem::path metrics() const { return dir / "metrics.json"; }
  std::filesystem::path history() const { return dir / "history.csv"; }
  std::filesystem::path curves() const { return dir / "curves.svg"; }
  std::filesystem::path per_user() const { return dir / "per_user.csv"; }
  std::filesystem::path per_row() const { return dir / "per_row.csv"; }
  std::filesystem::path held_out() const { return dir / "held_out.csv"; }
  std::filesystem::path candidates() const { return dir / "candidates.csv"; }
  std::filesystem::path tuning() const { return dir / "tuning.json"; }
  std::filesystem::path validation_dir() const { return dir / "validation"; }
  std::filesystem::path profile_text() const { return dir / "profile.txt"; }
  std::filesystem::path profile_svg() const { return dir / "profile.svg"; }
  std::filesystem::path profile_trace() const { return dir / "profile.trace.json"; }
  std::filesystem::path model_dir() const { return dir; }

  /// An existing, complete run, ready to read: the folder is found (or recovered, see RunSiblings) and
  /// verified against its manifest.json; an Error names the missing, cut, changed or unlisted file.
  static RunFolder open(const std::string& path);
  /// Throws when the folder open() verified is no longer the one at its path (a `recsys train` swapped a
  /// new run in while this reader was reading): call it after the last file is read, so that what was
  /// read is known to come from the one verified folder.
  void check_unchanged() const;

  dev_t device = 0;  ///< the verified folder's identity (set by open)
  ino_t inode = 0;
  Manifest manifest;
};

/// The hidden siblings of a run folder DIR = PARENT/NAME, which only `recsys train` makes:
///   PARENT/.NAME.tmp.PID   the new run being written by process PID (sealed by manifest.json last)
///   PARENT/.NAME.old.PID   the previous run, moved aside for an instant when RENAME_EXCHANGE is missing
///   PARENT/.NAME.lock      the writer's lock file (flock), holding its pid
struct RunSiblings {
  std::filesystem::path parent;
  std::string name;

  /// DIR's parent and name: "runs/mf/" is runs + mf; a symlink to a folder is followed.
  static RunSiblings of(const std::filesystem::path& dir) {
    namespace fs = std::filesystem;
    fs::path p = dir.lexically_normal();
    if (p.filename().empty() && p.has_parent_path()) p = p.parent_path();
    std::error_code ec;
    if (fs::is_symlink(p, ec)) {
      const fs::path target = fs::canonical(p, ec);
      if (!ec) p = target;
    }
    RunSiblings s;
    s.parent = p.parent_path().empty() ? fs::path(".") : p.parent_path();
    s.name = p.filename().string();
    return s;
  }
  std::filesystem::path dir() const { return parent / name; }
  std::filesystem::path staging(long pid) const { return parent / ("." + name + ".tmp." + std::to_string(pid)); }
  std::filesystem::path aside(long pid) const { return parent / ("." + name + ".old." + std::to_string(pid)); }
  std::filesystem::path lock() const { return parent / ("." + name + ".lock"); }

  struct Temporary {
    std::filesystem::path path;
    bool staging = false;  ///< .tmp. (a new run) rather than .old. (a previous one)
    long pid = 0;
  };
  /// Every .NAME.tmp.PID and .NAME.old.PID in PARENT: staging folders first, newest pid first.
  std::vector<Temporary> temporaries() const {
    namespace fs = std::filesystem;
    std::vector<Temporary> out;
    std::error_code ec;
    for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string n = it->path().filename().string();
      for (const bool staging : {true, false}) {
        const std::string prefix = "." + name + (staging ? ".tmp." : ".old.");
        if (n.size() <= prefix.size() || n.compare(0, prefix.size(), prefix) != 0) continue;
        const std::string digits = n.substr(prefix.size());
        if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
        out.push_back({it->path(), staging, std::stol(digits)});
      }
    }
    std::sort(out.begin(), out.end(), [](const Temporary& a, const Temporary& b) {
      return a.staging != b.staging ? a.staging : a.pid > b.pid;
    });
    return out;
  }
  /// The sealed run a reader should use when DIR itself is missing: a `recsys train` died between its two
  /// renames (or after sealing a first run, before publishing it). A staging folder whose manifest verifies
  /// is the newest complete run; else a verifying .old. folder. None: nothing to recover.
  std::optional<std::filesystem::path> recoverable() const {
    for (const Temporary& t : temporaries())
      if (manifest_verifies(t.path)) return t.path;
    return std::nullopt;
  }
};

inline RunFolder RunFolder::open(const std::string& path) {
  namespace fs = std::filesystem;
  RunFolder run{path};
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(run.dir, ec))) {
    if (const auto found = RunSiblings::of(run.dir).recoverable()) {
      std::fprintf(stderr,
                   "note: '%s' is missing, and '%s' is a complete run: a recsys train was stopped while replacing "
                   "it; reading that (the next recsys train --out %s restores it)\n",
                   path.c_str(), found->string().c_str(), path.c_str());
      run.dir = *found;
    }
  }
  RECSYS_CHECK(fs::is_directory(run.dir, ec), "no run folder '", path, "' (make one with recsys train --out ", path, ")");
  run.manifest = verify_manifest(run.dir);
  struct stat st{};
  RECSYS_CHECK(::stat(run.dir.c_str(), &st) == 0, "cannot stat '", run.dir.string(), "': ", std::strerror(errno));
  run.device = st.st_dev;
  run.inode = st.st_ino;
  return run;
}

inline void RunFolder::check_unchanged() const {
  struct stat st{};
  RECSYS_CHECK(::stat(dir.c_str(), &st) == 0 && st.st_dev == device && st.st_ino == inode, "'", dir.string(),
               "' was replaced by another recsys train while it was being read; run the command again");
}

/// The folder a future `recsys serve` (or any other reader) loads: found, recovered if need be, verified.
inline RunFolder verify_run_folder(const std::string& path) { return RunFolder::open(path); }

/// A whole small text file; the error names the file.
inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  RECSYS_CHECK(in.good(), "cannot read '", path.string(), "'");
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

/// A JSON file, with errors that name it ("'runs/a/config.json': json: line 3, column 5: ...").
inline json::Value read_json(const std::filesystem::path& path) {
  const std::string text = read_text(path);
  try {
    return json::parse(text);
  } catch (const Error& e) {
    RECSYS_FAIL("'", path.string(), "' is damaged: ", e.what());
  }
}

inline void write_json(const std::filesystem::path& path, const json::Value& v) {
  io::write_file_atomic(path.string(), json::dump(v, 2) + "\n");
}

/// The member `key` of a JSON object read from `path`, with an error naming both when it is absent.
inline const json::Value& member(const json::Value& v, const std::string& key, const std::filesystem::path& path) {
  const json::Value* m = v.is_object() ? v.find(key) : nullptr;
  RECSYS_CHECK(m != nullptr, "'", path.string(), "' has no \"", key, "\" entry");
  return *m;
}

/// "2025-01-31T12:00:00Z": when a run was made.
inline std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

/// Per-unit results: a key column (user_id, or user_id + item_id) and numeric columns.
struct UnitTable {
  std::vector<std::string> key_names;              ///< {"user_id"} or {"user_id", "item_id"}
  std::vector<std::vector<std::string>> keys;      ///< keys[k][row]
  std::vector<std::string> value_names;            ///< {"hr@10", "ndcg@10"}
  std::vector<std::vector<double>> values;         ///< values[c][row]

  std::size_t rows() const { return keys.empty() ? 0 : keys[0].size(); }
  /// The key of one row, its parts joined by a separator no id contains.
  std::string key(std::size_t row) const {
    std::string s;
    for (std::size_t k = 0; k < keys.size(); ++k) (s += k ? "\x1f" : "") += keys[k][row];
    return s;
  }
  /// Index of a value column, or -1.
  std::ptrdiff_t find(const std::string& name) const {
    for (std::size_t c = 0; c < value_names.size(); ++c)
      if (value_names[c] == name) return static_cast<std::ptrdiff_t>(c);
    return -1;
  }

  void write(const std::filesystem::path& path) const {
    data::CsvWriter w(path.string());
    for (const auto& n : key_names) w.field(n);
    for (const auto& n : value_names) w.field(n);
    w.end_row();
    for (std::size_t r = 0; r < rows(); ++r) {
      for (const auto& k : keys) w.field(k[r]);
      for (const auto& v : values) w.field(v[r]);
      w.end_row();
    }
    w.close();
  }

  /// Reads a file written by write(); the first `n_keys` columns are keys.
  static UnitTable read(const std::filesystem::path& path, std::size_t n_keys) {
    RECSYS_CHECK(std::filesystem::is_regular_file(path), "no file '", path.string(), "'");
    data::CsvOptions o;
    o.infer_types = false;
    o.na_values = {""};
    const data::Table t = data::read_csv(path.string(), o);
    RECSYS_CHECK(t.num_columns() > static_cast<std::int64_t>(n_keys), "'", path.string(), "' has ", t.num_columns(),
                 " columns; expected ", n_keys, " key columns and at least one value column");
    UnitTable u;
    for (std::int64_t c = 0; c < t.num_columns(); ++c) {
      const data::Column& col = t.column(c);
      const bool is_key = static_cast<std::size_t>(c) < n_keys;
      (is_key ? u.key_names : u.value_names).push_back(col.name());
      if (is_key) u.keys.emplace_back();
      else u.values.emplace_back();
      for (std::int64_t r = 0; r < t.num_rows(); ++r) {
        RECSYS_CHECK(!col.is_missing(r), "'", path.string(), "' data row ", r + 1, " has an empty ", col.name(), " cell");
        const std::string text(col.string_at(r));
        if (is_key) {
          u.keys.back().push_back(text);
          continue;
        }
        double v = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        RECSYS_CHECK(ec == std::errc() && end == text.data() + text.size() && !text.empty(), "'", path.string(),
                     "' data row ", r + 1, " column ", col.name(), " holds '", text, "', not a number");
        u.values.back().push_back(v);
      }
    }
    return u;
  }
};

}  // namespace recsys::cli
