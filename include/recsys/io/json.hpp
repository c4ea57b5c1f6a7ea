// recsys/io/json.hpp — a small strict JSON value (RFC 8259): parser with line/column errors and a depth limit, and a writer.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_set>
#include <utility>
#include <vector>

#include "recsys/core/error.hpp"

namespace recsys::json {

enum class Type : std::uint8_t { null, boolean, number, string, array, object };

inline const char* type_name(Type t) {
  switch (t) {
    case Type::null: return "null";
    case Type::boolean: return "a boolean";
    case Type::number: return "a number";
    case Type::string: return "a string";
    case Type::array: return "an array";
    case Type::object: return "an object";
  }
  return "?";
}

class Value;
using Array = std::vector<Value>;
/// Object members keep their order (so files we write read back the same); keys are unique.
using Object = std::vector<std::pair<std::string, Value>>;

/// One JSON value. Numbers written without a fraction or exponent are kept as exact 64-bit integers
/// (safetensors offsets are u64 and must not pass through a double); all others are doubles.
class Value {
 public:
  Value() = default;
  Value(std::nullptr_t) {}                                                    // NOLINT
  Value(bool b) : type_(Type::boolean), bool_(b) {}                           // NOLINT
  Value(int v) : Value(static_cast<long long>(v)) {}                          // NOLINT
  Value(long v) : Value(static_cast<long long>(v)) {}                         // NOLINT
  Value(long long v) : type_(Type::number), integer_(true), negative_(v < 0),  // NOLINT
                       magnitude_(v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v)) {}
  Value(unsigned v) : Value(static_cast<unsigned long long>(v)) {}            // NOLINT
  Value(unsigned long v) : Value(static_cast<unsigned long long>(v)) {}       // NOLINT
  Value(unsigned long long v) : type_(Type::number), integer_(true), magnitude_(v) {}  // NOLINT
  Value(double v) : type_(Type::number), double_(v) {}                        // NOLINT
  Value(std::string s) : type_(Type::string), string_(std::move(s)) {}        // NOLINT
  Value(std::string_view s) : Value(std::string(s)) {}                        // NOLINT
  Value(const char* s) : Value(std::string(s)) {}                             // NOLINT
  Value(Array a) : type_(Type::array), array_(std::move(a)) {}                // NOLINT
  Value(Object o) : type_(Type::object), object_(std::move(o)) {}             // NOLINT

