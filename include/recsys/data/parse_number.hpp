// recsys/data/parse_number.hpp — exact, fast text → int64/double for the CSV reader, and per-cell type inference.
#pragma once

#include <charconv>
#include <cstdint>
#include <string_view>
#include <system_error>

namespace recsys::data::detail {

inline std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// Digits only: v = their value. At most 19 digits, so it cannot overflow.
inline bool parse_plain_digits(std::string_view s, std::uint64_t& v) {
  v = 0;
  for (char c : s) {
    const auto d = static_cast<unsigned>(c - '0');
    if (d > 9) return false;
    v = v * 10 + d;
  }
  return true;
}

/// Parses a whole field as int64: optional blanks around, an optional sign, decimal digits.
inline bool parse_int64(std::string_view s, std::int64_t& out) {
  std::uint64_t plain;
  if (!s.empty() && s.size() <= 19 && parse_plain_digits(s, plain)) {  // the common case, kept tight
    if (plain > static_cast<std::uint64_t>(INT64_MAX)) return false;
    out = static_cast<std::int64_t>(plain);
    return true;
  }
  s = trim_blanks(s);
  const char* p = s.data();
  const char* const e = p + s.size();
  const bool neg = p != e && *p == '-';
  if (p != e && (*p == '-' || *p == '+')) ++p;
  if (p == e || e - p > 19) {  // 20+ digits may still fit with leading zeros: let from_chars decide
    if (p == e) return false;
    if (*p < '0' || *p > '9') return false;
    std::int64_t v;
    const auto r = std::from_chars(neg ? p - 1 : p, e, v);
    if (r.ec != std::errc() || r.ptr != e) return false;
    out = v;
    return true;
  }
  std::uint64_t v = 0;  // at most 19 digits: cannot overflow 64 bits
  for (; p != e; ++p) {
    const auto d = static_cast<unsigned>(*p - '0');
    if (d > 9) return false;
    v = v * 10 + d;
  }
  if (neg) {
    if (v > std::uint64_t{1} << 63) return false;
    out = static_cast<std::int64_t>(0 - v);
  } else {
    if (v > static_cast<std::uint64_t>(INT64_MAX)) return false;
    out = static_cast<std::int64_t>(v);
  }
  return true;
}

/// Parses a whole field as a double ("1.5", "-2e3", ".5", "inf", "nan"; blanks and '+' allowed),
/// correctly rounded. Plain decimals of at most 15 significant digits take Clinger's fast path:
/// mantissa and 10^k are both exact doubles, so one IEEE division rounds correctly. Everything
/// else goes through std::from_chars.
inline bool parse_double(std::string_view s, double& out) {
  static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                      1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  s = trim_blanks(s);
  const char* p = s.data();
  const char* const e = p + s.size();
  const bool neg = p != e && *p == '-';
  if (p != e && (*p == '-' || *p == '+')) ++p;
  const char* const body = p;
  std::uint64_t m = 0;
  int digits = 0, frac = 0;
  for (; p != e && static_cast<unsigned>(*p - '0') <= 9; ++p, ++digits) m = m * 10 + static_cast<unsigned>(*p - '0');
  if (p != e && *p == '.') {
    for (++p; p != e && static_cast<unsigned>(*p - '0') <= 9; ++p, ++digits, ++frac)
      m = m * 10 + static_cast<unsigned>(*p - '0');
  }
  if (p == e && digits > 0 && digits <= 15) {
    const double v = static_cast<double>(m) / kPow10[frac];
    out = neg ? -v : v;
    return true;
  }
  if (body == e || *body == '+' || *body == '-') return false;  // from_chars would take a second sign
  double v;
  const auto r = std::from_chars(body, e, v);
  if (r.ec != std::errc() || r.ptr != e) return false;
  out = neg ? -v : v;
  return true;
}

/// What a cell's text is, for type inference.
enum class NumberKind { integer, real, text };

/// Classifies `s` and parses it on the way: an integer literal that fits int64, any other number
/// (double), or text. Integers with a redundant leading zero ("007", "-0114709") are text: they
/// are identifiers, and reading them as numbers would drop the zeros (pandas does).
inline NumberKind classify_number(std::string_view s, std::int64_t& i, double& d) {
  const std::string_view t = trim_blanks(s);
  const std::size_t sign = !t.empty() && (t[0] == '+' || t[0] == '-') ? 1 : 0;
  if (t.size() > sign + 1 && t[sign] == '0') {
    bool all_digits = true;
    for (std::size_t k = sign; k < t.size() && all_digits; ++k) all_digits = t[k] >= '0' && t[k] <= '9';
    if (all_digits) return NumberKind::text;
  }
  if (parse_int64(t, i)) return NumberKind::integer;
  return parse_double(t, d) ? NumberKind::real : NumberKind::text;
}

}  // namespace recsys::data::detail
