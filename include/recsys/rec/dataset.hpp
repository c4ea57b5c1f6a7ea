// recsys/rec/dataset.hpp — what the recommenders learn from: interactions with dense user/item indices, an item catalogue, loaders (synthetic site, MovieLens, UCI sentences, saved folders) and cleaning with a report.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "recsys/core/error.hpp"
#include "recsys/core/random.hpp"
#include "recsys/data/csv.hpp"
#include "recsys/data/parse_number.hpp"
#include "recsys/io/atomic_file.hpp"
#include "recsys/io/json.hpp"

namespace recsys::rec {

/// One item of the catalogue. Every text field may be empty.
struct Item {
  std::string id;     ///< the original id, as in the source file
  std::string title;  ///< as given, year included ("Toy Story (1995)")
  int year = 0;       ///< from a title ending in " (YYYY)"; 0 when none
  std::vector<std::string> genres;
  std::string director;
  std::vector<std::string> actors;
  std::string description;
  std::string tags;  ///< free-form tags users gave the item (MovieLens tags.csv), " | "-separated

  /// Every text field in one string: what TF-IDF reads.
  std::string text() const {
    std::string out = title;
    const auto add = [&](const std::string& s) {
      if (s.empty()) return;
      out += " . ";
      out += s;
    };
    for (const std::string& g : genres) add(g);
    add(director);
    for (const std::string& a : actors) add(a);
    add(description);
    add(tags);
    return out;
  }
};

/// One user's rating of one item. user and item are dense indices into the Dataset's lists.
struct Interaction {
  std::int64_t user = 0, item = 0;
  double rating = 0;
  std::int64_t timestamp = 0;  ///< Unix seconds (or any increasing order key)
  std::string review;          ///< empty when there is none
};

/// What cleaning found and did. "missing_*" count empty cells in the rows as read (before merging
/// duplicates), so they match what a reader of the file sees; the other counts are actions.
struct CleaningReport {
  std::int64_t rows_read = 0;           ///< interaction rows in the file
  std::int64_t duplicate_rows = 0;      ///< repeated (user, item) rows merged into the first one
  std::int64_t missing_ratings = 0;     ///< empty rating cells
  std::int64_t missing_reviews = 0;     ///< empty review cells (when the file has a review column)
  std::int64_t missing_timestamps = 0;  ///< empty timestamp cells (when the file has a timestamp column)
  std::int64_t dropped_unrated = 0;     ///< rows dropped because no copy of them had a rating
  std::int64_t filled_reviews = 0;      ///< reviews still missing after merging, set to ""
  std::int64_t filled_timestamps = 0;   ///< timestamps still missing after merging, taken from the user's neighbouring row
  std::int64_t item_rows_read = 0;      ///< catalogue rows in the file
  std::int64_t duplicate_items = 0;     ///< repeated item ids merged into the first row
  std::int64_t missing_genres = 0, missing_directors = 0, missing_actors = 0, missing_descriptions = 0;
  std::int64_t unknown_items = 0;  ///< rated items absent from the catalogue, added with empty metadata
  std::int64_t skipped_bad_rows = 0;  ///< rows skipped for a rating that is not finite or outside the scale
  /// The rating scale every kept rating lies in: given by the caller, or the lowest and highest
  /// finite rating of the file (inferred). Both 0 when the file has no finite rating.
  double rating_low = 0, rating_high = 0;
  bool rating_scale_inferred = false;
  /// Where each skipped row was ("'f.csv' line 7, column 3 ('rating'): inf is not a finite rating"),
  /// the first kMaxBadRowNotes of them.
  std::vector<std::string> bad_rows;
  static constexpr std::size_t kMaxBadRowNotes = 100;

  /// (name, count) pairs in a fixed order, for printing and JSON.
  std::vector<std::pair<std::string, std::int64_t>> entries() const {
    return {{"rows_read", rows_read},
            {"duplicate_rows", duplicate_rows},
            {"missing_ratings", missing_ratings},
            {"missing_reviews", missing_reviews},
            {"missing_timestamps", missing_timestamps},
            {"dropped_unrated", dropped_unrated},
            {"filled_reviews", filled_reviews},
            {"filled_timestamps", filled_timestamps},
            {"item_rows_read", item_rows_read},
            {"duplicate_items", duplicate_items},
            {"missing_genres", missing_genres},
            {"missing_directors", missing_directors},
            {"missing_actors", missing_actors},
            {"missing_descriptions", missing_descriptions},
            {"unknown_items", unknown_items},
            {"skipped_bad_rows", skipped_bad_rows}};
  }
  json::Value to_json() const {
    json::Value v = json::Value::object();
    for (const auto& [k, n] : entries()) v[k] = n;
    json::Value scale = json::Value::array();
    scale.push_back(rating_low);
    scale.push_back(rating_high);
    v["rating_scale"] = std::move(scale);
    v["rating_scale_inferred"] = rating_scale_inferred;
    return v;
  }
  /// "1:5", as --rating-scale takes it.
  std::string rating_scale_text() const { return number_text(rating_low) + ":" + number_text(rating_high); }
  /// A few readable lines: "dropped 312 duplicate rows; filled 498 missing reviews, ...".
  std::string to_string() const {
    std::string s = "read " + std::to_string(rows_read) + " interaction rows and " + std::to_string(item_rows_read) +
                    " item rows\n";
    s += "merged " + std::to_string(duplicate_rows) + " duplicate interaction rows and " +
         std::to_string(duplicate_items) + " duplicate item rows\n";
    s += "dropped " + std::to_string(dropped_unrated) + " rows without a rating (" + std::to_string(missing_ratings) +
         " empty rating cells)\n";
    s += "filled " + std::to_string(filled_reviews) + " missing reviews with \"\" and " +
         std::to_string(filled_timestamps) + " missing timestamps from the user's neighbouring row\n";
    s += "filled missing item fields with \"\": " + std::to_string(missing_genres) + " genres, " +
         std::to_string(missing_directors) + " directors, " + std::to_string(missing_actors) + " actors, " +
         std::to_string(missing_descriptions) + " descriptions";
    if (unknown_items > 0) s += "\nadded " + std::to_string(unknown_items) + " rated items missing from the catalogue";
    if (rating_low != 0 || rating_high != 0 || rating_scale_inferred)
      s += "\nratings on the scale " + rating_scale_text() +
           (rating_scale_inferred ? " (inferred: the lowest and highest finite rating)" : " (given)");
    if (skipped_bad_rows > 0) {
      s += "\nskipped " + std::to_string(skipped_bad_rows) + " bad rows (rating not finite or outside the scale)";
      for (const std::string& note : bad_rows) s += "\nskipped " + note;
      if (static_cast<std::int64_t>(bad_rows.size()) < skipped_bad_rows)
        s += "\n... and " + std::to_string(skipped_bad_rows - static_cast<std::int64_t>(bad_rows.size())) + " more";
    }
    return s;
  }

