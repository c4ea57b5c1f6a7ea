// recsys/data/column.hpp — Column: one named, typed column (int64, float64 or string) with a missing-value mask.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "recsys/core/error.hpp"

namespace recsys::data {

/// The three element types a column can hold.
enum class ColumnType : std::uint8_t { int64, float64, string };

constexpr const char* column_type_name(ColumnType t) {
  switch (t) {
    case ColumnType::int64: return "int64";
    case ColumnType::float64: return "float64";
    case ColumnType::string: return "string";
  }
  return "?";
}
inline std::ostream& operator<<(std::ostream& os, ColumnType t) { return os << column_type_name(t); }

/// One cell: missing (monostate), an integer, a double or a string.
using Value = std::variant<std::monostate, std::int64_t, double, std::string>;

/// A named column of one type. Values live in one flat vector per type; strings share one character
/// arena with offsets (no allocation per cell). `missing_[i] == 1` marks a missing cell; a missing
/// float is also stored as NaN, and a float NaN is always missing (as in pandas).
class Column {
 public:
  Column() = default;
  Column(std::string name, ColumnType type) : name_(std::move(name)), type_(type) {}

  /// An int64 column; `missing` (same length, or empty for none) marks missing cells.
  static Column from_ints(std::string name, std::vector<std::int64_t> values, std::vector<std::uint8_t> missing = {}) {
    Column c(std::move(name), ColumnType::int64);
    c.size_ = static_cast<std::int64_t>(values.size());
    c.ints_ = std::move(values);
    c.set_mask(std::move(missing));
    for (std::int64_t i = 0; i < c.size_; ++i)
      if (c.missing_[i]) c.ints_[i] = 0;
    return c;
  }
  /// A float64 column; NaN values are missing.
  static Column from_doubles(std::string name, std::vector<double> values, std::vector<std::uint8_t> missing = {}) {
    Column c(std::move(name), ColumnType::float64);
    c.size_ = static_cast<std::int64_t>(values.size());
    c.floats_ = std::move(values);
    c.set_mask(std::move(missing));
    for (std::int64_t i = 0; i < c.size_; ++i) {
      if (std::isnan(c.floats_[i])) c.missing_[i] = 1;
      if (c.missing_[i]) c.floats_[i] = std::numeric_limits<double>::quiet_NaN();
    }
    return c;
  }
  /// A string column.
  static Column from_strings(std::string name, const std::vector<std::string>& values,
                             std::vector<std::uint8_t> missing = {}) {
    Column c(std::move(name), ColumnType::string);
    RECSYS_CHECK(missing.empty() || missing.size() == values.size(), "Column '", c.name_, "': ", missing.size(),
                 " mask entries for ", values.size(), " values");
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (!missing.empty() && missing[i]) {
        c.push_missing();
      } else {
        c.push_string(values[i]);
      }
    }
    return c;
  }

  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  ColumnType type() const { return type_; }
  std::int64_t size() const { return size_; }
  bool is_numeric() const { return type_ != ColumnType::string; }

  bool is_missing(std::int64_t i) const { return missing_[static_cast<std::size_t>(i)] != 0; }
  std::int64_t missing_count() const {
    std::int64_t n = 0;
    for (std::uint8_t m : missing_) n += m;
    return n;
  }
  // The typed accessors below are unchecked (hot loops): the column must have that type.
  /// The value of an int64 cell (0 when missing).
  std::int64_t int_at(std::int64_t i) const { return ints_[static_cast<std::size_t>(i)]; }
  /// The value of a float64 cell (NaN when missing).
  double float_at(std::int64_t i) const { return floats_[static_cast<std::size_t>(i)]; }
  /// The text of a string cell (empty when missing); valid until the column changes.
  std::string_view string_at(std::int64_t i) const {
    const auto b = offsets_[static_cast<std::size_t>(i)], e = offsets_[static_cast<std::size_t>(i) + 1];
    return std::string_view(chars_.data() + b, e - b);
  }
  /// A numeric cell as double (NaN when missing); a string column is an error.
  double number_at(std::int64_t i) const {
    RECSYS_CHECK(type_ != ColumnType::string, "Column '", name_, "': a string column has no numbers");
    if (is_missing(i)) return std::numeric_limits<double>::quiet_NaN();
    return type_ == ColumnType::int64 ? static_cast<double>(int_at(i)) : float_at(i);
  }
  /// Any cell as a Value.
  Value value(std::int64_t i) const {
    if (is_missing(i)) return std::monostate{};
    switch (type_) {
      case ColumnType::int64: return int_at(i);
      case ColumnType::float64: return float_at(i);
      case ColumnType::string: return std::string(string_at(i));
    }
    return std::monostate{};
  }

  const std::vector<std::int64_t>& ints() const { return ints_; }
  const std::vector<double>& doubles() const { return floats_; }
  const std::vector<std::uint8_t>& missing_mask() const { return missing_; }

