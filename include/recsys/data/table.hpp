// recsys/data/table.hpp — Table: a small columnar data frame (select, filter, dedup, fillna, sort, group-by, join).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "recsys/core/factory.hpp"
#include "recsys/core/tensor.hpp"
#include "recsys/data/column.hpp"

namespace recsys::data {

class GroupBy;

namespace detail {

inline std::uint64_t mix64(std::uint64_t x) {  // splitmix64 finalizer: spreads bits before bucketing
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/// Hash of one cell; missing cells all hash alike and -0.0 hashes like 0.0 (they compare equal).
inline std::uint64_t hash_cell(const Column& c, std::int64_t i) {
  if (c.is_missing(i)) return 0x9E3779B97F4A7C15ull;
  switch (c.type()) {
    case ColumnType::int64: return mix64(static_cast<std::uint64_t>(c.int_at(i)));
    case ColumnType::float64: {
      const double v = c.float_at(i) == 0.0 ? 0.0 : c.float_at(i);
      std::uint64_t bits;
      std::memcpy(&bits, &v, sizeof bits);
      return mix64(bits);
    }
    case ColumnType::string: return std::hash<std::string_view>{}(c.string_at(i));
  }
  return 0;
}

/// Three-way comparison of two present cells of the same type (strings by bytes, i.e. code points).
inline int compare_present(const Column& a, std::int64_t i, const Column& b, std::int64_t j) {
  switch (a.type()) {
    case ColumnType::int64: return a.int_at(i) < b.int_at(j) ? -1 : (b.int_at(j) < a.int_at(i) ? 1 : 0);
    case ColumnType::float64: return a.float_at(i) < b.float_at(j) ? -1 : (b.float_at(j) < a.float_at(i) ? 1 : 0);
    case ColumnType::string: {
      const int c = a.string_at(i).compare(b.string_at(j));
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
  }
  return 0;
}

/// Equality where a missing cell equals another missing cell (pandas' rule for duplicates).
inline bool cells_equal(const Column& a, std::int64_t i, const Column& b, std::int64_t j) {
  const bool ma = a.is_missing(i), mb = b.is_missing(j);
  if (ma || mb) return ma && mb;
  return compare_present(a, i, b, j) == 0;
}

/// Rows of `cols` hashed and compared as one key.
struct RowKey {
  std::vector<const Column*> cols;
  std::uint64_t hash(std::int64_t row) const {
    std::uint64_t h = 0x12345678ull;
    for (const Column* c : cols) h = mix64(h ^ hash_cell(*c, row));
    return h;
  }
  bool equal(std::int64_t a, const RowKey& other, std::int64_t b) const {
    for (std::size_t k = 0; k < cols.size(); ++k)
      if (!cells_equal(*cols[k], a, *other.cols[k], b)) return false;
    return true;
  }
  bool any_missing(std::int64_t row) const {
    for (const Column* c : cols)
      if (c->is_missing(row)) return true;
    return false;
  }
};

}  // namespace detail

/// One sort key: a column name and its direction.
struct SortKey {
  std::string column;
  bool ascending = true;
};

/// A columnar table: named columns of equal length. Operations return new tables (the source is
/// unchanged), like pandas without inplace=True. Missing cells follow pandas' rules: they sort last,
/// are skipped by mean(), compare equal to each other in drop_duplicates, and never match in a join.
class Table {
 public:
  Table() = default;
  /// A table of the given columns (equal lengths, unique names).
  explicit Table(std::vector<Column> columns) {
    // One hash set for the names: add_column's search per column would be quadratic in the width.
    std::unordered_set<std::string_view> names;
    names.reserve(columns.size() * 2);
    for (const Column& c : columns) RECSYS_CHECK(names.insert(c.name()).second, "Table: duplicate column name '", c.name(), "'");
    for (Column& c : columns) {
      RECSYS_CHECK(columns_.empty() || c.size() == rows_, "Table: column '", c.name(), "' has ", c.size(),
                   " rows, the table has ", rows_);
      rows_ = c.size();
      columns_.push_back(std::move(c));
    }
  }

  std::int64_t num_rows() const { return rows_; }
  std::int64_t num_columns() const { return static_cast<std::int64_t>(columns_.size()); }
  const std::vector<Column>& columns() const { return columns_; }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const Column& c : columns_) out.push_back(c.name());
    return out;
  }
  bool has_column(std::string_view name) const { return find(name) >= 0; }
  /// Position of column `name`; the error names `op` and lists the columns there are.
  std::int64_t column_index(std::string_view name, const char* op = "Table") const {
    const std::int64_t i = find(name);
    RECSYS_CHECK(i >= 0, op, ": no column '", name, "' (columns: ", joined_names(), ")");
    return i;
  }
  const Column& column(std::string_view name) const { return columns_[static_cast<std::size_t>(column_index(name))]; }
  Column& column(std::string_view name) { return columns_[static_cast<std::size_t>(column_index(name))]; }
  const Column& column(std::int64_t i) const {
    RECSYS_CHECK(i >= 0 && i < num_columns(), "Table: column index ", i, " out of range for ", num_columns(),
                 " columns");
    return columns_[static_cast<std::size_t>(i)];
  }