  /// A rating as text: "5", "0.5", "1e+308", "inf".
  static std::string number_text(double v) {
    std::ostringstream os;
    os << v;
    return os.str();
  }
};

/// Interactions plus the catalogue of users and items they index. A subset (a train or test split)
/// keeps the whole catalogue, so indices mean the same thing in every split of one data set.
///
///   rec::Dataset data = rec::load_movielens("../shared/data/movielens-ml-latest-small");
///   std::int64_t u = data.user_index("42");            // the dense index of user "42"
///   for (const rec::Interaction& r : data.interactions()) ...
class Dataset {
 public:
  Dataset() = default;

  /// Checks that every interaction indexes a listed user and item and that ids are unique.
  Dataset(std::vector<std::string> user_ids, std::vector<Item> items, std::vector<Interaction> interactions,
          double like_threshold = 4.0)
      : user_ids_(std::move(user_ids)), items_(std::move(items)), rows_(std::move(interactions)),
        like_threshold_(like_threshold) {
    for (std::size_t u = 0; u < user_ids_.size(); ++u) {
      const bool fresh = user_index_.emplace(user_ids_[u], static_cast<std::int64_t>(u)).second;
      RECSYS_CHECK(fresh, "Dataset: user id '", user_ids_[u], "' is listed twice");
    }
    for (std::size_t i = 0; i < items_.size(); ++i) {
      const bool fresh = item_index_.emplace(items_[i].id, static_cast<std::int64_t>(i)).second;
      RECSYS_CHECK(fresh, "Dataset: item id '", items_[i].id, "' is listed twice");
    }
    for (std::size_t r = 0; r < rows_.size(); ++r) {
      RECSYS_CHECK(rows_[r].user >= 0 && rows_[r].user < num_users(), "Dataset: interaction ", r, " has user index ",
                   rows_[r].user, ", outside [0, ", num_users(), ")");
      RECSYS_CHECK(rows_[r].item >= 0 && rows_[r].item < num_items(), "Dataset: interaction ", r, " has item index ",
                   rows_[r].item, ", outside [0, ", num_items(), ")");
    }
  }

  std::int64_t num_users() const { return static_cast<std::int64_t>(user_ids_.size()); }
  std::int64_t num_items() const { return static_cast<std::int64_t>(items_.size()); }
  /// Number of interactions.
  std::int64_t size() const { return static_cast<std::int64_t>(rows_.size()); }
  bool empty() const { return rows_.empty(); }

  const std::vector<Interaction>& interactions() const { return rows_; }
  const Interaction& operator[](std::int64_t r) const { return rows_[static_cast<std::size_t>(r)]; }
  const std::vector<std::string>& user_ids() const { return user_ids_; }
  const std::vector<Item>& items() const { return items_; }

  /// The original id of user index u.
  const std::string& user_id(std::int64_t u) const {
    check_user(u, "Dataset::user_id");
    return user_ids_[static_cast<std::size_t>(u)];
  }
  /// The item with index i.
  const Item& item(std::int64_t i) const {
    check_item(i, "Dataset::item");
    return items_[static_cast<std::size_t>(i)];
  }
  /// The dense index of a user id, if known.
  std::optional<std::int64_t> find_user(std::string_view id) const {
    const auto it = user_index_.find(std::string(id));
    return it == user_index_.end() ? std::nullopt : std::optional(it->second);
  }
  std::optional<std::int64_t> find_item(std::string_view id) const {
    const auto it = item_index_.find(std::string(id));
    return it == item_index_.end() ? std::nullopt : std::optional(it->second);
  }
  /// The dense index of a user id; throws naming the id when it is unknown.
  std::int64_t user_index(std::string_view id) const {
    const auto u = find_user(id);
    RECSYS_CHECK(u.has_value(), "Dataset: unknown user id '", id, "' (", num_users(), " users)");
    return *u;
  }
  std::int64_t item_index(std::string_view id) const {
    const auto i = find_item(id);
    RECSYS_CHECK(i.has_value(), "Dataset: unknown item id '", id, "' (", num_items(), " items)");
    return *i;
  }
  void check_user(std::int64_t u, const char* op) const {
    RECSYS_CHECK(u >= 0 && u < num_users(), op, ": user index ", u, " is outside [0, ", num_users(), ")");
  }
  void check_item(std::int64_t i, const char* op) const {
    RECSYS_CHECK(i >= 0 && i < num_items(), op, ": item index ", i, " is outside [0, ", num_items(), ")");
  }

  /// Ratings at or above this count as "liked" (4 for five-star scales, 1 for 0/1 labels).
  double like_threshold() const { return like_threshold_; }
  bool liked(const Interaction& r) const { return r.rating >= like_threshold_; }
  /// True when at least one interaction has review text.
  bool has_reviews() const {
    return std::any_of(rows_.begin(), rows_.end(), [](const Interaction& r) { return !r.review.empty(); });
  }
  /// The scale ratings lie on, [low, high], when known (set by the loaders; data built in code has none).
  std::optional<std::pair<double, double>> rating_scale() const { return rating_scale_; }
  void set_rating_scale(double low, double high) {
    RECSYS_CHECK(std::isfinite(low) && std::isfinite(high) && low <= high, "Dataset: rating scale ", low, ":", high,
                 " must be finite with low <= high");
    rating_scale_ = std::pair{low, high};
  }
  /// What cleaning did when this data set was loaded (all zero for data built in code).
  const CleaningReport& cleaning() const { return report_; }
  void set_cleaning(const CleaningReport& report) { report_ = report; }

