// recsys/data/utf8.hpp — the little UTF-8 the tokenizer needs: decode, encode, lowercase, separator classes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace recsys::data::utf8 {

/// Decodes the character at s[i] into cp and returns its length in bytes. An invalid or truncated
/// sequence counts as one byte decoding to U+FFFD, so a scan always advances and never cuts a
/// valid multi-byte character.
inline std::size_t decode(std::string_view s, std::size_t i, char32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  std::size_t n;
  char32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    cp = 0xFFFD;
    return 1;
  }
  if (i + n > s.size()) {
    cp = 0xFFFD;
    return 1;
  }
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      cp = 0xFFFD;
      return 1;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {  // overlong, too large, surrogate
    cp = 0xFFFD;
    return 1;
  }
  return n;
}

/// Appends cp as UTF-8.
inline void append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

/// Lowercase of cp for ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic (what Python's
/// str.lower() does there); other characters are returned unchanged.
inline char32_t to_lower(char32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp < 0xC0) return cp;
  if (cp <= 0xDE) return cp == 0xD7 ? cp : cp + 32;  // À..Þ except ×
  if (cp >= 0x100 && cp <= 0x17F) {
    if (cp == 0x130) return 'i';   // İ
    if (cp == 0x178) return 0xFF;  // Ÿ
    const bool even_upper = (cp <= 0x137 && cp != 0x131) || (cp >= 0x14A && cp <= 0x177);
    const bool odd_upper = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
    if (even_upper && cp % 2 == 0) return cp + 1;
    if (odd_upper && cp % 2 == 1) return cp + 1;
    return cp;
  }
  if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) return cp + 32;  // Greek capitals
  if (cp >= 0x410 && cp <= 0x42F) return cp + 32;                 // Cyrillic А..Я
  if (cp >= 0x400 && cp <= 0x40F) return cp + 80;                 // Cyrillic Ѐ..Џ
  return cp;
}

/// True for non-ASCII characters that separate words: C1 controls, Latin-1 punctuation and
/// symbols (NBSP, «», ¿, ×, ...), the general-punctuation block (dashes, curly quotes, …, U+2028),
/// arrows/math/shapes, CJK punctuation, full-width punctuation, emoji. Letters, digits and
/// combining marks of every script are word characters. This approximates "not \w" in Python's
/// Unicode regular expressions, which scikit-learn's token pattern uses.
inline bool is_separator(char32_t cp) {
  if (cp < 0x80) return false;  // ASCII is classified by the tokenizer's own table
  if (cp <= 0xBF) {
    for (char32_t alnum : {0xAA, 0xB2, 0xB3, 0xB5, 0xB9, 0xBA, 0xBC, 0xBD, 0xBE})  // ª ² ³ µ ¹ º ¼ ½ ¾
      if (cp == alnum) return false;
    return true;
  }
  if (cp == 0xD7 || cp == 0xF7) return true;
  return (cp >= 0x2000 && cp <= 0x206F) || (cp >= 0x2190 && cp <= 0x2BFF) || (cp >= 0x2E00 && cp <= 0x2E7F) ||
         (cp >= 0x3000 && cp <= 0x3003) || (cp >= 0x3008 && cp <= 0x3020) || cp == 0x1680 || cp == 0xFEFF ||
         (cp >= 0xFE10 && cp <= 0xFE1F) || (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF01 && cp <= 0xFF0F) ||
         (cp >= 0xFF1A && cp <= 0xFF20) || (cp >= 0xFF3B && cp <= 0xFF40) || (cp >= 0xFF5B && cp <= 0xFF65) ||
         (cp >= 0x1F000 && cp <= 0x1FAFF) || cp == 0xFFFD;
}

}  // namespace recsys::data::utf8