  /// An empty object / array, to fill with operator[] / push_back.
  static Value object() { return Value(Object{}); }
  static Value array() { return Value(Array{}); }

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::null; }
  bool is_bool() const { return type_ == Type::boolean; }
  bool is_number() const { return type_ == Type::number; }
  /// A number written as an integer literal (or built from a C++ integer).
  bool is_integer() const { return type_ == Type::number && integer_; }
  bool is_string() const { return type_ == Type::string; }
  bool is_array() const { return type_ == Type::array; }
  bool is_object() const { return type_ == Type::object; }

  bool as_bool() const {
    expect(Type::boolean);
    return bool_;
  }
  /// Any number as a double (integers above 2^53 round).
  double as_double() const {
    expect(Type::number);
    if (!integer_) return double_;
    const double m = static_cast<double>(magnitude_);
    return negative_ ? -m : m;
  }
  /// An integer literal in [-2^63, 2^63).
  std::int64_t as_int64() const {
    expect(Type::number);
    RECSYS_CHECK(integer_, "json: expected an integer, got ", double_);
    constexpr std::uint64_t limit = std::uint64_t{1} << 63;
    RECSYS_CHECK(negative_ ? magnitude_ <= limit : magnitude_ < limit, "json: integer ", negative_ ? "-" : "",
                 magnitude_, " does not fit in int64");
    return negative_ ? static_cast<std::int64_t>(0 - magnitude_) : static_cast<std::int64_t>(magnitude_);
  }
  /// A non-negative integer literal in [0, 2^64).
  std::uint64_t as_uint64() const {
    expect(Type::number);
    RECSYS_CHECK(integer_, "json: expected an integer, got ", double_);
    RECSYS_CHECK(!negative_ || magnitude_ == 0, "json: expected a non-negative integer, got -", magnitude_);
    return magnitude_;
  }
  const std::string& as_string() const {
    expect(Type::string);
    return string_;
  }
  const Array& as_array() const {
    expect(Type::array);
    return array_;
  }
  Array& as_array() {
    expect(Type::array);
    return array_;
  }
  const Object& as_object() const {
    expect(Type::object);
    return object_;
  }
  Object& as_object() {
    expect(Type::object);
    return object_;
  }

  /// Elements of an array or members of an object.
  std::size_t size() const {
    if (type_ == Type::array) return array_.size();
    expect(Type::object);
    return object_.size();
  }
  /// The member `key`, or nullptr when absent (the value must be an object).
  const Value* find(std::string_view key) const {
    expect(Type::object);
    for (const auto& [k, v] : object_)
      if (k == key) return &v;
    return nullptr;
  }
  bool contains(std::string_view key) const { return find(key) != nullptr; }
  /// The member `key`; throws naming the key when absent.
  const Value& at(std::string_view key) const {
    const Value* v = find(key);
    RECSYS_CHECK(v != nullptr, "json: object has no member '", key, "'");
    return *v;
  }
  /// Element i of an array.
  const Value& at(std::size_t i) const {
    expect(Type::array);
    RECSYS_CHECK(i < array_.size(), "json: index ", i, " is out of range for an array of ", array_.size());
    return array_[i];
  }
  /// The member `key`, added as null if absent (a null value becomes an empty object first).
  Value& operator[](std::string_view key) {
    if (type_ == Type::null) *this = object();
    expect(Type::object);
    for (auto& [k, v] : object_)
      if (k == key) return v;
    object_.emplace_back(std::string(key), Value());
    return object_.back().second;
  }
  /// Appends to an array (a null value becomes an empty array first).
  void push_back(Value v) {
    if (type_ == Type::null) *this = array();
    expect(Type::array);
    array_.push_back(std::move(v));
  }

  /// Structural equality; numbers compare by value (an integer equals the double of the same value).
  friend bool operator==(const Value& a, const Value& b) {
    if (a.type_ != b.type_) return false;
    switch (a.type_) {
      case Type::null: return true;
      case Type::boolean: return a.bool_ == b.bool_;
      case Type::number:
        if (a.integer_ && b.integer_) return a.magnitude_ == b.magnitude_ && (a.negative_ == b.negative_ || a.magnitude_ == 0);
        return a.as_double() == b.as_double();
      case Type::string: return a.string_ == b.string_;
      case Type::array: return a.array_ == b.array_;
      case Type::object: return a.object_ == b.object_;
    }
    return false;
  }

 private:
  friend class Parser;
  void expect(Type t) const {
    RECSYS_CHECK(type_ == t, "json: expected ", type_name(t), ", got ", type_name(type_));
  }

  Type type_ = Type::null;
  bool bool_ = false;
  bool integer_ = false;
  bool negative_ = false;
  std::uint64_t magnitude_ = 0;
  double double_ = 0;
  std::string string_;
  Array array_;
  Object object_;
};

/// Parser limits.
struct ParseOptions {
  /// Arrays and objects nested deeper than this are refused (the parser recurses; this bounds its stack).
  int max_depth = 256;
};

namespace detail {

/// Length of the UTF-8 sequence starting at s[i] if it is well-formed (no overlongs, surrogates or
/// code points above U+10FFFF), else 0.
inline std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t n;
  unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c == 0xE0) n = 3, lo = 0xA0;
  else if (c == 0xED) n = 3, hi = 0x9F;  // excludes the surrogates U+D800..DFFF
  else if (c >= 0xE1 && c <= 0xEF) n = 3;
  else if (c == 0xF0) n = 4, lo = 0x90;
  else if (c >= 0xF1 && c <= 0xF3) n = 4;
  else if (c == 0xF4) n = 4, hi = 0x8F;  // nothing above U+10FFFF
  else return 0;
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  return n;
}