  /// The interactions at `rows` (in that order), with the same catalogue.
  Dataset subset(std::span<const std::int64_t> rows) const {
    Dataset out = with_interactions({});
    out.rows_.reserve(rows.size());
    for (std::int64_t r : rows) {
      RECSYS_CHECK(r >= 0 && r < size(), "Dataset::subset: row ", r, " is outside [0, ", size(), ")");
      out.rows_.push_back(rows_[static_cast<std::size_t>(r)]);
    }
    return out;
  }
  /// The same catalogue with other interactions (their indices must fit it).
  Dataset with_interactions(std::vector<Interaction> interactions) const {
    Dataset out;
    out.user_ids_ = user_ids_;
    out.items_ = items_;
    out.user_index_ = user_index_;
    out.item_index_ = item_index_;
    out.like_threshold_ = like_threshold_;
    out.report_ = report_;
    out.rating_scale_ = rating_scale_;
    for (const Interaction& r : interactions) {
      check_user(r.user, "Dataset::with_interactions");
      check_item(r.item, "Dataset::with_interactions");
    }
    out.rows_ = std::move(interactions);
    return out;
  }

  /// The interactions of a random `fraction` of the users (seeded), with the whole catalogue:
  /// a small data set for tests that keeps each sampled user's full history.
  Dataset sample_users(double fraction, std::uint64_t seed = 42) const {
    RECSYS_CHECK(fraction > 0 && fraction <= 1, "Dataset::sample_users: fraction must be in (0, 1], got ", fraction);
    std::vector<std::int64_t> users(static_cast<std::size_t>(num_users()));
    for (std::size_t u = 0; u < users.size(); ++u) users[u] = static_cast<std::int64_t>(u);
    Generator gen(seed);
    shuffle(users.begin(), users.end(), gen);
    const auto keep_n = std::max<std::size_t>(1, static_cast<std::size_t>(fraction * static_cast<double>(users.size())));
    std::vector<std::uint8_t> keep(users.size(), 0);
    for (std::size_t k = 0; k < keep_n && k < users.size(); ++k) keep[static_cast<std::size_t>(users[k])] = 1;
    std::vector<std::int64_t> rows;
    for (std::int64_t r = 0; r < size(); ++r)
      if (keep[static_cast<std::size_t>(rows_[static_cast<std::size_t>(r)].user)]) rows.push_back(r);
    return subset(rows);
  }

  /// For each user, the indices of their interactions ordered by time (ties: file order).
  std::vector<std::vector<std::int64_t>> rows_by_user() const {
    std::vector<std::vector<std::int64_t>> out(static_cast<std::size_t>(num_users()));
    for (std::int64_t r = 0; r < size(); ++r) out[static_cast<std::size_t>(rows_[static_cast<std::size_t>(r)].user)].push_back(r);
    for (auto& rows : out)
      std::stable_sort(rows.begin(), rows.end(), [&](std::int64_t a, std::int64_t b) {
        return rows_[static_cast<std::size_t>(a)].timestamp < rows_[static_cast<std::size_t>(b)].timestamp;
      });
    return out;
  }
  /// For each user, a 0/1 flag per item: 1 where the user has an interaction here.
  std::vector<std::vector<std::uint8_t>> seen_matrix() const {
    std::vector<std::vector<std::uint8_t>> out(static_cast<std::size_t>(num_users()),
                                               std::vector<std::uint8_t>(static_cast<std::size_t>(num_items()), 0));
    for (const Interaction& r : rows_) out[static_cast<std::size_t>(r.user)][static_cast<std::size_t>(r.item)] = 1;
    return out;
  }
  /// For each user, the items they have an interaction with, ascending and distinct.
  std::vector<std::vector<std::int64_t>> seen_items() const {
    std::vector<std::vector<std::int64_t>> out(static_cast<std::size_t>(num_users()));
    for (const Interaction& r : rows_) out[static_cast<std::size_t>(r.user)].push_back(r.item);
    for (auto& s : out) {
      std::sort(s.begin(), s.end());
      s.erase(std::unique(s.begin(), s.end()), s.end());
    }
    return out;
  }
  /// Interactions per item.
  std::vector<std::int64_t> item_counts() const {
    std::vector<std::int64_t> out(static_cast<std::size_t>(num_items()), 0);
    for (const Interaction& r : rows_) ++out[static_cast<std::size_t>(r.item)];
    return out;
  }
  /// The mean rating (0 for an empty data set).
  double mean_rating() const {
    double s = 0;
    for (const Interaction& r : rows_) s += r.rating;
    return rows_.empty() ? 0.0 : s / static_cast<double>(rows_.size());
  }

  /// Writes users.csv, items.csv, interactions.csv (reviews optional) and dataset.json into `dir`
  /// (created if needed); load_dataset(dir) reads them back with the same indices.
  void save(const std::string& dir, bool with_reviews = false) const;

