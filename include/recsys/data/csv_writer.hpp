// recsys/data/csv_writer.hpp — CsvWriter: streams rows to a CSV/TSV file or stream with RFC 4180 quoting.
#pragma once

#include <cerrno>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "recsys/core/error.hpp"

namespace recsys::data {

/// When the writer puts a field in quotes (Python's csv.QUOTE_MINIMAL / QUOTE_ALL / QUOTE_NONE).
enum class CsvQuoting : std::uint8_t {
  minimal,  ///< only fields that hold the delimiter, the quote character, '\r' or '\n'
  all,      ///< every field
  none,     ///< never; a field that would need quotes is an error
};

/// How CsvWriter formats its output.
struct CsvWriteOptions {
  char delimiter = ',';
  char quote = '"';
  CsvQuoting quoting = CsvQuoting::minimal;
  std::string line_terminator = "\n";  ///< "\r\n" gives RFC 4180's CRLF
  std::string na_rep;                  ///< text written for missing()
};

/// Streaming CSV writer: rows go out through a 1 MiB buffer, so a file of any size needs constant
/// memory. Build a row with field(...) calls and end_row(), or write it at once with row(...).
/// Doubles are written in their shortest round-trip form ("0.1", "4.0", "1e+20").
///
///   CsvWriter w("ratings.csv");
///   w.row("user_id", "item_id", "rating");
///   w.row(1, 10, 4.5);
///   w.close();  // reports write errors; the destructor flushes too but cannot report them
class CsvWriter {
 public:
  /// Creates (or truncates) the file at `path`.
  explicit CsvWriter(const std::string& path, CsvWriteOptions options = {})
      : options_(std::move(options)), path_(path) {
    check_options();
    file_ = std::fopen(path.c_str(), "wb");
    RECSYS_CHECK(file_ != nullptr, "CsvWriter: cannot open '", path, "' for writing: ", std::strerror(errno));
    buffer_.reserve(kBufferBytes + 4096);
  }
  /// Writes to a stream the caller owns (kept open by close()).
  explicit CsvWriter(std::ostream& out, CsvWriteOptions options = {})
      : options_(std::move(options)), path_("<stream>"), stream_(&out) {
    check_options();
    buffer_.reserve(kBufferBytes + 4096);
  }
  CsvWriter(const CsvWriter&) = delete;
  CsvWriter& operator=(const CsvWriter&) = delete;
  ~CsvWriter() {
    try {
      close();
    } catch (...) {  // a destructor must not throw; call close() to see the error
    }
  }

  /// Appends a text field, quoted when the options require it.
  CsvWriter& field(std::string_view text) {
    separate();
    if (needs_quotes(text)) {
      write_quoted(text);
    } else {
      buffer_.append(text);
      row_has_text_ |= !text.empty();
    }
    return *this;
  }
  CsvWriter& field(const char* text) { return field(std::string_view(text)); }
  CsvWriter& field(const std::string& text) { return field(std::string_view(text)); }
  /// Appends an integer field.
  template <std::integral T>
  CsvWriter& field(T value) {
    char tmp[32];
    const auto res = std::to_chars(tmp, tmp + sizeof tmp, value);
    separate();
    buffer_.append(tmp, res.ptr);
    row_has_text_ = true;
    return *this;
  }
  /// Appends a floating-point field (shortest round-trip text; NaN is written as na_rep).
  template <std::floating_point T>
  CsvWriter& field(T value) {
    if (std::isnan(value)) return missing();
    char tmp[64];
    separate();
    buffer_.append(tmp, format_double(static_cast<double>(value), tmp));
    row_has_text_ = true;
    return *this;
  }
  /// Appends a missing value (written as options.na_rep).
  CsvWriter& missing() {
    separate();
    if (options_.quoting == CsvQuoting::all) {
      write_quoted(options_.na_rep);
    } else {
      buffer_.append(options_.na_rep);
      row_has_text_ |= !options_.na_rep.empty();
    }
    return *this;
  }

  /// Ends the current row.
  CsvWriter& end_row() {
    // A row of one empty field would read back as a blank line (and be skipped), so quote it.
    if (fields_in_row_ == 1 && !row_has_text_ && options_.quoting != CsvQuoting::none) {
      buffer_.push_back(options_.quote);
      buffer_.push_back(options_.quote);
    }
    buffer_.append(options_.line_terminator);
    fields_in_row_ = 0;
    row_has_text_ = false;
    ++rows_;
    if (buffer_.size() >= kBufferBytes) flush();
    return *this;
  }

