// tools/recsys/run_folder.hpp — the folder a `recsys train` run writes (config, metrics, history, curves, model, per-unit results) and reads back.
#pragma once

#include <charconv>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "recsys/core/error.hpp"
#include "recsys/data/csv.hpp"
#include "recsys/io/atomic_file.hpp"
#include "recsys/io/json.hpp"

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
struct RunFolder {
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

  /// An existing run: the folder and its config.json must be there.
  static RunFolder open(const std::string& path) {
    RunFolder run{path};
    RECSYS_CHECK(std::filesystem::is_directory(run.dir), "no run folder '", path, "' (make one with recsys train --out ",
                 path, ")");
    RECSYS_CHECK(std::filesystem::is_regular_file(run.config()), "'", path,
                 "' is not a run folder: it has no config.json (make one with recsys train --out DIR)");
    return run;
  }
};

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