 private:
  std::vector<std::string> user_ids_;
  std::vector<Item> items_;
  std::vector<Interaction> rows_;
  std::unordered_map<std::string, std::int64_t> user_index_, item_index_;
  double like_threshold_ = 4.0;
  CleaningReport report_;
  std::optional<std::pair<double, double>> rating_scale_;
};

// ---------------------------------------------------------------------------------------------
// Loading and cleaning. Files are read with data::read_csv (ids as strings, so "007" stays "007");
// only "" counts as missing, since "NA" may well be a title. Cleaning, in order:
//   1. rows repeating a (user, item) pair are merged into the first: its empty cells are filled
//      from the repeats (the synthetic site writes copies whose cells went missing independently);
//   2. rows still without a rating are dropped — a rating cannot be made up;
//   3. an empty review becomes ""; an empty timestamp takes the previous timestamp of the same user
//      in file order (else the next one, else 0), which keeps each user's order of events;
//   4. catalogue rows repeating an item id are merged likewise; empty text fields become "";
//      rated items missing from the catalogue are added with empty metadata.
// Users are numbered in order of first appearance in the interactions, items in catalogue order.
// ---------------------------------------------------------------------------------------------

/// Column names of an interactions file. user, item and rating must exist; timestamp and review
/// are used when the file has them (an empty name ignores the column).
struct InteractionColumns {
  std::string user = "user_id", item = "item_id", rating = "rating", timestamp = "timestamp", review = "review";
};
/// What a loader does with a row whose rating is not finite (inf, -inf, nan) or lies outside the scale.
enum class BadRows : std::uint8_t {
  error,  ///< throw, naming the file, line and column of the first such row (the default)
  skip,   ///< leave the row out; the cleaning report counts it and says where each one was
};

/// A row rejected by the rating checks under BadRows::error (an Error, so callers may add advice).
class BadRowError : public Error {
 public:
  using Error::Error;
};

/// The checks every rating of an interactions file must pass before anything learns from it:
/// finite, and inside [low, high]. Without a scale, the lowest and highest finite rating of the
/// file become the scale (reported as inferred), so only non-finite ratings are rejected.
struct RatingRules {
  std::optional<double> low, high;  ///< both or neither
  BadRows on_bad_row = BadRows::error;
};

/// Column names of a catalogue file. The id must exist; the others are used when the file has them.
struct ItemColumns {
  std::string id = "item_id", title = "title", genres = "genres", director = "director", actors = "actors",
              description = "description";
};

namespace detail {

/// Splits "A|B|C" into its non-empty, trimmed parts.
inline std::vector<std::string> split_list(std::string_view s, char sep = '|') {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    std::string_view part = s.substr(start, end - start);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (!part.empty()) out.emplace_back(part);
    start = end + 1;
  }
  return out;
}

inline std::string join_list(const std::vector<std::string>& parts, const char* sep = "|") {
  std::string out;
  for (std::size_t k = 0; k < parts.size(); ++k) {
    if (k) out += sep;
    out += parts[k];
  }
  return out;
}

/// The year of a title ending in " (YYYY)" (MovieLens and the synthetic site), else 0.
inline int title_year(std::string_view title) {
  while (!title.empty() && (title.back() == ' ' || title.back() == '\r')) title.remove_suffix(1);
  if (title.size() < 6 || title.back() != ')' || title[title.size() - 6] != '(') return 0;
  int y = 0;
  for (std::size_t k = title.size() - 5; k < title.size() - 1; ++k) {
    if (title[k] < '0' || title[k] > '9') return 0;
    y = y * 10 + (title[k] - '0');
  }
  return y;
}

/// The whole file as a string; throws naming `op` and the path when it cannot be read.
inline std::string read_text_file(const std::string& path, const char* op) {
  std::ifstream in(path, std::ios::binary);
  RECSYS_CHECK(in.good(), op, ": cannot open '", path, "'");
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

inline data::Table read_table(const std::string& path, const char* op,
                              std::vector<std::pair<std::string, data::ColumnType>> dtypes) {
  // A file, standard input ("-"), a FIFO or a gzip file; a directory or an unreadable file is named as such.
  const auto open = data::input_opener(path, op);
  data::CsvOptions o;
  o.na_values = {""};
  o.infer_types = false;  // undeclared columns stay text
  // Types only for the columns the header has, so a missing column is reported by its user, by name.
  const std::vector<std::string> names = data::CsvReader(open, path, o).names();
  for (auto& [name, type] : dtypes)
    if (std::find(names.begin(), names.end(), name) != names.end()) o.dtypes.emplace_back(name, type);
  return data::CsvReader(open, path, o).read_all();
}

/// The named column; a file without it is an error naming the columns it has.
inline const data::Column* required_column(const data::Table& t, const std::string& name, const std::string& path,
                                           const char* op) {
  RECSYS_CHECK(!name.empty() && t.has_column(name), op, ": '", path, "' has no column '", name, "' (columns: ",
               join_list(t.names(), ", "), ")");
  return &t.column(name);
}
/// The named column, or nullptr when the name is empty or the file has no such column.
inline const data::Column* optional_column(const data::Table& t, const std::string& name) {
  return !name.empty() && t.has_column(name) ? &t.column(name) : nullptr;
}

/// Catalogue rows merged by id; counts missing cells and duplicates into `report`.
inline std::vector<Item> read_items(const std::string& path, const ItemColumns& c, CleaningReport& report,
                                    const char* op) {
  const data::Table t = read_table(path, op, {{c.id, data::ColumnType::string}});
  const data::Column* id = required_column(t, c.id, path, op);
  const data::Column* title = optional_column(t, c.title);
  const data::Column* genres = optional_column(t, c.genres);
  const data::Column* director = optional_column(t, c.director);
  const data::Column* actors = optional_column(t, c.actors);
  const data::Column* description = optional_column(t, c.description);
  const auto text = [](const data::Column* col, std::int64_t r) {
    return col == nullptr || col->is_missing(r) ? std::string() : std::string(col->string_at(r));
  };
  const auto missing = [](const data::Column* col, std::int64_t r) { return col != nullptr && col->is_missing(r); };
  std::vector<Item> items;
  std::unordered_map<std::string, std::size_t> index;
  report.item_rows_read += t.num_rows();
  for (std::int64_t r = 0; r < t.num_rows(); ++r) {
    RECSYS_CHECK(!id->is_missing(r), op, ": '", path, "' row ", r + 1, " has no item id");
    report.missing_genres += missing(genres, r);
    report.missing_directors += missing(director, r);
    report.missing_actors += missing(actors, r);
    report.missing_descriptions += missing(description, r);
    Item it;
    it.id = std::string(id->string_at(r));
    it.title = text(title, r);
    it.year = title_year(it.title);
    std::string g = text(genres, r);
    if (g == "(no genres listed)") g.clear();  // MovieLens' marker for "none"
    it.genres = split_list(g);
    it.director = text(director, r);
    it.actors = split_list(text(actors, r));
    it.description = text(description, r);
    const auto [pos, fresh] = index.emplace(it.id, items.size());
    if (fresh) {
      items.push_back(std::move(it));
      continue;
    }
    ++report.duplicate_items;
    Item& first = items[pos->second];  // fill what the first copy lacks
    if (first.title.empty()) first.title = it.title, first.year = it.year;
    if (first.genres.empty()) first.genres = it.genres;
    if (first.director.empty()) first.director = it.director;
    if (first.actors.empty()) first.actors = it.actors;
    if (first.description.empty()) first.description = it.description;
  }
  return items;
}

/// One interaction row as read, before cleaning.
struct RawRow {
  std::string user, item;
  std::optional<double> rating;
  std::optional<std::int64_t> timestamp;
  std::optional<std::string> review;
};

/// The line (1-based) where each data row of `rows` (ascending data-row indices) starts in `path`:
/// the file is tokenized again, which is only done when a row is reported (rows span several lines
/// when a quoted field holds line breaks, so the line is not the row number plus one).
inline std::vector<std::int64_t> data_row_lines(const std::string& path, const std::vector<std::int64_t>& rows) {
  data::CsvOptions o;
  o.na_values = {""};
  o.infer_types = false;
  data::CsvReader reader(path, o);
  std::vector<std::int64_t> lines;
  std::vector<std::string_view> fields;
  std::size_t next = 0;
  for (std::int64_t r = 0; next < rows.size() && reader.next_record(fields); ++r)
    if (r == rows[next]) {
      lines.push_back(reader.line());
      ++next;
    }
  lines.resize(rows.size(), 0);
  return lines;
}

/// The rating cells of an interactions file, parsed and checked: a value per row and its state.
struct RatingCells {
  enum State : std::uint8_t { missing, ok, bad };  ///< bad: not finite or off the scale (skipped)
  std::vector<double> value;
  std::vector<std::uint8_t> state;
};

/// Parses the rating column (read as text, so that "nan" is a bad rating and not an empty cell)
/// of `path` (column `column`, 0-based) and checks each rating against `rules`. Fills the report's
/// scale and bad-row notes; throws naming the file, line and column of a cell that is not a number,
/// or of the first bad rating when rules.on_bad_row is error.
inline RatingCells check_ratings(const data::Column& rating, std::int64_t column, const std::string& path,
                                 const RatingRules& rules, CleaningReport& report, const char* op) {
  RECSYS_CHECK(rules.low.has_value() == rules.high.has_value(), op, ": a rating scale needs both ends");
  const std::int64_t n = rating.size();
  const std::string where = "column " + std::to_string(column + 1) + " ('" + rating.name() + "')";
  RatingCells cells;
  cells.value.assign(static_cast<std::size_t>(n), 0.0);
  cells.state.assign(static_cast<std::size_t>(n), RatingCells::missing);
  bool any = false;
  double low = 0, high = 0;
  for (std::int64_t r = 0; r < n; ++r) {
    if (rating.is_missing(r)) continue;
    double v = 0;
    const std::string_view text = rating.string_at(r);
    if (!data::detail::parse_double(text, v)) {
      const std::string shown = text.size() > 40 ? std::string(text.substr(0, 40)) + "..." : std::string(text);
      RECSYS_FAIL(op, ": '", path, "' line ", data_row_lines(path, {r})[0], ", ", where, ": expected a number, got \"",
                  shown, "\"");
    }
    cells.value[static_cast<std::size_t>(r)] = v;
    cells.state[static_cast<std::size_t>(r)] = RatingCells::ok;
    if (!std::isfinite(v)) continue;
    low = any ? std::min(low, v) : v;
    high = any ? std::max(high, v) : v;
    any = true;
  }
  if (rules.low) {
    low = *rules.low, high = *rules.high;
    RECSYS_CHECK(std::isfinite(low) && std::isfinite(high) && low <= high, op, ": the rating scale ",
                 CleaningReport::number_text(low), ":", CleaningReport::number_text(high),
                 " must be finite with low <= high");
  }
  report.rating_low = low, report.rating_high = high, report.rating_scale_inferred = !rules.low;
  std::vector<std::int64_t> bad_rows;
  for (std::int64_t r = 0; r < n; ++r) {
    const double v = cells.value[static_cast<std::size_t>(r)];
    if (cells.state[static_cast<std::size_t>(r)] != RatingCells::ok || (std::isfinite(v) && v >= low && v <= high))
      continue;
    cells.state[static_cast<std::size_t>(r)] = RatingCells::bad;
    bad_rows.push_back(r);
  }
  if (bad_rows.empty()) return cells;
  const auto why = [&](std::int64_t r) {
    const double v = cells.value[static_cast<std::size_t>(r)];
    return std::isfinite(v) ? CleaningReport::number_text(v) + " is outside the rating scale " + report.rating_scale_text()
                            : CleaningReport::number_text(v) + " is not a finite rating";
  };
  if (rules.on_bad_row == BadRows::error) {
    const std::int64_t line = data_row_lines(path, {bad_rows[0]})[0];
    throw BadRowError(::recsys::detail::str_cat(
        op, ": '", path, "' line ", line, ", ", where, ": ", why(bad_rows[0]),
        bad_rows.size() > 1 ? " (" + std::to_string(bad_rows.size()) + " bad rows in all)" : std::string(),
        "; fix the data, give the rating scale, or skip bad rows"));
  }
  report.skipped_bad_rows += static_cast<std::int64_t>(bad_rows.size());
  const std::vector<std::int64_t> noted(
      bad_rows.begin(), bad_rows.begin() + static_cast<std::ptrdiff_t>(std::min(bad_rows.size(), CleaningReport::kMaxBadRowNotes)));
  const std::vector<std::int64_t> lines = data_row_lines(path, noted);
  for (std::size_t k = 0; k < noted.size(); ++k)
    report.bad_rows.push_back("'" + path + "' line " + std::to_string(lines[k]) + ", " + where + ": " + why(noted[k]));
  return cells;
}

/// Reads, merges and cleans the interactions file against `items` (extended with unknown items).
inline Dataset read_interactions(const std::string& path, const InteractionColumns& c, std::vector<Item> items,
                                 CleaningReport report, double like_threshold, const char* op,
                                 const RatingRules& rules = {}) {
  std::vector<std::pair<std::string, data::ColumnType>> dtypes{{c.user, data::ColumnType::string},
                                                               {c.item, data::ColumnType::string},
                                                               {c.rating, data::ColumnType::string}};
  if (!c.timestamp.empty()) dtypes.emplace_back(c.timestamp, data::ColumnType::int64);
  const data::Table t = read_table(path, op, std::move(dtypes));
  const data::Column* user = required_column(t, c.user, path, op);
  const data::Column* item = required_column(t, c.item, path, op);
  const data::Column* rating = required_column(t, c.rating, path, op);
  const data::Column* timestamp = optional_column(t, c.timestamp);
  const data::Column* review = optional_column(t, c.review);

  // 0. Ratings finite and on the scale, before anything learns from them.
  const RatingCells ratings = check_ratings(*rating, t.column_index(c.rating), path, rules, report, op);

  // 1. Merge repeated (user, item) pairs into their first row.
  std::vector<RawRow> rows;
  std::unordered_map<std::string, std::size_t> first_of;
  report.rows_read += t.num_rows();
  for (std::int64_t r = 0; r < t.num_rows(); ++r) {
    const std::uint8_t cell = ratings.state[static_cast<std::size_t>(r)];
    if (cell == RatingCells::bad) continue;
    RECSYS_CHECK(!user->is_missing(r) && !item->is_missing(r), op, ": '", path, "' data row ", r + 1,
                 " has no user or item id");
    RawRow row{std::string(user->string_at(r)), std::string(item->string_at(r)), {}, {}, {}};
    if (cell == RatingCells::ok) row.rating = ratings.value[static_cast<std::size_t>(r)];
    else ++report.missing_ratings;
    if (timestamp) {
      if (!timestamp->is_missing(r)) row.timestamp = timestamp->int_at(r);
      else ++report.missing_timestamps;
    }
    if (review) {
      if (!review->is_missing(r)) row.review = std::string(review->string_at(r));
      else ++report.missing_reviews;
    }
    std::string key = row.user;
    key += '\x1f';  // a unit separator cannot occur in a CSV id we split on
    key += row.item;
    const auto [pos, fresh] = first_of.emplace(std::move(key), rows.size());
    if (fresh) {
      rows.push_back(std::move(row));
      continue;
    }
    ++report.duplicate_rows;
    RawRow& first = rows[pos->second];
    if (!first.rating) first.rating = row.rating;
    if (!first.timestamp) first.timestamp = row.timestamp;
    if (!first.review) first.review = std::move(row.review);
  }

  // 2.-3. Drop unrated rows, fill reviews and timestamps.
  std::unordered_map<std::string, std::int64_t> user_of, item_of;
  for (std::size_t i = 0; i < items.size(); ++i) item_of.emplace(items[i].id, static_cast<std::int64_t>(i));
  std::vector<std::string> user_ids;
  std::vector<Interaction> out;
  std::vector<std::uint8_t> had_time;
  out.reserve(rows.size());
  for (RawRow& row : rows) {
    if (!row.rating) {
      ++report.dropped_unrated;
      continue;
    }
    const auto [u, new_user] = user_of.emplace(row.user, static_cast<std::int64_t>(user_ids.size()));
    if (new_user) user_ids.push_back(row.user);
    auto [i, new_item] = item_of.emplace(row.item, static_cast<std::int64_t>(items.size()));
    if (new_item) {
      ++report.unknown_items;
      Item bare;
      bare.id = row.item;
      items.push_back(std::move(bare));
    }
    Interaction x;
    x.user = u->second;
    x.item = i->second;
    x.rating = *row.rating;
    x.timestamp = row.timestamp.value_or(0);
    had_time.push_back(row.timestamp.has_value() || !timestamp ? 1 : 0);
    if (row.review) x.review = std::move(*row.review);
    else if (review) ++report.filled_reviews;
    out.push_back(std::move(x));
  }
  if (timestamp) {
    // Previous present timestamp of the same user in file order, else the next one, else 0.
    std::vector<std::int64_t> last(user_ids.size(), 0);
    std::vector<std::uint8_t> has_last(user_ids.size(), 0);
    std::vector<std::size_t> pending;  // rows still waiting for a later timestamp
    for (std::size_t r = 0; r < out.size(); ++r) {
      const auto u = static_cast<std::size_t>(out[r].user);
      if (had_time[r]) {
        last[u] = out[r].timestamp;
        has_last[u] = 1;
        continue;
      }
      ++report.filled_timestamps;
      if (has_last[u]) out[r].timestamp = last[u];
      else pending.push_back(r);
    }
    // Rows before a user's first timestamp take the next one: one backward pass keeps, per user,
    // the nearest later timestamp (a scan forward from each pending row was quadratic when a whole
    // column is empty).
    std::fill(has_last.begin(), has_last.end(), 0);
    std::size_t p = pending.size();
    for (std::size_t r = out.size(); r-- > 0 && p > 0;) {
      const auto u = static_cast<std::size_t>(out[r].user);
      if (pending[p - 1] == r) {
        --p;
        if (has_last[u]) out[r].timestamp = last[u];
        continue;
      }
      if (had_time[r]) {
        last[u] = out[r].timestamp;
        has_last[u] = 1;
      }
    }
  }
  Dataset d(std::move(user_ids), std::move(items), std::move(out), like_threshold);
  d.set_cleaning(report);
  if (!report.rating_scale_inferred || !d.empty())  // kept rows have finite ratings, so the inferred scale is real
    d.set_rating_scale(report.rating_low, report.rating_high);
  return d;
}

}  // namespace detail

/// Loads an interactions file and a catalogue file and cleans them (see above). The defaults read
/// the synthetic site's user_data.csv (user_id,item_id,rating,review,timestamp) and item_data.csv
/// (item_id,title,genres,director,actors,description), genres and actors '|'-separated.
/// Ratings are checked against `ratings` first (see RatingRules).
inline Dataset load_interactions(const std::string& interactions_csv, const std::string& items_csv,
                                 const InteractionColumns& columns = {}, const ItemColumns& item_columns = {},
                                 double like_threshold = 4.0, const RatingRules& ratings = {}) {
  CleaningReport report;
  std::vector<Item> items = detail::read_items(items_csv, item_columns, report, "load_interactions");
  return detail::read_interactions(interactions_csv, columns, std::move(items), report, like_threshold,
                                   "load_interactions", ratings);
}

/// The synthetic site written by data::write_synthetic (or `recsys generate`) in `dir`.
inline Dataset load_synthetic(const std::string& dir, const RatingRules& ratings = {}) {
  namespace fs = std::filesystem;
  return load_interactions((fs::path(dir) / "user_data.csv").string(), (fs::path(dir) / "item_data.csv").string(), {},
                           {}, 4.0, ratings);
}

/// MovieLens loading options.
struct MovieLensOptions {
  bool tags = true;  ///< add tags.csv's tags (when the file exists) to each movie's text
  RatingRules ratings = {};  ///< checks on ratings.csv's ratings
};

/// A MovieLens folder (ml-latest-small and friends): ratings.csv (userId,movieId,rating,timestamp)
/// and movies.csv (movieId,title,genres), genres "A|B" ("(no genres listed)" for none), titles
/// ending in " (year)"; tags.csv (userId,movieId,tag,timestamp) enriches the items' text.
inline Dataset load_movielens(const std::string& dir, const MovieLensOptions& options = {}) {
  namespace fs = std::filesystem;
  const fs::path root(dir);
  RECSYS_CHECK(fs::is_directory(root), "load_movielens: no folder '", dir, "'");
  CleaningReport report;
  std::vector<Item> items = detail::read_items((root / "movies.csv").string(),
                                               {.id = "movieId", .title = "title", .genres = "genres", .director = "",
                                                .actors = "", .description = ""},
                                               report, "load_movielens");
  const fs::path tags_csv = root / "tags.csv";
  if (options.tags && fs::is_regular_file(tags_csv)) {
    const data::Table tags = detail::read_table(tags_csv.string(), "load_movielens",
                                                {{"movieId", data::ColumnType::string}, {"tag", data::ColumnType::string}});
    std::unordered_map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < items.size(); ++i) index.emplace(items[i].id, i);
    const data::Column& movie = tags.column(tags.column_index("movieId", "load_movielens"));
    const data::Column& tag = tags.column(tags.column_index("tag", "load_movielens"));
    for (std::int64_t r = 0; r < tags.num_rows(); ++r) {
      if (movie.is_missing(r) || tag.is_missing(r)) continue;
      const auto it = index.find(std::string(movie.string_at(r)));
      if (it == index.end()) continue;
      std::string& t = items[it->second].tags;
      if (!t.empty()) t += " | ";
      t += tag.string_at(r);
    }
  }
  return detail::read_interactions((root / "ratings.csv").string(),
                                   {.user = "userId", .item = "movieId", .rating = "rating", .timestamp = "timestamp",
                                    .review = ""},
                                   std::move(items), report, 4.0, "load_movielens", options.ratings);
}

