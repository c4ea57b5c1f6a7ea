// tools/recsys/data_source.hpp — which files a command reads (synthetic site, MovieLens, UCI sentences), loading them with the cleaning report, and a fingerprint of the result.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "recsys/core/error.hpp"
#include "recsys/data/csv_reader.hpp"
#include "recsys/io/json.hpp"
#include "recsys/rec/dataset.hpp"

#include "args.hpp"
#include "stage.hpp"

namespace recsys::cli {

/// The data-selecting options every command that reads data shares.
inline std::vector<OptionSpec> data_options() {
  return {{"users", "FILE", "interactions: user_data.csv, MovieLens ratings.csv, or a UCI *_labelled.txt file", ""},
          {"items", "FILE", "item catalogue: item_data.csv or MovieLens movies.csv (not needed for UCI)", ""},
          {"data", "DIR", "instead of --users/--items: a folder holding one of those data sets", ""},
          {"format", "F", "auto, synthetic, movielens or uci (auto looks at the files)", "auto"},
          {"rating-scale", "LO:HI", "every rating must lie in [LO, HI] (default: the lowest and highest finite rating)", ""},
          {"on-bad-row", "WHAT", "a rating that is not finite or off the scale: error (name its line) or skip it",
           "error"}};
}

/// Where the data came from, recorded in config.json so later commands can find it again.
struct DataSource {
  std::string format;  ///< synthetic, movielens or uci
  std::string users, items, dir;  ///< absolute paths; the unused ones empty
  rec::RatingRules ratings;       ///< --rating-scale, --on-bad-row

  json::Value to_json() const {
    json::Value v = json::Value::object();
    v["format"] = format;
    if (!dir.empty()) v["data"] = dir;
    if (!users.empty()) v["users"] = users;
    if (!items.empty()) v["items"] = items;
    if (ratings.low) {
      json::Value scale = json::Value::array();
      scale.push_back(*ratings.low);
      scale.push_back(*ratings.high);
      v["rating_scale"] = std::move(scale);
    }
    v["on_bad_row"] = ratings.on_bad_row == rec::BadRows::skip ? "skip" : "error";
    return v;
  }
  /// The rating rules recorded by to_json (config.json's "data"), so a later read cleans the same way.
  void read_rules(const json::Value& v) {
    if (const json::Value* s = v.find("rating_scale"); s && s->is_array() && s->size() == 2) {
      ratings.low = s->at(0).as_double();
      ratings.high = s->at(1).as_double();
    }
    if (const json::Value* b = v.find("on_bad_row"); b && b->is_string())
      ratings.on_bad_row = b->as_string() == "skip" ? rec::BadRows::skip : rec::BadRows::error;
  }
};

namespace data_detail {

inline std::string first_line(const std::string& path) { return data::first_input_line(path); }

inline bool has_field(const std::string& header, const std::string& name) {
  std::size_t start = 0;
  while (start <= header.size()) {
    std::size_t end = header.find(',', start);
    if (end == std::string::npos) end = header.size();
    std::string f = header.substr(start, end - start);
    if (f.size() >= 2 && f.front() == '"' && f.back() == '"') f = f.substr(1, f.size() - 2);
    if (f == name) return true;
    start = end + 1;
  }
  return false;
}

/// The format of an interactions file from its first line.
inline std::string sniff(const std::string& path) {
  const std::string line = first_line(path);
  if (line.size() >= 2 && line[line.size() - 2] == '\t' && (line.back() == '0' || line.back() == '1')) return "uci";
  if (has_field(line, "userId") && has_field(line, "movieId")) return "movielens";
  if (has_field(line, "user_id") && has_field(line, "item_id")) return "synthetic";
  RECSYS_FAIL("cannot tell the format of '", path, "': its first line is neither a user_data.csv header ",
              "(user_id,item_id,...), a MovieLens ratings.csv header (userId,movieId,...) nor a UCI ",
              "'sentence<TAB>label' line; pass --format");
}

/// An absolute path, so a later command finds the file from anywhere; "-" (standard input) stays "-".
inline std::string absolute(const std::string& p) {
  return data::is_standard_input(p) ? p : std::filesystem::absolute(p).lexically_normal().string();
}

/// --rating-scale LO:HI and --on-bad-row as RatingRules (usage errors name the option).
inline rec::RatingRules rating_rules(const Args& args) {
  rec::RatingRules r;
  r.on_bad_row = args.choice("on-bad-row", {"error", "skip"}) == "skip" ? rec::BadRows::skip : rec::BadRows::error;
  if (!args.given("rating-scale")) return r;
  const std::string text = args.str("rating-scale");
  const std::size_t colon = text.find(':');
  const auto number = [&](std::string_view part, double& out) {
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), out);
    return ec == std::errc() && end == part.data() + part.size() && !part.empty() && std::isfinite(out);
  };
  double lo = 0, hi = 0;
  if (colon == std::string::npos || !number(std::string_view(text).substr(0, colon), lo) ||
      !number(std::string_view(text).substr(colon + 1), hi))
    throw UsageError("--rating-scale expects LO:HI with two finite numbers (1:5, 0.5:5), got '" + text + "'");
  if (lo > hi) throw UsageError("--rating-scale " + text + ": LO must not exceed HI");
  r.low = lo, r.high = hi;
  return r;
}

}  // namespace data_detail