inline void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace detail

/// Recursive-descent parser over a complete text (use json::parse).
class Parser {
 public:
  Parser(std::string_view text, ParseOptions options) : s_(text), options_(options) {}

  Value parse_document() {
    skip_whitespace();
    Value v = parse_value(0);
    skip_whitespace();
    if (pos_ != s_.size()) fail("unexpected text after the JSON value");
    return v;
  }

 private:
  [[noreturn]] void fail(std::string_view what) const { fail_at(pos_, what); }
  /// Line and column are 1-based; columns count bytes.
  [[noreturn]] void fail_at(std::size_t at, std::string_view what) const {
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < at && i < s_.size(); ++i) {
      if (s_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    RECSYS_FAIL("json: line ", line, ", column ", column, ": ", what);
  }

  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[pos_]; }

  void skip_whitespace() {
    while (!at_end() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }

  void expect_literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) fail("invalid literal (expected true, false or null)");
    pos_ += word.size();
  }

  Value parse_value(int depth) {
    if (at_end()) fail("unexpected end of input, expected a value");
    switch (s_[pos_]) {
      case '{': return parse_object(depth + 1);
      case '[': return parse_array(depth + 1);
      case '"': return Value(parse_string());
      case 't': expect_literal("true"); return Value(true);
      case 'f': expect_literal("false"); return Value(false);
      case 'n': expect_literal("null"); return Value();
      default:
        if (s_[pos_] == '-' || (s_[pos_] >= '0' && s_[pos_] <= '9')) return parse_number();
        fail(std::string("unexpected character '") + printable(s_[pos_]) + "', expected a value");
    }
  }

  static std::string printable(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F) return std::string(1, c);
    static const char* hex = "0123456789abcdef";
    return std::string("\\x") + hex[u >> 4] + hex[u & 15];
  }

  void enter(int depth) const {
    if (depth > options_.max_depth)
      fail("arrays and objects nested deeper than " + std::to_string(options_.max_depth) + " levels");
  }

  Value parse_array(int depth) {
    enter(depth);
    ++pos_;  // '['
    Value out = Value::array();
    skip_whitespace();
    if (peek() == ']') {
      ++pos_;
      return out;
    }
    for (;;) {
      skip_whitespace();
      out.array_.push_back(parse_value(depth));
      skip_whitespace();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        return out;
      }
      fail(at_end() ? "unexpected end of input in an array" : "expected ',' or ']' in an array");
    }
  }

  Value parse_object(int depth) {
    enter(depth);
    ++pos_;  // '{'
    Value out = Value::object();
    std::unordered_set<std::string> keys;
    skip_whitespace();
    if (peek() == '}') {
      ++pos_;
      return out;
    }
    for (;;) {
      skip_whitespace();
      if (peek() != '"') fail(at_end() ? "unexpected end of input in an object" : "expected a string key in an object");
      const std::size_t key_pos = pos_;
      std::string key = parse_string();
      if (!keys.insert(key).second) fail_at(key_pos, "duplicate key \"" + key + "\"");
      skip_whitespace();
      if (peek() != ':') fail("expected ':' after an object key");
      ++pos_;
      skip_whitespace();
      Value v = parse_value(depth);
      out.object_.emplace_back(std::move(key), std::move(v));
      skip_whitespace();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        return out;
      }
      fail(at_end() ? "unexpected end of input in an object" : "expected ',' or '}' in an object");
    }
  }

  std::uint32_t parse_hex4() {
    if (pos_ + 4 > s_.size()) fail("truncated \\u escape");
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<std::uint32_t>(c - 'A' + 10);
      else fail_at(pos_ - 1, "invalid hex digit in a \\u escape");
    }
    return v;
  }

  std::string parse_string() {
    const std::size_t start = pos_;
    ++pos_;  // opening quote
    std::string out;
    for (;;) {
      if (at_end()) fail_at(start, "unterminated string");
      const auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20) fail("control character in a string (escape it)");
      if (c == '\\') {
        ++pos_;
        if (at_end()) fail_at(start, "unterminated string");
        const char e = s_[pos_++];
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            const std::size_t escape_pos = pos_ - 2;
            std::uint32_t cp = parse_hex4();
            if (cp >= 0xDC00 && cp <= 0xDFFF) fail_at(escape_pos, "lone low surrogate in a \\u escape");
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              if (s_.substr(pos_, 2) != "\\u") fail_at(escape_pos, "high surrogate not followed by a low surrogate");
              pos_ += 2;
              const std::uint32_t low = parse_hex4();
              if (low < 0xDC00 || low > 0xDFFF) fail_at(escape_pos, "high surrogate not followed by a low surrogate");
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            }
            detail::append_utf8(out, cp);
            break;
          }
          default: fail_at(pos_ - 1, std::string("invalid escape '\\") + printable(e) + "'");
        }
        continue;
      }
      const std::size_t n = detail::utf8_sequence_length(s_, pos_);
      if (n == 0) fail("invalid UTF-8 in a string");
      out.append(s_.data() + pos_, n);
      pos_ += n;
    }
  }

  bool digit() const { return !at_end() && s_[pos_] >= '0' && s_[pos_] <= '9'; }

  Value parse_number() {
    const std::size_t start = pos_;
    const bool negative = peek() == '-';
    if (negative) ++pos_;
    if (!digit()) fail("expected a digit in a number");
    if (s_[pos_] == '0') {
      ++pos_;
      if (digit()) fail_at(pos_ - 1, "leading zeros are not allowed in a number");
    } else {
      while (digit()) ++pos_;
    }
    const std::size_t int_end = pos_;
    bool is_integer = true;
    if (peek() == '.') {
      ++pos_;
      if (!digit()) fail("expected a digit after the decimal point");
      while (digit()) ++pos_;
      is_integer = false;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (!digit()) fail("expected a digit in the exponent");
      while (digit()) ++pos_;
      is_integer = false;
    }
    const std::string_view text = s_.substr(start, pos_ - start);
    if (is_integer) {
      // Exact when the magnitude fits 64 bits (and 2^63 for negatives); larger ones become doubles.
      std::uint64_t magnitude = 0;
      const char* first = s_.data() + start + (negative ? 1 : 0);
      const auto [end, ec] = std::from_chars(first, s_.data() + int_end, magnitude);
      if (ec == std::errc() && end == s_.data() + int_end &&
          (!negative || magnitude <= (std::uint64_t{1} << 63))) {
        Value v(static_cast<unsigned long long>(magnitude));
        v.negative_ = negative && magnitude != 0;
        return v;
      }
    }
    double d = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (ec == std::errc::result_out_of_range) {
      if (!underflows(text)) fail_at(start, "number is too large for a double");
      d = negative ? -0.0 : 0.0;
    } else if (ec != std::errc() || end != text.data() + text.size()) {
      fail_at(start, "malformed number");
    }
    return Value(d);
  }

  /// True when the (grammatically valid) literal is tiny rather than huge: its decimal exponent,
  /// position of the first significant digit plus the written exponent, is negative.
  static bool underflows(std::string_view t) {
    std::size_t i = t[0] == '-' ? 1 : 0;
    std::int64_t exp10 = 0;
    bool seen = false;
    std::int64_t int_digits = 0, leading_frac_zeros = 0;
    for (; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i)
      if (seen || t[i] != '0') seen = true, ++int_digits;
    if (i < t.size() && t[i] == '.')
      for (++i; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i) {
        if (!seen && t[i] == '0') ++leading_frac_zeros;
        else seen = true;
      }
    if (!seen) return true;  // all zeros (cannot be out of range, but harmless)
    std::int64_t written = 0;
    bool written_negative = false;
    if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
      ++i;
      if (t[i] == '+' || t[i] == '-') written_negative = t[i++] == '-';
      for (; i < t.size(); ++i) written = std::min<std::int64_t>(written * 10 + (t[i] - '0'), std::int64_t{1} << 40);
    }
    exp10 = (int_digits > 0 ? int_digits - 1 : -(leading_frac_zeros + 1)) + (written_negative ? -written : written);
    return exp10 < 0;
  }

  std::string_view s_;
  ParseOptions options_;
  std::size_t pos_ = 0;
};