  void push_int(std::int64_t v) {
    ints_.push_back(v);
    missing_.push_back(0);
    ++size_;
  }
  void push_double(double v) {
    floats_.push_back(std::isnan(v) ? std::numeric_limits<double>::quiet_NaN() : v);
    missing_.push_back(std::isnan(v) ? 1 : 0);
    ++size_;
  }
  void push_string(std::string_view v) {
    if (offsets_.empty()) offsets_.push_back(0);
    chars_.append(v);
    offsets_.push_back(chars_.size());
    missing_.push_back(0);
    ++size_;
  }
  void push_missing() {
    switch (type_) {
      case ColumnType::int64: ints_.push_back(0); break;
      case ColumnType::float64: floats_.push_back(std::numeric_limits<double>::quiet_NaN()); break;
      case ColumnType::string:
        if (offsets_.empty()) offsets_.push_back(0);
        offsets_.push_back(chars_.size());
        break;
    }
    missing_.push_back(1);
    ++size_;
  }
  /// Appends a Value; an int64 fits a float64 column, anything else must match the type.
  void push_value(const Value& v) {
    if (std::holds_alternative<std::monostate>(v)) return push_missing();
    if (type_ == ColumnType::int64 && std::holds_alternative<std::int64_t>(v))
      return push_int(std::get<std::int64_t>(v));
    if (type_ == ColumnType::float64 && std::holds_alternative<double>(v)) return push_double(std::get<double>(v));
    if (type_ == ColumnType::float64 && std::holds_alternative<std::int64_t>(v))
      return push_double(static_cast<double>(std::get<std::int64_t>(v)));
    if (type_ == ColumnType::string && std::holds_alternative<std::string>(v))
      return push_string(std::get<std::string>(v));
    RECSYS_FAIL("Column '", name_, "': cannot store a ", value_type_name(v), " in a ", type_, " column");
  }
  /// Appends cell `i` of `other` (same type).
  void push_from(const Column& other, std::int64_t i) {
    if (other.is_missing(i)) return push_missing();
    switch (type_) {
      case ColumnType::int64: return push_int(other.int_at(i));
      case ColumnType::float64: return push_double(other.float_at(i));
      case ColumnType::string: return push_string(other.string_at(i));
    }
  }

  /// Reserves room for `rows` cells (and `chars` characters of string data).
  void reserve(std::int64_t rows, std::size_t chars = 0) {
    const auto n = static_cast<std::size_t>(rows);
    missing_.reserve(n);
    if (type_ == ColumnType::int64) ints_.reserve(n);
    if (type_ == ColumnType::float64) floats_.reserve(n);
    if (type_ == ColumnType::string) {
      offsets_.reserve(n + 1);
      chars_.reserve(chars);
    }
  }

  /// Appends every cell of `other` (same type).
  void append(const Column& other) {
    RECSYS_CHECK(other.type_ == type_, "Column '", name_, "': cannot append a ", other.type_, " column to a ", type_,
                 " column");
    missing_.insert(missing_.end(), other.missing_.begin(), other.missing_.end());
    if (type_ == ColumnType::int64) ints_.insert(ints_.end(), other.ints_.begin(), other.ints_.end());
    if (type_ == ColumnType::float64) floats_.insert(floats_.end(), other.floats_.begin(), other.floats_.end());
    if (type_ == ColumnType::string && other.size_ > 0) {
      if (offsets_.empty()) offsets_.push_back(0);
      const std::size_t shift = chars_.size();
      chars_.append(other.chars_);
      for (std::size_t k = 1; k < other.offsets_.size(); ++k) offsets_.push_back(other.offsets_[k] + shift);
    }
    size_ += other.size_;
  }
  /// Bytes of string data held (0 for numeric columns).
  std::size_t string_bytes() const { return chars_.size(); }

  /// The cells at `rows`, in that order (an index may repeat); -1 gives a missing cell.
  Column take(const std::vector<std::int64_t>& rows) const {
    Column c(name_, type_);
    c.reserve(static_cast<std::int64_t>(rows.size()));
    for (std::int64_t r : rows) {
      RECSYS_CHECK(r >= -1 && r < size_, "Column '", name_, "': row ", r, " is out of range for ", size_, " rows");
      if (r < 0) {
        c.push_missing();
      } else {
        c.push_from(*this, r);
      }
    }
    return c;
  }

  /// The same values as float64 (int64 converted; a string column is an error).
  Column to_float64() const {
    RECSYS_CHECK(type_ != ColumnType::string, "Column '", name_, "': cannot convert a string column to float64");
    if (type_ == ColumnType::float64) return *this;
    Column c(name_, ColumnType::float64);
    c.reserve(size_);
    for (std::int64_t i = 0; i < size_; ++i)
      is_missing(i) ? c.push_missing() : c.push_double(static_cast<double>(int_at(i)));
    return c;
  }

  static const char* value_type_name(const Value& v) {
    switch (v.index()) {
      case 0: return "missing value";
      case 1: return "int64";
      case 2: return "float64";
      default: return "string";
    }
  }

 private:
  void set_mask(std::vector<std::uint8_t> missing) {
    RECSYS_CHECK(missing.empty() || static_cast<std::int64_t>(missing.size()) == size_, "Column '", name_,
                 "': ", missing.size(), " mask entries for ", size_, " values");
    missing_ = missing.empty() ? std::vector<std::uint8_t>(static_cast<std::size_t>(size_), 0) : std::move(missing);
  }

  std::string name_;
  ColumnType type_ = ColumnType::float64;
  std::int64_t size_ = 0;
  std::vector<std::int64_t> ints_;
  std::vector<double> floats_;
  std::string chars_;                 // string cells, back to back
  std::vector<std::size_t> offsets_;  // cell i is chars_[offsets_[i], offsets_[i+1]); empty until the first push
  std::vector<std::uint8_t> missing_;
};

}  // namespace recsys::data