/// One UCI "Sentiment Labelled Sentences" file (sentence<TAB>label, no header, quoting off: the IMDB
/// file holds stray quotes). Each sentence is one interaction of the user named `source` with an
/// item "<source>:<line>" whose title is the sentence; review = the sentence, rating = the 0/1
/// label, and like_threshold 1, so liked() is the label. Timestamps are line numbers.
inline Dataset load_uci_sentences(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  RECSYS_CHECK(!paths.empty(), "load_uci_sentences: no files given");
  std::vector<std::string> users;
  std::vector<Item> items;
  std::vector<Interaction> rows;
  CleaningReport report;
  for (const std::string& path : paths) {
    const auto open = data::input_opener(path, "load_uci_sentences");
    std::string source = fs::path(path).stem().string();
    if (const auto cut = source.find("_labelled"); cut != std::string::npos) source.resize(cut);
    const auto user = static_cast<std::int64_t>(users.size());
    users.push_back(source);
    data::CsvOptions o;
    o.delimiter = '\t';
    o.quoting = false;
    o.header = false;
    o.names = {"sentence", "label"};
    o.na_values = {""};
    o.dtypes = {{"sentence", data::ColumnType::string}, {"label", data::ColumnType::int64}};
    const data::Table t = data::CsvReader(open, path, o).read_all();
    const data::Column& sentence = t.column("sentence");
    const data::Column& label = t.column("label");
    report.rows_read += t.num_rows();
    for (std::int64_t r = 0; r < t.num_rows(); ++r) {
      RECSYS_CHECK(!label.is_missing(r) && (label.int_at(r) == 0 || label.int_at(r) == 1), "load_uci_sentences: '",
                   path, "' line ", r + 1, " has label ", label.is_missing(r) ? "(none)" : std::to_string(label.int_at(r)),
                   "; expected 0 or 1");
      Item it;
      it.id = source + ":" + std::to_string(r + 1);
      if (!sentence.is_missing(r)) it.title = std::string(sentence.string_at(r));
      while (!it.title.empty() && (it.title.back() == ' ' || it.title.back() == '\r')) it.title.pop_back();
      if (sentence.is_missing(r)) ++report.missing_reviews, ++report.filled_reviews;
      Interaction x;
      x.user = user;
      x.item = static_cast<std::int64_t>(items.size());
      x.rating = static_cast<double>(label.int_at(r));
      x.timestamp = r + 1;
      x.review = it.title;
      items.push_back(std::move(it));
      rows.push_back(std::move(x));
    }
  }
  report.rating_low = 0, report.rating_high = 1;  // labels, checked above
  Dataset d(std::move(users), std::move(items), std::move(rows), 1.0);
  d.set_cleaning(report);
  d.set_rating_scale(0, 1);
  return d;
}