  /// Appends a column (its length must equal num_rows() unless the table has no columns yet).
  void add_column(Column c) {
    RECSYS_CHECK(!has_column(c.name()), "Table: duplicate column name '", c.name(), "'");
    RECSYS_CHECK(columns_.empty() || c.size() == rows_, "Table: column '", c.name(), "' has ", c.size(),
                 " rows, the table has ", rows_);
    rows_ = c.size();
    columns_.push_back(std::move(c));
  }
  /// Replaces the column of the same name (or appends it).
  void set_column(Column c) {
    const std::int64_t i = find(c.name());
    if (i < 0) return add_column(std::move(c));
    RECSYS_CHECK(c.size() == rows_ || columns_.size() == 1, "Table: column '", c.name(), "' has ", c.size(),
                 " rows, the table has ", rows_);
    rows_ = c.size();
    columns_[static_cast<std::size_t>(i)] = std::move(c);
  }

  /// The named columns, in the order given.
  Table select(const std::vector<std::string>& names) const {
    Table out;
    for (const std::string& n : names) out.add_column(columns_[static_cast<std::size_t>(column_index(n, "select"))]);
    out.rows_ = rows_;
    return out;
  }
  /// Renames columns by (old, new) pairs.
  Table rename(const std::vector<std::pair<std::string, std::string>>& mapping) const {
    Table out = *this;
    for (const auto& [from, to] : mapping)
      out.columns_[static_cast<std::size_t>(column_index(from, "rename"))].set_name(to);
    for (std::size_t i = 0; i < out.columns_.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        RECSYS_CHECK(out.columns_[i].name() != out.columns_[j].name(), "rename: two columns would be named '",
                     out.columns_[i].name(), "'");
    return out;
  }

  /// The rows at `rows`, in that order.
  Table take(const std::vector<std::int64_t>& rows) const {
    Table out;
    for (const Column& c : columns_) out.columns_.push_back(c.take(rows));
    out.rows_ = static_cast<std::int64_t>(rows.size());
    return out;
  }
  /// The rows where keep[i] is non-zero.
  Table filter(const std::vector<std::uint8_t>& keep) const {
    RECSYS_CHECK(static_cast<std::int64_t>(keep.size()) == rows_, "filter: mask has ", keep.size(),
                 " entries, the table has ", rows_, " rows");
    std::vector<std::int64_t> rows;
    for (std::int64_t i = 0; i < rows_; ++i)
      if (keep[static_cast<std::size_t>(i)]) rows.push_back(i);
    return take(rows);
  }
  /// The rows for which pred(row index) is true.
  Table filter(const std::function<bool(std::int64_t)>& pred) const {
    std::vector<std::int64_t> rows;
    for (std::int64_t i = 0; i < rows_; ++i)
      if (pred(i)) rows.push_back(i);
    return take(rows);
  }
  /// The first n rows.
  Table head(std::int64_t n = 5) const {
    std::vector<std::int64_t> rows(static_cast<std::size_t>(std::clamp<std::int64_t>(n, 0, rows_)));
    std::iota(rows.begin(), rows.end(), 0);
    return take(rows);
  }

  /// Drops rows equal to an earlier row on `subset` (default: all columns), keeping the first
  /// (pandas drop_duplicates(keep='first')). Missing cells count as equal to each other.
  Table drop_duplicates(const std::vector<std::string>& subset = {}) const {
    const detail::RowKey key = row_key(subset, "drop_duplicates");
    std::unordered_multimap<std::uint64_t, std::int64_t> seen;
    seen.reserve(static_cast<std::size_t>(rows_));
    std::vector<std::int64_t> keep;
    for (std::int64_t i = 0; i < rows_; ++i) {
      const std::uint64_t h = key.hash(i);
      bool dup = false;
      for (auto [it, end] = seen.equal_range(h); it != end && !dup; ++it) dup = key.equal(it->second, key, i);
      if (!dup) {
        seen.emplace(h, i);
        keep.push_back(i);
      }
    }
    return take(keep);
  }

  /// Fills missing cells per column: (column, value) pairs. An int64 column filled with a double
  /// becomes float64 (pandas does the same); a value of another kind is an error.
  Table fillna(const std::vector<std::pair<std::string, Value>>& values) const {
    Table out = *this;
    for (const auto& [name, v] : values) {
      Column& src = out.columns_[static_cast<std::size_t>(column_index(name, "fillna"))];
      RECSYS_CHECK(!std::holds_alternative<std::monostate>(v), "fillna: the value for column '", name,
                   "' is itself missing");
      const bool ok = (src.type() == ColumnType::string) == std::holds_alternative<std::string>(v);
      RECSYS_CHECK(ok, "fillna: column '", name, "' is ", src.type(), "; cannot fill it with a ",
                   Column::value_type_name(v));
      if (src.type() == ColumnType::int64 && std::holds_alternative<double>(v)) src = src.to_float64();
      Column filled(name, src.type());
      filled.reserve(rows_);
      for (std::int64_t i = 0; i < rows_; ++i) src.is_missing(i) ? filled.push_value(v) : filled.push_from(src, i);
      src = std::move(filled);
    }
    return out;
  }

  /// Drops rows with a missing cell in `subset` (default: any column).
  Table dropna(const std::vector<std::string>& subset = {}) const {
    const detail::RowKey key = row_key(subset, "dropna");
    std::vector<std::int64_t> keep;
    for (std::int64_t i = 0; i < rows_; ++i)
      if (!key.any_missing(i)) keep.push_back(i);
    return take(keep);
  }

  /// Row order after a stable sort by `keys` (missing cells last in either direction).
  std::vector<std::int64_t> sort_order(const std::vector<SortKey>& keys) const {
    RECSYS_CHECK(!keys.empty(), "sort: no sort keys given");
    std::vector<std::pair<const Column*, bool>> cols;
    for (const SortKey& k : keys)
      cols.emplace_back(&columns_[static_cast<std::size_t>(column_index(k.column, "sort"))], k.ascending);
    std::vector<std::int64_t> order(static_cast<std::size_t>(rows_));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
      for (const auto& [c, asc] : cols) {
        const bool ma = c->is_missing(a), mb = c->is_missing(b);
        if (ma || mb) {
          if (ma && mb) continue;
          return mb;  // present before missing
        }
        const int r = detail::compare_present(*c, a, *c, b);
        if (r != 0) return asc ? r < 0 : r > 0;
      }
      return false;
    });
    return order;
  }
  /// Stable sort by `keys` (pandas sort_values(kind='stable', na_position='last')).
  Table sort(const std::vector<SortKey>& keys) const { return take(sort_order(keys)); }