/// Parses a complete JSON text; throws recsys::Error "json: line L, column C: ..." on any deviation from RFC 8259
/// (and on duplicate object keys, which the RFC leaves open).
inline Value parse(std::string_view text, ParseOptions options = {}) { return Parser(text, options).parse_document(); }

namespace detail {

inline void write_string(std::string& out, const std::string& s) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t n = utf8_sequence_length(s, i);
      RECSYS_CHECK(n != 0, "json: cannot write a string that is not valid UTF-8 (byte ", i, ")");
      out.append(s, i, n);
      i += n;
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

inline void write_value(std::string& out, const Value& v, int indent, int level) {
  const auto newline = [&](int lvl) {
    if (indent < 0) return;
    out += '\n';
    out.append(static_cast<std::size_t>(indent * lvl), ' ');
  };
  switch (v.type()) {
    case Type::null: out += "null"; return;
    case Type::boolean: out += v.as_bool() ? "true" : "false"; return;
    case Type::number: {
      char buf[32];
      if (v.is_integer()) {
        if (v.as_double() < 0) {
          out += '-';
          const auto r = std::to_chars(buf, buf + sizeof buf, 0 - static_cast<std::uint64_t>(v.as_int64()));
          out.append(buf, r.ptr);
        } else {
          const auto r = std::to_chars(buf, buf + sizeof buf, v.as_uint64());
          out.append(buf, r.ptr);
        }
        return;
      }
      const double d = v.as_double();
      RECSYS_CHECK(std::isfinite(d), "json: cannot write the non-finite number ", d, " (JSON has no NaN or infinity)");
      const auto r = std::to_chars(buf, buf + sizeof buf, d);  // shortest text that reads back to the same double
      const std::string_view text(buf, static_cast<std::size_t>(r.ptr - buf));
      out += text;
      // Keep it a double when read back (3.0 stays 3.0, not the integer 3).
      if (text.find_first_of(".eE") == std::string_view::npos && text.find("inf") == std::string_view::npos)
        out += ".0";
      return;
    }
    case Type::string: write_string(out, v.as_string()); return;
    case Type::array: {
      const Array& a = v.as_array();
      out += '[';
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (i) out += ',';
        newline(level + 1);
        write_value(out, a[i], indent, level + 1);
      }
      if (!a.empty()) newline(level);
      out += ']';
      return;
    }
    case Type::object: {
      const Object& o = v.as_object();
      out += '{';
      for (std::size_t i = 0; i < o.size(); ++i) {
        if (i) out += ',';
        newline(level + 1);
        write_string(out, o[i].first);
        out += indent < 0 ? ":" : ": ";
        write_value(out, o[i].second, indent, level + 1);
      }
      if (!o.empty()) newline(level);
      out += '}';
      return;
    }
  }
}

}  // namespace detail

/// JSON text for `v`: compact when indent < 0, else pretty-printed with `indent` spaces per level.
/// Doubles are written in the shortest form that reads back bitwise equal.
inline std::string dump(const Value& v, int indent = -1) {
  std::string out;
  detail::write_value(out, v, indent, 0);
  return out;
}

}  // namespace recsys::json