  /// Writes a whole row: each argument goes through field().
  template <class... Args>
  CsvWriter& row(const Args&... values) {
    (field(values), ...);
    return end_row();
  }
  /// Writes a whole row of text fields.
  CsvWriter& row(std::initializer_list<std::string_view> values) {
    for (std::string_view v : values) field(v);
    return end_row();
  }
  CsvWriter& row(const std::vector<std::string>& values) {
    for (const std::string& v : values) field(std::string_view(v));
    return end_row();
  }

  /// Hands the buffered bytes to the file or stream.
  void flush() {
    if (buffer_.empty()) return;
    if (file_ != nullptr) {
      const std::size_t n = std::fwrite(buffer_.data(), 1, buffer_.size(), file_);
      RECSYS_CHECK(n == buffer_.size(), "CsvWriter: cannot write '", path_, "': ", std::strerror(errno));
    } else if (stream_ != nullptr) {
      stream_->write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
      RECSYS_CHECK(stream_->good(), "CsvWriter: the output stream failed");
    }
    buffer_.clear();
  }

  /// Flushes and closes the file; throws if any write failed. Idempotent.
  void close() {
    if (closed_) return;
    closed_ = true;
    RECSYS_CHECK(fields_in_row_ == 0, "CsvWriter: '", path_, "' closed in the middle of row ", rows_ + 1, " (",
                 fields_in_row_, " fields written, end_row() missing)");
    flush();
    if (file_ != nullptr) {
      std::FILE* f = file_;
      file_ = nullptr;
      RECSYS_CHECK(std::fclose(f) == 0, "CsvWriter: cannot close '", path_, "': ", std::strerror(errno));
    } else if (stream_ != nullptr) {
      stream_->flush();
    }
  }

  /// Rows completed so far (header included).
  std::int64_t rows() const { return rows_; }
  const std::string& path() const { return path_; }
  const CsvWriteOptions& options() const { return options_; }

  /// Shortest round-trip text of `v` into `out` (at least 32 chars); integral values get ".0" so
  /// they read back as floats, like Python's repr. Returns the end pointer.
  static char* format_double(double v, char* out) {
    if (std::isinf(v)) {
      const char* s = v > 0 ? "inf" : "-inf";
      const std::size_t n = std::strlen(s);
      std::memcpy(out, s, n);
      return out + n;
    }
    char* end = std::to_chars(out, out + 32, v).ptr;
    bool plain = true;
    for (char* p = out; p != end; ++p)
      if (*p == '.' || *p == 'e') plain = false;
    if (plain) {
      *end++ = '.';
      *end++ = '0';
    }
    return end;
  }

 private:
  static constexpr std::size_t kBufferBytes = std::size_t{1} << 20;

  void check_options() const {
    const char d = options_.delimiter, q = options_.quote;
    RECSYS_CHECK(d != '\n' && d != '\r', "CsvWriter: the delimiter cannot be a line break");
    RECSYS_CHECK(options_.quoting == CsvQuoting::none || (q != d && q != '\n' && q != '\r'),
                 "CsvWriter: the quote character must differ from the delimiter and line breaks");
    RECSYS_CHECK(!options_.line_terminator.empty(), "CsvWriter: line_terminator is empty");
  }

  bool needs_quotes(std::string_view text) const {
    switch (options_.quoting) {
      case CsvQuoting::all: return true;
      case CsvQuoting::none:
        for (char c : text)
          RECSYS_CHECK(c != options_.delimiter && c != '\n' && c != '\r', "CsvWriter: '", path_, "' row ", rows_ + 1,
                       ", column ", fields_in_row_,
                       ": the field holds a delimiter or line break, which quoting none cannot write");
        return false;
      case CsvQuoting::minimal:
        for (char c : text)
          if (c == options_.delimiter || c == options_.quote || c == '\n' || c == '\r') return true;
        // A byte-order mark opening the output would be taken for the file's own BOM by readers.
        return rows_ == 0 && fields_in_row_ == 1 && text.starts_with("\xEF\xBB\xBF");
    }
    return true;
  }

  void write_quoted(std::string_view text) {
    row_has_text_ = true;
    buffer_.push_back(options_.quote);
    for (char c : text) {
      if (c == options_.quote) buffer_.push_back(c);  // RFC 4180: a quote inside quotes is doubled
      buffer_.push_back(c);
    }
    buffer_.push_back(options_.quote);
  }

  void separate() {
    RECSYS_CHECK(!closed_, "CsvWriter: '", path_, "' is closed");
    if (fields_in_row_ > 0) buffer_.push_back(options_.delimiter);
    ++fields_in_row_;
  }

  CsvWriteOptions options_;
  std::string path_;
  std::FILE* file_ = nullptr;
  std::ostream* stream_ = nullptr;
  std::string buffer_;
  bool row_has_text_ = false;  // false while every byte of the row is still empty
  std::int64_t fields_in_row_ = 0;
  std::int64_t rows_ = 0;
  bool closed_ = false;
};

}  // namespace recsys::data