  /// Groups rows by `keys`; see GroupBy. The table must outlive the GroupBy.
  GroupBy group_by(const std::vector<std::string>& keys) const;

  /// SQL inner join on the `on` columns: for each left row in order, its right matches in order
  /// (pandas merge(how='inner')). Clashing non-key names get the suffixes "_x" (left) and "_y".
  Table inner_join(const Table& right, const std::vector<std::string>& on) const { return join(right, on, false); }
  /// Left join: every left row; right columns are missing where no right row matches.
  Table left_join(const Table& right, const std::vector<std::string>& on) const { return join(right, on, true); }

  /// Numeric columns (default: all) as a (rows, columns) tensor. Missing cells are an error:
  /// fillna() or dropna() first. An integer dtype needs int64 columns.
  Tensor to_tensor(const std::vector<std::string>& names = {}, DType dtype = DType::float32) const {
    std::vector<const Column*> cols;
    if (names.empty()) {
      for (const Column& c : columns_) cols.push_back(&c);
    } else {
      for (const std::string& n : names)
        cols.push_back(&columns_[static_cast<std::size_t>(column_index(n, "to_tensor"))]);
    }
    for (const Column* c : cols) {
      RECSYS_CHECK(c->type() != ColumnType::string, "to_tensor: column '", c->name(), "' is a string column");
      RECSYS_CHECK(is_floating(dtype) || c->type() == ColumnType::int64, "to_tensor: column '", c->name(),
                   "' is float64 and cannot become ", dtype, " exactly");
      const std::int64_t n_missing = c->missing_count();
      RECSYS_CHECK(n_missing == 0, "to_tensor: column '", c->name(), "' has ", n_missing,
                   " missing values; fillna() or dropna() first");
    }
    const auto ncols = static_cast<std::int64_t>(cols.size());
    Tensor t = Tensor::empty({rows_, ncols}, dtype);
    visit_dtype(dtype, [&]<class T>() {
      T* out = t.data<T>();
      for (std::int64_t j = 0; j < ncols; ++j) {
        const Column& c = *cols[static_cast<std::size_t>(j)];
        for (std::int64_t i = 0; i < rows_; ++i)
          out[i * ncols + j] =
              c.type() == ColumnType::int64 ? static_cast<T>(c.int_at(i)) : static_cast<T>(c.float_at(i));
      }
    });
    return t;
  }
  /// One numeric column as a 1-D tensor.
  Tensor column_tensor(const std::string& name, DType dtype = DType::float32) const {
    return to_tensor({name}, dtype).view({rows_});
  }