/// Resolves --data / --users / --items / --format to files and a format (checking that they exist).
inline DataSource resolve_data(const Args& args) {
  namespace fs = std::filesystem;
  using data_detail::absolute;
  DataSource s;
  s.ratings = data_detail::rating_rules(args);
  std::string format = args.choice("format", {"auto", "synthetic", "movielens", "uci"});
  if (args.given("data")) {
    if (args.given("users") || args.given("items")) throw UsageError("give either --data or --users/--items, not both");
    const fs::path dir = args.str("data");
    RECSYS_CHECK(fs::is_directory(dir), "no data folder '", dir.string(), "'");
    s.dir = absolute(dir.string());
    const bool synthetic = fs::is_regular_file(dir / "user_data.csv") && fs::is_regular_file(dir / "item_data.csv");
    const bool movielens = fs::is_regular_file(dir / "ratings.csv") && fs::is_regular_file(dir / "movies.csv");
    bool uci = false;
    for (const char* f : {"amazon_cells_labelled.txt", "imdb_labelled.txt", "yelp_labelled.txt"})
      uci = uci || fs::is_regular_file(dir / f);
    if (format == "auto") format = synthetic ? "synthetic" : movielens ? "movielens" : uci ? "uci" : "";
    RECSYS_CHECK(!format.empty(), "'", dir.string(), "' holds no known data set (user_data.csv + item_data.csv, ",
                 "ratings.csv + movies.csv, or *_labelled.txt)");
    RECSYS_CHECK(format != "synthetic" || synthetic, "'", dir.string(), "' has no user_data.csv and item_data.csv");
    RECSYS_CHECK(format != "movielens" || movielens, "'", dir.string(), "' has no ratings.csv and movies.csv");
    RECSYS_CHECK(format != "uci" || uci, "'", dir.string(), "' has no *_labelled.txt files");
    s.format = format;
    return s;
  }
  if (!args.given("users")) throw UsageError("missing --users FILE (or --data DIR)");
  const std::string users = args.str("users");
  if (args.given("items") && data::is_standard_input(users) && data::is_standard_input(args.str("items")))
    throw UsageError("--users and --items cannot both be read from standard input");
  // A file, "-" or /dev/stdin, a FIFO or a gzip file; a directory or an unreadable file is named as such.
  data::check_input(users);
  if (format == "auto") format = data_detail::sniff(users);
  s.format = format;
  s.users = absolute(users);
  if (format == "uci") {
    if (args.given("items")) throw UsageError("--items does not apply to UCI sentence files");
    return s;
  }
  if (!args.given("items")) throw UsageError("missing --items FILE (the item catalogue of " + users + ")");
  data::check_input(args.str("items"));
  s.items = absolute(args.str("items"));
  return s;
}

/// Reads and cleans the data (see rec/dataset.hpp for what cleaning does), ratings checked first.
inline rec::Dataset load_data(const DataSource& s) {
  namespace fs = std::filesystem;
  const Stage stage("reading and cleaning the data (" + (s.dir.empty() ? s.users : s.dir) + ")");
  try {
    if (s.format == "uci") return s.dir.empty() ? rec::load_uci_sentences(std::vector<std::string>{s.users})
                                                : rec::load_uci_sentences(s.dir);
    const rec::MovieLensOptions movielens{.tags = true, .ratings = s.ratings};
    if (s.format == "movielens") {
      if (!s.dir.empty()) return rec::load_movielens(s.dir, movielens);
      const fs::path folder = fs::path(s.users).parent_path();
      // A MovieLens folder given file by file still gets its tags.csv.
      if (fs::path(s.users).filename() == "ratings.csv" && fs::path(s.items) == folder / "movies.csv")
        return rec::load_movielens(folder.string(), movielens);
      return rec::load_interactions(s.users, s.items,
                                    {.user = "userId", .item = "movieId", .rating = "rating", .timestamp = "timestamp",
                                     .review = ""},
                                    {.id = "movieId", .title = "title", .genres = "genres", .director = "", .actors = "",
                                     .description = ""},
                                    4.0, s.ratings);
    }
    if (!s.dir.empty()) return rec::load_synthetic(s.dir, s.ratings);
    return rec::load_interactions(s.users, s.items, {}, {}, 4.0, s.ratings);
  } catch (const rec::BadRowError& e) {
    throw Error(std::string(e.what()) + " (--rating-scale LO:HI, --on-bad-row skip)");
  }
}

/// FNV-1a over the cleaned interactions (ids, ratings, timestamps): two runs compare only when equal.
inline std::string fingerprint(const rec::Dataset& d) {
  std::uint64_t h = 1469598103934665603ull;
  const auto mix = [&](const void* p, std::size_t n) {
    for (std::size_t k = 0; k < n; ++k) h = (h ^ static_cast<const unsigned char*>(p)[k]) * 1099511628211ull;
  };
  for (const rec::Interaction& r : d.interactions()) {
    const std::string& u = d.user_id(r.user);
    const std::string& i = d.item(r.item).id;
    mix(u.data(), u.size() + 1);  // + the terminating zero, so "1"+"23" differs from "12"+"3"
    mix(i.data(), i.size() + 1);
    mix(&r.rating, sizeof r.rating);
    mix(&r.timestamp, sizeof r.timestamp);
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

/// The cleaning report, indented, after a one-line headline.
inline void print_cleaning(const rec::Dataset& d, const DataSource& s) {
  std::printf("data: %s, %lld users, %lld items, %lld interactions after cleaning\n", s.format.c_str(),
              static_cast<long long>(d.num_users()), static_cast<long long>(d.num_items()),
              static_cast<long long>(d.size()));
  std::string report = d.cleaning().to_string();  // its scale line says when the scale was inferred
  std::string line;
  for (std::size_t k = 0; k <= report.size(); ++k) {
    if (k == report.size() || report[k] == '\n') {
      std::printf("  cleaning: %s\n", line.c_str());
      line.clear();
    } else {
      line += report[k];
    }
  }
}

}  // namespace recsys::cli