/// The UCI files of one folder: amazon_cells, imdb and yelp, in that order (those present).
inline Dataset load_uci_sentences(const std::string& dir) {
  namespace fs = std::filesystem;
  RECSYS_CHECK(fs::is_directory(dir), "load_uci_sentences: no folder '", dir, "'");
  std::vector<std::string> paths;
  for (const char* name : {"amazon_cells_labelled.txt", "imdb_labelled.txt", "yelp_labelled.txt"})
    if (fs::is_regular_file(fs::path(dir) / name)) paths.push_back((fs::path(dir) / name).string());
  RECSYS_CHECK(!paths.empty(), "load_uci_sentences: '", dir, "' holds none of amazon_cells_labelled.txt, ",
               "imdb_labelled.txt, yelp_labelled.txt");
  return load_uci_sentences(paths);
}

inline void Dataset::save(const std::string& dir, bool with_reviews) const {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  const fs::path root(dir);
  {
    data::CsvWriter w((root / "users.csv").string());
    w.row("user_id");
    for (const std::string& u : user_ids_) w.row(u);
    w.close();
  }
  {
    data::CsvWriter w((root / "items.csv").string());
    w.row("item_id", "title", "genres", "director", "actors", "description", "tags");
    for (const Item& it : items_)
      w.row(it.id, it.title, detail::join_list(it.genres), it.director, detail::join_list(it.actors), it.description,
            it.tags);
    w.close();
  }
  {
    data::CsvWriter w((root / "interactions.csv").string());
    if (with_reviews) w.row("user_id", "item_id", "rating", "timestamp", "review");
    else w.row("user_id", "item_id", "rating", "timestamp");
    for (const Interaction& r : rows_) {
      w.field(user_ids_[static_cast<std::size_t>(r.user)]).field(items_[static_cast<std::size_t>(r.item)].id);
      w.field(r.rating).field(r.timestamp);
      if (with_reviews) w.field(r.review);
      w.end_row();
    }
    w.close();
  }
  json::Value meta = json::Value::object();
  meta["like_threshold"] = like_threshold_;
  if (rating_scale_) {
    json::Value scale = json::Value::array();
    scale.push_back(rating_scale_->first);
    scale.push_back(rating_scale_->second);
    meta["rating_scale"] = std::move(scale);
  }
  meta["users"] = num_users();
  meta["items"] = num_items();
  meta["interactions"] = size();
  meta["cleaning"] = report_.to_json();
  io::write_file_atomic((root / "dataset.json").string(), json::dump(meta, 2) + "\n");
}