  /// The first `max_rows` rows as aligned text (for printing and examples).
  std::string to_string(std::int64_t max_rows = 10) const {
    std::vector<std::vector<std::string>> cells(columns_.size());
    const std::int64_t n = std::min(max_rows, rows_);
    std::vector<std::size_t> width(columns_.size());
    for (std::size_t j = 0; j < columns_.size(); ++j) {
      cells[j].push_back(columns_[j].name());
      for (std::int64_t i = 0; i < n; ++i) cells[j].push_back(cell_text(columns_[j], i));
      for (const std::string& s : cells[j]) width[j] = std::max(width[j], s.size());
    }
    std::ostringstream os;
    for (std::int64_t i = 0; i <= n; ++i) {
      for (std::size_t j = 0; j < columns_.size(); ++j) {
        const std::string& s = cells[j][static_cast<std::size_t>(i)];
        os << (j ? "  " : "") << std::string(width[j] - std::min(width[j], s.size()), ' ') << s;
      }
      os << '\n';
    }
    if (n < rows_) os << "... (" << rows_ << " rows)\n";
    return os.str();
  }

  /// The key made of columns `names` (default: all), for hashing rows.
  detail::RowKey row_key(const std::vector<std::string>& names, const char* op) const {
    detail::RowKey key;
    if (names.empty()) {
      for (const Column& c : columns_) key.cols.push_back(&c);
    } else {
      for (const std::string& n : names) key.cols.push_back(&columns_[static_cast<std::size_t>(column_index(n, op))]);
    }
    return key;
  }

 private:
  std::int64_t find(std::string_view name) const {
    for (std::size_t i = 0; i < columns_.size(); ++i)
      if (columns_[i].name() == name) return static_cast<std::int64_t>(i);
    return -1;
  }
  std::string joined_names() const {
    std::string s;
    for (const Column& c : columns_) s += (s.empty() ? "" : ", ") + c.name();
    return s;
  }
  static std::string cell_text(const Column& c, std::int64_t i) {
    if (c.is_missing(i)) return "NA";
    switch (c.type()) {
      case ColumnType::int64: return std::to_string(c.int_at(i));
      case ColumnType::float64: {
        std::ostringstream os;
        os << c.float_at(i);
        return os.str();
      }
      case ColumnType::string: {
        std::string_view v = c.string_at(i);
        if (v.size() <= 40) return std::string(v);
        std::size_t cut = 37;  // back up to a character boundary: never print half a UTF-8 character
        while (cut > 0 && (static_cast<unsigned char>(v[cut]) & 0xC0) == 0x80) --cut;
        return std::string(v.substr(0, cut)) + "...";
      }
    }
    return "";
  }

  Table join(const Table& right, const std::vector<std::string>& on, bool keep_unmatched_left) const {
    const char* op = keep_unmatched_left ? "left_join" : "inner_join";
    RECSYS_CHECK(!on.empty(), op, ": no key columns given");
    const detail::RowKey lkey = row_key(on, op), rkey = right.row_key(on, op);
    for (std::size_t k = 0; k < on.size(); ++k)
      RECSYS_CHECK(lkey.cols[k]->type() == rkey.cols[k]->type(), op, ": key '", on[k], "' is ", lkey.cols[k]->type(),
                   " on the left and ", rkey.cols[k]->type(), " on the right");
    std::unordered_multimap<std::uint64_t, std::int64_t> index;
    index.reserve(static_cast<std::size_t>(right.rows_));
    for (std::int64_t j = 0; j < right.rows_; ++j)
      if (!rkey.any_missing(j)) index.emplace(rkey.hash(j), j);
    std::vector<std::int64_t> lrows, rrows, matches;
    for (std::int64_t i = 0; i < rows_; ++i) {
      matches.clear();
      if (!lkey.any_missing(i))
        for (auto [it, end] = index.equal_range(lkey.hash(i)); it != end; ++it)
          if (lkey.equal(i, rkey, it->second)) matches.push_back(it->second);
      std::sort(matches.begin(), matches.end());  // right rows in their table order
      if (matches.empty() && keep_unmatched_left) matches.push_back(-1);
      for (std::int64_t j : matches) {
        lrows.push_back(i);
        rrows.push_back(j);
      }
    }
    auto is_key = [&](const std::string& n) { return std::find(on.begin(), on.end(), n) != on.end(); };
    Table out;
    for (const Column& c : columns_) {
      Column taken = c.take(lrows);
      if (!is_key(c.name()) && right.has_column(c.name())) taken.set_name(c.name() + "_x");
      out.add_column(std::move(taken));
    }
    for (const Column& c : right.columns_) {
      if (is_key(c.name())) continue;
      Column taken = c.take(rrows);
      if (has_column(c.name())) taken.set_name(c.name() + "_y");
      out.add_column(std::move(taken));
    }
    out.rows_ = static_cast<std::int64_t>(lrows.size());
    return out;
  }

