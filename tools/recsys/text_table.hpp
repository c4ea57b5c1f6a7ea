// tools/recsys/text_table.hpp — aligned plain-text tables for the recsys command's output, and number formatting.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace recsys::cli {

/// A number with `digits` decimals; "-" for NaN (a metric that does not apply).
inline std::string fixed(double v, int digits = 4) {
  if (std::isnan(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

/// Display width of UTF-8 text: code points, not bytes (titles may hold accents).
inline std::size_t display_width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

/// Cuts UTF-8 text to at most `width` code points, marking the cut with "...".
inline std::string clip(const std::string& s, std::size_t width) {
  if (display_width(s) <= width || width < 4) return s;
  std::string out;
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80 && ++n > width - 3) break;
    out += s[i];
  }
  return out + "...";
}

/// Rows of cells under a header; columns whose cells all look numeric are right-aligned.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) : header_(std::move(header)) {}

  void add(std::vector<std::string> row) {
    row.resize(header_.size());
    rows_.push_back(std::move(row));
  }

  std::string to_string(const std::string& indent = "  ") const {
    const std::size_t n = header_.size();
    std::vector<std::size_t> width(n);
    std::vector<bool> numeric(n, true);
    for (std::size_t c = 0; c < n; ++c) {
      width[c] = display_width(header_[c]);
      for (const auto& r : rows_) {
        width[c] = std::max(width[c], display_width(r[c]));
        numeric[c] = numeric[c] && looks_numeric(r[c]);
      }
    }
    std::string out;
    const auto line = [&](const std::vector<std::string>& cells) {
      std::string s = indent;
      for (std::size_t c = 0; c < n; ++c) {
        const std::string pad(width[c] - display_width(cells[c]), ' ');
        s += numeric[c] ? pad + cells[c] : cells[c] + (c + 1 < n ? pad : "");
        if (c + 1 < n) s += "  ";
      }
      while (!s.empty() && s.back() == ' ') s.pop_back();
      out += s + "\n";
    };
    line(header_);
    std::vector<std::string> rule(n);
    for (std::size_t c = 0; c < n; ++c) rule[c] = std::string(width[c], '-');
    line(rule);
    for (const auto& r : rows_) line(r);
    return out;
  }

 private:
  static bool looks_numeric(const std::string& s) {
    if (s.empty() || s == "-") return true;
    return std::all_of(s.begin(), s.end(), [](char c) {
      return (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == '%' || c == ',';
    });
  }

  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace recsys::cli