/// Reads a folder written by Dataset::save: the same users, items (same indices) and interactions.
inline Dataset load_dataset(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path root(dir);
  RECSYS_CHECK(fs::is_directory(root), "load_dataset: no folder '", dir, "'");
  const fs::path meta_path = root / "dataset.json";
  RECSYS_CHECK(fs::is_regular_file(meta_path), "load_dataset: no file '", meta_path.string(), "'");
  json::Value meta;
  try {
    meta = json::parse(detail::read_text_file(meta_path.string(), "load_dataset"));
  } catch (const Error& e) {
    RECSYS_FAIL("load_dataset: '", meta_path.string(), "': ", e.what());
  }
  CleaningReport unused;
  std::vector<Item> items = detail::read_items((root / "items.csv").string(), {}, unused, "load_dataset");
  {
    const data::Table t = detail::read_table((root / "items.csv").string(), "load_dataset",
                                             {{"item_id", data::ColumnType::string}});
    if (t.has_column("tags")) {
      const data::Column& tags = t.column("tags");
      for (std::size_t i = 0; i < items.size(); ++i)
        if (!tags.is_missing(static_cast<std::int64_t>(i))) items[i].tags = std::string(tags.string_at(static_cast<std::int64_t>(i)));
    }
  }
  const data::Table users = detail::read_table((root / "users.csv").string(), "load_dataset",
                                               {{"user_id", data::ColumnType::string}});
  const data::Column& uid = users.column(users.column_index("user_id", "load_dataset"));
  std::vector<std::string> user_ids;
  for (std::int64_t r = 0; r < users.num_rows(); ++r) user_ids.emplace_back(uid.string_at(r));
  const double like = meta.at("like_threshold").as_double();
  Dataset catalogue(user_ids, std::move(items), {}, like);
  const std::string rows_path = (root / "interactions.csv").string();
  const data::Table t = detail::read_table(rows_path, "load_dataset",
                                           {{"user_id", data::ColumnType::string},
                                            {"item_id", data::ColumnType::string},
                                            {"rating", data::ColumnType::float64},
                                            {"timestamp", data::ColumnType::int64}});
  const data::Column* user = detail::required_column(t, "user_id", rows_path, "load_dataset");
  const data::Column* item = detail::required_column(t, "item_id", rows_path, "load_dataset");
  const data::Column* rating = detail::required_column(t, "rating", rows_path, "load_dataset");
  const data::Column* timestamp = detail::required_column(t, "timestamp", rows_path, "load_dataset");
  const data::Column* review = detail::optional_column(t, "review");
  std::vector<Interaction> rows;
  rows.reserve(static_cast<std::size_t>(t.num_rows()));
  for (std::int64_t r = 0; r < t.num_rows(); ++r) {
    RECSYS_CHECK(!user->is_missing(r) && !item->is_missing(r) && !rating->is_missing(r) && !timestamp->is_missing(r),
                 "load_dataset: '", rows_path, "' data row ", r + 1, " has an empty cell");
    Interaction x;
    x.user = catalogue.user_index(user->string_at(r));
    x.item = catalogue.item_index(item->string_at(r));
    x.rating = rating->float_at(r);
    x.timestamp = timestamp->int_at(r);
    if (review && !review->is_missing(r)) x.review = std::string(review->string_at(r));
    rows.push_back(std::move(x));
  }
  Dataset out = catalogue.with_interactions(std::move(rows));
  if (const json::Value* scale = meta.find("rating_scale"); scale && scale->is_array() && scale->size() == 2)
    out.set_rating_scale(scale->at(0).as_double(), scale->at(1).as_double());
  return out;
}

}  // namespace recsys::rec