  std::vector<Column> columns_;
  std::int64_t rows_ = 0;
};

inline std::ostream& operator<<(std::ostream& os, const Table& t) { return os << t.to_string(); }

/// Rows grouped by key columns, groups in ascending key order; rows whose key has a missing cell
/// are left out (pandas groupby(sort=True, dropna=True)).
class GroupBy {
 public:
  GroupBy(const Table& table, std::vector<std::string> keys) : table_(&table), keys_(std::move(keys)) {
    RECSYS_CHECK(!keys_.empty(), "group_by: no key columns given");
    std::vector<SortKey> sort_keys;
    for (const std::string& k : keys_) sort_keys.push_back({k, true});
    for (const std::string& k : keys_) table.column_index(k, "group_by");
    const detail::RowKey key = table.row_key(keys_, "group_by");
    for (std::int64_t i : table.sort_order(sort_keys))
      if (!key.any_missing(i)) order_.push_back(i);
    for (std::size_t r = 0; r < order_.size(); ++r)
      if (r == 0 || !key.equal(order_[r - 1], key, order_[r])) starts_.push_back(static_cast<std::int64_t>(r));
    starts_.push_back(static_cast<std::int64_t>(order_.size()));
  }

  std::int64_t num_groups() const { return static_cast<std::int64_t>(starts_.size()) - 1; }
  /// Row indices of group g, in table order.
  std::vector<std::int64_t> rows(std::int64_t g) const {
    return {order_.begin() + starts_[static_cast<std::size_t>(g)],
            order_.begin() + starts_[static_cast<std::size_t>(g) + 1]};
  }

  /// Key columns plus "count": rows per group (pandas groupby(...).size()).
  Table count() const {
    Table out = keys_table();
    std::vector<std::int64_t> n;
    for (std::int64_t g = 0; g < num_groups(); ++g) n.push_back(starts_[g + 1] - starts_[g]);
    out.add_column(Column::from_ints("count", std::move(n)));
    return out;
  }
  /// Key columns plus the mean of each named numeric column over its present cells (missing when
  /// a group has none), as pandas groupby(...).mean().
  Table mean(const std::vector<std::string>& columns) const {
    Table out = keys_table();
    for (const std::string& name : columns) {
      const Column& c = table_->column(table_->column_index(name, "group_by mean"));
      RECSYS_CHECK(c.is_numeric(), "group_by mean: column '", name, "' is a string column");
      std::vector<double> means;
      for (std::int64_t g = 0; g < num_groups(); ++g) {
        double sum = 0;
        std::int64_t n = 0;
        for (std::int64_t r = starts_[g]; r < starts_[g + 1]; ++r) {
          const std::int64_t i = order_[static_cast<std::size_t>(r)];
          if (c.is_missing(i)) continue;
          sum += c.number_at(i);
          ++n;
        }
        means.push_back(n ? sum / static_cast<double>(n) : std::numeric_limits<double>::quiet_NaN());
      }
      out.add_column(Column::from_doubles(name, std::move(means)));
    }
    return out;
  }

 private:
  Table keys_table() const {
    std::vector<std::int64_t> first;
    for (std::int64_t g = 0; g < num_groups(); ++g) first.push_back(order_[static_cast<std::size_t>(starts_[g])]);
    return table_->select(keys_).take(first);
  }

  const Table* table_;
  std::vector<std::string> keys_;
  std::vector<std::int64_t> order_;   // rows with present keys, sorted by key (stable)
  std::vector<std::int64_t> starts_;  // group g is order_[starts_[g], starts_[g+1])
};

inline GroupBy Table::group_by(const std::vector<std::string>& keys) const { return GroupBy(*this, keys); }

}  // namespace recsys::data
