// recsys/data/csv_reader.hpp — CSV/TSV reading: byte sources, the chunked tokenizer, typed chunks and read_csv.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <istream>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#ifdef RECSYS_HAVE_ZLIB
#include <unistd.h>
#include <zlib.h>
#endif

#include "recsys/core/error.hpp"
#include "recsys/data/column.hpp"
#include "recsys/data/parse_number.hpp"
#include "recsys/data/table.hpp"

namespace recsys::data {

/// How to read a delimited text file. The defaults read RFC 4180 CSV with a header row.
struct CsvOptions {
  char delimiter = ',';
  char quote = '"';
  /// false: quote characters are ordinary text (pandas quoting=csv.QUOTE_NONE). Needed for files
  /// like imdb_labelled.txt, whose unbalanced quotes would otherwise swallow line breaks.
  bool quoting = true;
  bool header = true;  ///< the first row holds the column names
  /// Column names: replace the header's, or name a headerless file's columns (default "0", "1", ...).
  std::vector<std::string> names;
  /// Cells whose whole text equals one of these are missing (pandas na_values with keep_default_na=False).
  std::vector<std::string> na_values = {"", "NA", "NaN"};
  /// Fixed types by column name; other columns are inferred (int64, else float64, else string).
  std::vector<std::pair<std::string, ColumnType>> dtypes;
  bool infer_types = true;                          ///< false: columns not in dtypes are strings
  bool skip_blank_lines = true;                     ///< as pandas: an empty line is not a row
  std::size_t buffer_bytes = std::size_t{1} << 20;  ///< bytes read at a time (at least 4; grows for longer rows)
};

/// Where the bytes come from: a file, a stream or a string, read in pieces.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  /// Copies up to n bytes into out; returns 0 only at the end of the input.
  virtual std::size_t read(char* out, std::size_t n) = 0;
  /// Total bytes, when known (0: unknown); used to reserve memory.
  virtual std::uint64_t size_hint() const { return 0; }
};

/// A file read with fread (never mapped whole, so it may be larger than memory).
class FileSource final : public ByteSource {
 public:
  explicit FileSource(const std::string& path) : path_(path), file_(std::fopen(path.c_str(), "rb")) {
    RECSYS_CHECK(file_ != nullptr, "read_csv: cannot open '", path, "': ", std::strerror(errno));
    std::error_code ec;
    size_ = std::filesystem::file_size(path, ec);
    if (ec) size_ = 0;
  }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  ~FileSource() override { std::fclose(file_); }
  std::size_t read(char* out, std::size_t n) override {
    const std::size_t got = std::fread(out, 1, n, file_);
    RECSYS_CHECK(got > 0 || !std::ferror(file_), "read_csv: cannot read '", path_, "': ", std::strerror(errno));
    return got;
  }
  std::uint64_t size_hint() const override { return size_; }

 private:
  std::string path_;
  std::FILE* file_;
  std::uint64_t size_ = 0;
};

/// Bytes held in memory (owned, so the source may outlive the caller's string).
class StringSource final : public ByteSource {
 public:
  explicit StringSource(std::string text) : text_(std::make_shared<const std::string>(std::move(text))) {}
  explicit StringSource(std::shared_ptr<const std::string> text) : text_(std::move(text)) {}
  std::size_t read(char* out, std::size_t n) override {
    const std::size_t k = std::min(n, text_->size() - pos_);
    std::memcpy(out, text_->data() + pos_, k);
    pos_ += k;
    return k;
  }
  std::uint64_t size_hint() const override { return text_->size(); }

 private:
  std::shared_ptr<const std::string> text_;
  std::size_t pos_ = 0;
};

/// A std::istream the caller keeps alive.
class StreamSource final : public ByteSource {
 public:
  explicit StreamSource(std::istream& in) : in_(&in) {}
  std::size_t read(char* out, std::size_t n) override {
    in_->read(out, static_cast<std::streamsize>(n));
    return static_cast<std::size_t>(in_->gcount());
  }

 private:
  std::istream* in_;
};

/// Splits bytes into records and fields. A hand-written state machine over a buffer that is
/// refilled from the source; a record is parsed in one pass that records field boundaries
/// without touching the bytes, so a record cut by the end of the buffer is simply re-parsed after
/// the refill. Fields are views into the buffer: no allocation per field. Quoted fields with
/// doubled quotes are unescaped in place once their record is complete.
class CsvTokenizer {
 public:
  CsvTokenizer(std::unique_ptr<ByteSource> source, std::string name, const CsvOptions& options)
      : source_(std::move(source)),
        name_(std::move(name)),
        delim_(options.delimiter),
        quote_(options.quote),
        quoting_(options.quoting),
        skip_blank_(options.skip_blank_lines) {
    RECSYS_CHECK(delim_ != '\n' && delim_ != '\r', "read_csv: the delimiter cannot be a line break");
    RECSYS_CHECK(!quoting_ || (quote_ != delim_ && quote_ != '\n' && quote_ != '\r'),
                 "read_csv: the quote character must differ from the delimiter and line breaks");
    buf_.resize(std::max<std::size_t>(options.buffer_bytes, 4));  // 4: room to test for the BOM
    for (int c :
         {static_cast<unsigned char>(delim_), static_cast<unsigned char>('\n'), static_cast<unsigned char>('\r')})
      stop_[c] = true;
  }

  /// The next record's fields, or false at the end of the input. The views stay valid until the
  /// next call.
  bool next(std::vector<std::string_view>& fields) {
    if (!started_) start();
    for (;;) {
      const Parse r = parse_record();
      if (r == Parse::need_more) {
        refill();
        continue;
      }
      if (r == Parse::end) return false;
      if (skip_blank_ && spans_.size() == 1 && spans_[0].begin == spans_[0].end && !spans_[0].quoted) continue;
      fields.clear();
      for (Span& s : spans_) {
        if (s.escaped) s.end = unescape(s.begin, s.end);
        fields.emplace_back(buf_.data() + s.begin, s.end - s.begin);
      }
      ++records_;
      return true;
    }
  }

  /// Line (1-based) where the last record returned by next() starts.
  std::int64_t line() const { return record_line_; }
  /// Records returned so far.
  std::int64_t records() const { return records_; }
  /// Bytes of input consumed so far.
  std::uint64_t bytes_consumed() const { return consumed_before_ + pos_; }
  /// Total input bytes when the source knows them (0: unknown).
  std::uint64_t size_hint() const { return source_->size_hint(); }
  const std::string& name() const { return name_; }

 private:
  enum class Parse { ok, need_more, end };
  struct Span {
    std::size_t begin, end;
    bool quoted, escaped;
  };

  void start() {
    started_ = true;
    while (end_ < 3 && !eof_) read_more();
    if (end_ >= 3 && std::memcmp(buf_.data(), "\xEF\xBB\xBF", 3) == 0) pos_ = 3;  // UTF-8 byte-order mark
  }

  void read_more() {
    const std::size_t got = source_->read(buf_.data() + end_, buf_.size() - end_);
    if (got == 0) eof_ = true;
    end_ += got;
  }

  // Keeps the unfinished record, making room (doubling the buffer if the record fills it).
  void refill() {
    if (pos_ > 0) {
      std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
      consumed_before_ += pos_;
      end_ -= pos_;
      pos_ = 0;
    }
    if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);
    read_more();
  }

  [[noreturn]] void fail(std::int64_t line, std::size_t column, const std::string& what) const {
    RECSYS_FAIL("read_csv: '", name_, "', line ", line, ", column ", column, ": ", what);
  }

  Parse parse_record() {
    spans_.clear();
    std::size_t p = pos_;
    std::int64_t line = line_;
    if (p == end_) return eof_ ? Parse::end : Parse::need_more;
    const char* b = buf_.data();
    for (;;) {
      if (quoting_ && p < end_ && b[p] == quote_) {
        const std::int64_t open_line = line;
        std::size_t q = p + 1;
        bool escaped = false;
        for (;;) {
          const char* hit = static_cast<const char*>(std::memchr(b + q, quote_, end_ - q));
          const std::size_t stop = hit ? static_cast<std::size_t>(hit - b) : end_;
          line += std::count(b + q, b + stop, '\n');
          if (!hit || stop + 1 == end_) {
            if (!eof_) return Parse::need_more;
            if (!hit)
              fail(open_line, spans_.size() + 1,
                   std::string("unterminated quoted field: expected a closing ") + quote_ +
                       " before the end of the file");
          }
          if (stop + 1 < end_ && b[stop + 1] == quote_) {  // "" inside quotes is one quote
            escaped = true;
            q = stop + 2;
            continue;
          }
          spans_.push_back({p + 1, stop, true, escaped});
          p = stop + 1;
          break;
        }
        if (p < end_ && b[p] != delim_ && b[p] != '\n' && b[p] != '\r')
          fail(line, spans_.size(),
               std::string("expected the delimiter or a line break after the closing quote, got '") + b[p] + "'");
      } else {
        std::size_t s = p;
        while (s < end_ && !stop_[static_cast<unsigned char>(b[s])]) ++s;
        if (s == end_ && !eof_) return Parse::need_more;
        spans_.push_back({p, s, false, false});
        p = s;
      }
      if (p < end_ && b[p] == delim_) {
        ++p;
        if (p == end_ && !eof_) return Parse::need_more;
        continue;
      }
      break;
    }
    // p is at '\n', '\r' or the end of the input.
    if (p < end_) {
      if (b[p] == '\r') {
        if (p + 1 == end_ && !eof_) return Parse::need_more;
        p += (p + 1 < end_ && b[p + 1] == '\n') ? 2 : 1;
      } else {
        ++p;
      }
      record_line_ = line_;
      line_ = line + 1;
    } else {
      record_line_ = line_;
      line_ = line;
    }
    pos_ = p;
    return Parse::ok;
  }

  // Collapses doubled quotes in [begin, end); returns the new end.
  std::size_t unescape(std::size_t begin, std::size_t end) {
    char* b = buf_.data();
    std::size_t w = begin;
    for (std::size_t r = begin; r < end; ++r) {
      b[w++] = b[r];
      if (b[r] == quote_) ++r;
    }
    return w;
  }

  std::unique_ptr<ByteSource> source_;
  std::string name_;
  char delim_, quote_;
  bool quoting_, skip_blank_;
  bool stop_[256] = {};
  std::vector<char> buf_;
  std::size_t pos_ = 0, end_ = 0;
  std::uint64_t consumed_before_ = 0;
  bool eof_ = false, started_ = false;
  std::int64_t line_ = 1, record_line_ = 0, records_ = 0;
  std::vector<Span> spans_;
};

namespace detail {

/// Thrown inside read_all when column `column` meets text after its first chunk was typed as a
/// number: read_all reads the input again with that column as string.
struct RestartAsString {
  std::size_t column;
};

/// Types a column of text in one pass: int64 while every present cell is an integer, float64 once
/// one is not (earlier integers widen exactly), string as soon as one cell is not a number. An
/// all-missing column is float64, as in pandas.
inline Column infer_column(const Column& text) {
  std::vector<std::int64_t> ints;
  std::vector<double> reals;
  bool is_real = false;
  std::int64_t iv = 0;
  double dv = 0;
  const std::int64_t n = text.size();
  ints.reserve(static_cast<std::size_t>(n));
  for (std::int64_t r = 0; r < n; ++r) {
    if (text.is_missing(r)) {
      is_real ? reals.push_back(0.0) : ints.push_back(0);
      continue;
    }
    const NumberKind kind = classify_number(text.string_at(r), iv, dv);
    if (kind == NumberKind::text) return text;
    if (kind == NumberKind::real && !is_real) {
      is_real = true;
      reals.assign(ints.begin(), ints.end());
      ints = {};
    }
    if (is_real) {
      reals.push_back(kind == NumberKind::integer ? static_cast<double>(iv) : dv);
    } else {
      ints.push_back(iv);
    }
  }
  const bool all_missing = text.missing_count() == n;
  if (is_real || all_missing) {
    if (!is_real) reals.assign(ints.begin(), ints.end());
    return Column::from_doubles(text.name(), std::move(reals), text.missing_mask());
  }
  return Column::from_ints(text.name(), std::move(ints), text.missing_mask());
}

}  // namespace detail

// ---- Named inputs: files, standard input, FIFOs, gzip -------------------------------------------------

/// "-" and "/dev/stdin" name standard input.
inline bool is_standard_input(const std::string& path) { return path == "-" || path == "/dev/stdin"; }

namespace input_detail {
inline std::string prefix(std::string_view op) { return op.empty() ? std::string() : std::string(op) + ": "; }
/// strerror with a lower-case first letter, to read inside a sentence ("permission denied").
inline std::string reason(int err) {
  std::string s = std::strerror(err);
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z' && (s.size() < 2 || s[1] < 'A' || s[1] > 'Z')) s[0] = char(s[0] - 'A' + 'a');
  return s;
}
inline bool looks_gzip(const char* p, std::size_t n) {
  return n >= 2 && static_cast<unsigned char>(p[0]) == 0x1f && static_cast<unsigned char>(p[1]) == 0x8b;
}
[[noreturn]] inline void refuse_gzip(const std::string& path, std::string_view op) {
  RECSYS_FAIL(prefix(op), "'", path, "': this looks like a gzip file (it starts with the bytes 1f 8b); gunzip it first",
              " (this build reads no gzip: it was compiled without zlib)");
}
/// Inputs read once and kept for the rest of the process: standard input and FIFOs cannot be read a second
/// time, and a reader such as read_table (header first, then the rows) or the command's format sniffing
/// reads its input more than once.
struct OnceCache {
  std::mutex mutex;
  std::unordered_map<std::string, std::shared_ptr<const std::string>> bytes;
};
inline OnceCache& once_cache() {
  static OnceCache c;
  return c;
}
}  // namespace input_detail

/// Checks that `path` names something to read: throws naming a missing file ("no file 'X'"), a directory
/// ("'X' is a directory, not a file") or an unreadable file ("cannot read 'X': permission denied"), with
/// `op` in front when given. Standard input, FIFOs and devices pass; gzip files are looked at when read.
inline void check_input(const std::string& path, std::string_view op = {}) {
  namespace fs = std::filesystem;
  using input_detail::prefix;
  if (is_standard_input(path)) return;
  RECSYS_CHECK(!path.empty(), prefix(op), "no file name given");
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) {
    RECSYS_CHECK(!ec || ec == std::errc::no_such_file_or_directory, prefix(op), "cannot read '", path, "': ",
                 ec.message());
    RECSYS_FAIL(prefix(op), "no file '", path, "'");
  }
  RECSYS_CHECK(!fs::is_directory(st), prefix(op), "'", path, "' is a directory, not a file");
  if (fs::is_fifo(st)) return;  // opening a FIFO waits for its writer: that happens when it is read
  std::FILE* f = std::fopen(path.c_str(), "rb");
  RECSYS_CHECK(f != nullptr, prefix(op), "cannot read '", path, "': ", input_detail::reason(errno));
  std::fclose(f);
}

#ifdef RECSYS_HAVE_ZLIB
/// A gzip-compressed file read through zlib, in pieces (concatenated members too).
class GzipFileSource final : public ByteSource {
 public:
  explicit GzipFileSource(const std::string& path) : path_(path), file_(gzopen(path.c_str(), "rb")) {
    RECSYS_CHECK(file_ != nullptr, "read_csv: cannot open '", path, "': ", input_detail::reason(errno));
    gzbuffer(file_, 1u << 17);
  }
  GzipFileSource(const GzipFileSource&) = delete;
  GzipFileSource& operator=(const GzipFileSource&) = delete;
  ~GzipFileSource() override { gzclose(file_); }
  std::size_t read(char* out, std::size_t n) override {
    const int got = gzread(file_, out, static_cast<unsigned>(std::min<std::size_t>(n, 1u << 30)));
    int err = Z_OK;
    const char* text = gzerror(file_, &err);
    RECSYS_CHECK(got > 0 || err == Z_OK, "read_csv: cannot read the gzip file '", path_, "': ",
                 err == Z_BUF_ERROR ? "it is cut short" : text);
    return static_cast<std::size_t>(got);
  }

 private:
  std::string path_;
  gzFile file_;
};
#endif

/// The whole of a one-shot input (standard input, a FIFO, a device), read once per process and kept: a
/// second call for the same input returns the same bytes. Gzip-compressed bytes are decompressed (with
/// zlib) or refused naming the file.
inline std::shared_ptr<const std::string> read_input_once(const std::string& path, std::string_view op = {}) {
  // One key per input however it is spelt ("pipe", "./pipe", "/work/pipe"): a command may name it one way
  // when it looks at the first line and another when it reads the data.
  const std::string key = is_standard_input(path) ? std::string("-")
                                                  : std::filesystem::absolute(path).lexically_normal().string();
  input_detail::OnceCache& cache = input_detail::once_cache();
  std::lock_guard<std::mutex> lock(cache.mutex);
  if (auto it = cache.bytes.find(key); it != cache.bytes.end()) return it->second;
  const std::string shown = key == "-" ? std::string("standard input") : path;
  std::FILE* f = key == "-" ? stdin : std::fopen(path.c_str(), "rb");
  RECSYS_CHECK(f != nullptr, input_detail::prefix(op), "cannot read '", path, "': ", input_detail::reason(errno));
  std::string bytes;
  char buf[1 << 16];
  bool failed = false;
  int err = 0;
#ifdef RECSYS_HAVE_ZLIB
  // zlib reads plain bytes through unchanged and decompresses gzip ones.
  gzFile z = gzdopen(::dup(::fileno(f)), "rb");
  RECSYS_CHECK(z != nullptr, input_detail::prefix(op), "cannot read '", shown, "'");
  for (int got; (got = gzread(z, buf, sizeof buf)) > 0;) bytes.append(buf, static_cast<std::size_t>(got));
  int zerr = Z_OK;
  const std::string ztext = gzerror(z, &zerr);
  gzclose(z);
  if (f != stdin) std::fclose(f);
  RECSYS_CHECK(zerr == Z_OK, input_detail::prefix(op), "cannot read '", shown, "': ",
               zerr == Z_BUF_ERROR ? std::string("the gzip data is cut short") : ztext);
#else
  for (std::size_t got; (got = std::fread(buf, 1, sizeof buf, f)) > 0;) bytes.append(buf, got);
  failed = std::ferror(f) != 0;
  err = errno;
  if (f != stdin) std::fclose(f);
  if (input_detail::looks_gzip(bytes.data(), bytes.size())) input_detail::refuse_gzip(shown, op);
#endif
  RECSYS_CHECK(!failed, input_detail::prefix(op), "cannot read '", shown, "': ", input_detail::reason(err));
  auto shared = std::make_shared<const std::string>(std::move(bytes));
  cache.bytes.emplace(key, shared);
  return shared;
}

/// How CsvReader opens a named input, any number of times: a plain file from disk in pieces; a gzip file
/// through zlib (or refused: "this looks like a gzip file; gunzip it first"); standard input ("-",
/// "/dev/stdin"), FIFOs and devices read once into memory by read_input_once. Checks the name first
/// (check_input).
inline std::function<std::unique_ptr<ByteSource>()> input_opener(const std::string& path, std::string_view op = {}) {
  namespace fs = std::filesystem;
  check_input(path, op);
  std::error_code ec;
  if (is_standard_input(path) || !fs::is_regular_file(fs::status(path, ec))) {
    std::shared_ptr<const std::string> bytes = read_input_once(path, op);
    return [bytes] { return std::unique_ptr<ByteSource>(std::make_unique<StringSource>(bytes)); };
  }
  char magic[2] = {};
  std::size_t got = 0;
  if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
    got = std::fread(magic, 1, 2, f);
    std::fclose(f);
  }
  if (input_detail::looks_gzip(magic, got)) {
#ifdef RECSYS_HAVE_ZLIB
    return [path] { return std::unique_ptr<ByteSource>(std::make_unique<GzipFileSource>(path)); };
#else
    input_detail::refuse_gzip(path, op);
#endif
  }
  return [path] { return std::unique_ptr<ByteSource>(std::make_unique<FileSource>(path)); };
}

/// The first line of a named input (without its line break), read as input_opener reads it.
inline std::string first_input_line(const std::string& path, std::string_view op = {}) {
  std::unique_ptr<ByteSource> source = input_opener(path, op)();
  std::string line;
  char buf[4096];
  for (std::size_t got; (got = source->read(buf, sizeof buf)) > 0;) {
    const char* end = static_cast<const char*>(std::memchr(buf, '\n', got));
    line.append(buf, end ? static_cast<std::size_t>(end - buf) : got);
    if (end || line.size() > (std::size_t{1} << 20)) break;
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

/// Reads a delimited file as typed tables, all at once (read_all) or in chunks of rows
/// (next_chunk) so that files larger than memory stream through constant memory. Column types come
/// from options.dtypes or are inferred from the first chunk and then fixed; a later value that does
/// not fit is an error naming its line and column. Errors name the file, the line and the column.
///
///   CsvReader reader("ratings.csv");
///   while (auto chunk = reader.next_chunk(1 << 16)) consume(*chunk);
class CsvReader {
 public:
  /// Opens a file, or standard input ("-"), a FIFO or a gzip file (see input_opener).
  explicit CsvReader(const std::string& path, CsvOptions options = {})
      : CsvReader(input_opener(path, "read_csv"), path, std::move(options)) {}
  /// Reads from a source that `open` can create again (read_all may read twice); `name` is used in
  /// error messages.
  CsvReader(std::function<std::unique_ptr<ByteSource>()> open, std::string name, CsvOptions options)
      : options_(std::move(options)), tok_(open(), std::move(name), options_), reopen_(std::move(open)) {
    init();
  }
  /// Reads from a one-shot source (a stream).
  CsvReader(std::unique_ptr<ByteSource> source, std::string name, CsvOptions options)
      : options_(std::move(options)), tok_(std::move(source), std::move(name), options_) {
    init();
  }
  /// Reads CSV text held in memory.
  static CsvReader from_string(std::string text, CsvOptions options = {}, std::string name = "<string>") {
    auto shared = std::make_shared<const std::string>(std::move(text));
    return CsvReader([shared] { return std::unique_ptr<ByteSource>(std::make_unique<StringSource>(shared)); },
                     std::move(name), std::move(options));
  }

  /// Column names (from the header, options.names, or "0", "1", ...).
  const std::vector<std::string>& names() const { return names_; }
  /// Column types: those in options.dtypes at once, the inferred ones after the first chunk.
  const std::vector<ColumnType>& types() const { return types_; }
  /// Data rows returned so far.
  std::int64_t rows_read() const { return rows_read_; }
  /// Line (1-based) where the last record returned by next_record() or read into a chunk starts.
  std::int64_t line() const { return tok_.line(); }
  /// Bytes consumed from the input so far.
  std::uint64_t bytes_consumed() const { return tok_.bytes_consumed(); }

  /// The next record's fields as text (escapes resolved), checked for the column count; false at
  /// the end. The views stay valid until the next call. Bypasses typing: the fastest raw access.
  bool next_record(std::vector<std::string_view>& fields) {
    if (pending_first_) {
      pending_first_ = false;
      fields.assign(first_row_.begin(), first_row_.end());
      ++rows_read_;
      return true;
    }
    if (!tok_.next(fields)) return false;
    check_width(fields.size());
    ++rows_read_;
    return true;
  }

  /// Up to max_rows more rows as a Table, or nullopt when the input is exhausted.
  std::optional<Table> next_chunk(std::int64_t max_rows = 65536) {
    RECSYS_CHECK(max_rows > 0, "read_csv: chunk size must be positive, got ", max_rows);
    const std::size_t ncols = names_.size();
    std::vector<Column> cols;
    for (std::size_t j = 0; j < ncols; ++j) cols.emplace_back(names_[j], typed_ ? types_[j] : pending_type(j));
    std::int64_t n = 0;
    while (n < max_rows && next_record(fields_)) {
      const std::int64_t line = tok_.line();
      for (std::size_t j = 0; j < ncols; ++j) append(cols[j], fields_[j], line, j);
      ++n;
    }
    if (n == 0 && chunks_ > 0) return std::nullopt;
    ++chunks_;
    if (!typed_) {
      for (std::size_t j = 0; j < ncols; ++j) {
        if (!fixed_[j]) {
          if (options_.infer_types) cols[j] = detail::infer_column(cols[j]);
          types_[j] = cols[j].type();
        }
      }
      typed_ = true;
    }
    return Table(std::move(cols));  // names already unique (read_header): one linear check
  }

  /// Every remaining row as one Table, typed as if inferred over all rows at once.
  ///
  /// Fast path (files and strings): infer from the first kWindow rows, parse the rest straight into
  /// typed columns (an int64 column meeting a real number widens to float64 exactly), and in the
  /// rare case that an inferred numeric column meets text later, read the input again with that
  /// column as string. One-shot sources keep every inferred column's text until the end instead.
  Table read_all() {
    if (chunks_ > 0 || !reopen_) return chunks_ > 0 ? accumulate(Table(), false) : read_whole();
    bool speculate = true;
    for (;;) {
      try {
        if (!speculate) return read_whole();
        if (std::optional<Table> t = read_speculative()) return std::move(*t);
        speculate = false;  // a column had no values in the window: infer over everything
      } catch (const detail::RestartAsString& r) {
        options_.dtypes.emplace_back(names_[r.column], ColumnType::string);
      }
      restart();
    }
  }

 private:
  static constexpr std::int64_t kWindow = 16384;  // rows that type a column in read_all's fast path

  void init() {
    for (const std::string& na : options_.na_values) {
      if (na.size() < 64)
        na_lengths_ |= std::uint64_t{1} << na.size();
      else
        na_long_ = true;
    }
    read_header();
  }

  // Starts over from the first byte (read_all's second pass).
  void restart() {
    tok_ = CsvTokenizer(reopen_(), tok_.name(), options_);
    first_row_.clear();
    pending_first_ = false;
    lenient_ = false;
    rows_read_ = chunks_ = 0;
    read_header();
  }

  // Everything in one chunk: exact inference over all rows.
  Table read_whole() {
    std::optional<Table> t = next_chunk(std::numeric_limits<std::int64_t>::max());
    return t ? std::move(*t) : Table();
  }

  // The first window infers; later chunks widen int64 to float64 or throw RestartAsString.
  std::optional<Table> read_speculative() {
    Table first = *next_chunk(kWindow);
    if (first.num_rows() == kWindow)
      for (std::size_t j = 0; j < names_.size(); ++j)
        if (!fixed_[j] && first.column(static_cast<std::int64_t>(j)).missing_count() == kWindow) return std::nullopt;
    return accumulate(std::move(first), true);
  }

  // Appends the remaining chunks to `acc`, reserving room from the input size when it is known.
  Table accumulate(Table acc, bool lenient) {
    lenient_ = lenient;
    std::vector<Column> cols;
    if (acc.num_columns() == 0) {
      for (std::size_t j = 0; j < names_.size(); ++j) cols.emplace_back(names_[j], types_[j]);
    } else {
      cols = acc.columns();
      const std::uint64_t used = tok_.bytes_consumed(), total = tok_.size_hint();
      if (total > used && used > 0 && acc.num_rows() > 0) {
        const double scale = 1.05 * static_cast<double>(total) / static_cast<double>(used);
        for (Column& c : cols)
          c.reserve(static_cast<std::int64_t>(scale * static_cast<double>(c.size())) + 16,
                    static_cast<std::size_t>(scale * static_cast<double>(c.string_bytes())));
      }
    }
    while (std::optional<Table> chunk = next_chunk(kWindow)) {
      for (std::size_t j = 0; j < cols.size(); ++j) {
        const Column& part = chunk->column(static_cast<std::int64_t>(j));
        if (part.type() != cols[j].type()) cols[j] = cols[j].to_float64();  // widened in this chunk
        cols[j].append(part);
      }
    }
    lenient_ = false;
    return Table(std::move(cols));
  }

  void read_header() {
    names_.clear();
    std::vector<std::string_view> fields;
    if (options_.header) {
      RECSYS_CHECK(tok_.next(fields), "read_csv: '", tok_.name(), "' is empty: expected a header row");
      for (std::string_view f : fields) names_.emplace_back(f);
      if (!options_.names.empty()) {
        RECSYS_CHECK(options_.names.size() == names_.size(), "read_csv: '", tok_.name(), "': ", options_.names.size(),
                     " names given for ", names_.size(), " header columns");
        names_ = options_.names;
      }
    } else if (!options_.names.empty()) {
      names_ = options_.names;
    } else if (tok_.next(fields)) {  // a headerless file's first row sets the width
      for (std::size_t j = 0; j < fields.size(); ++j) names_.push_back(std::to_string(j));
      first_row_.assign(fields.begin(), fields.end());
      pending_first_ = true;
    }
    // pandas' mangling of repeated names: a, a.1, a.2. A hash set: a header of 10^5 columns is
    // read in linear time (a search of the names so far per name was quadratic).
    // The next suffix to try is kept per name, so 10^5 copies of one name are linear too.
    std::vector<std::string> unique;
    unique.reserve(names_.size());
    std::unordered_set<std::string> taken;
    taken.reserve(names_.size() * 2);
    std::unordered_map<std::string, int> next_suffix;
    for (const std::string& name : names_) {
      std::string candidate = name;
      if (taken.count(candidate) != 0) {
        int& k = next_suffix.try_emplace(name, 1).first->second;
        do candidate = name + "." + std::to_string(k++);
        while (taken.count(candidate) != 0);
      }
      taken.insert(candidate);
      unique.push_back(std::move(candidate));
    }
    names_ = std::move(unique);
    types_.assign(names_.size(), ColumnType::string);
    fixed_.assign(names_.size(), 0);
    for (const auto& [name, type] : options_.dtypes) {
      const auto it = std::find(names_.begin(), names_.end(), name);
      RECSYS_CHECK(it != names_.end(), "read_csv: '", tok_.name(), "': dtypes names column '", name,
                   "', which is not in the file (columns: ", join(names_), ")");
      types_[static_cast<std::size_t>(it - names_.begin())] = type;
      fixed_[static_cast<std::size_t>(it - names_.begin())] = 1;
    }
    typed_ = std::all_of(fixed_.begin(), fixed_.end(), [](std::uint8_t f) { return f != 0; });
  }

  ColumnType pending_type(std::size_t j) const { return fixed_[j] ? types_[j] : ColumnType::string; }

  void check_width(std::size_t got) const {
    const std::size_t want = names_.size();
    if (got == want) return;
    const char* from = options_.header ? "the header" : (options_.names.empty() ? "the first row" : "options.names");
    RECSYS_FAIL("read_csv: '", tok_.name(), "', line ", tok_.line(), ", column ", std::min(got, want) + 1,
                ": expected ", want, " fields (as in ", from, "), got ", got,
                got > want ? " (a ragged row; a stray delimiter or quote?)" : " (a ragged row)");
  }

  bool is_na(std::string_view s) const {
    if (s.size() < 64 ? !(na_lengths_ >> s.size() & 1) : !na_long_) return false;
    for (const std::string& na : options_.na_values)
      if (na.size() == s.size() && std::equal(s.begin(), s.end(), na.begin())) return true;
    return false;
  }

  void append(Column& c, std::string_view s, std::int64_t line, std::size_t j) {
    if (is_na(s)) return c.push_missing();
    switch (c.type()) {
      case ColumnType::string: return c.push_string(s);
      case ColumnType::int64: {
        std::int64_t v;
        if (lenient_ && !fixed_[j]) return append_inferred_int(c, s, j);
        if (!detail::parse_int64(s, v)) bad_value(s, line, j, "an int64");
        return c.push_int(v);
      }
      case ColumnType::float64: {
        double v;
        if (!detail::parse_double(s, v)) {
          if (lenient_ && !fixed_[j]) throw detail::RestartAsString{j};
          bad_value(s, line, j, "a float64");
        }
        return c.push_double(v);
      }
    }
  }

  // An inferred int64 column in read_all: a real number widens it, text (or "007") restarts.
  void append_inferred_int(Column& c, std::string_view s, std::size_t j) {
    std::int64_t iv;
    double dv;
    switch (detail::classify_number(s, iv, dv)) {
      case detail::NumberKind::integer: return c.push_int(iv);
      case detail::NumberKind::real:
        c = c.to_float64();
        types_[j] = ColumnType::float64;
        return c.push_double(dv);
      case detail::NumberKind::text: throw detail::RestartAsString{j};
    }
  }

  [[noreturn]] void bad_value(std::string_view s, std::int64_t line, std::size_t j, const char* what) const {
    const std::string shown = s.size() > 40 ? std::string(s.substr(0, 40)) + "..." : std::string(s);
    const char* why = fixed_[j] ? " (set in dtypes)" : " (inferred from the first chunk; fix it with dtypes)";
    RECSYS_FAIL("read_csv: '", tok_.name(), "', line ", line, ", column ", j + 1, " ('", names_[j], "'): expected ",
                what, " value", why, ", got \"", shown, "\"");
  }

  static std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  }

  CsvOptions options_;
  CsvTokenizer tok_;
  std::vector<std::string> names_;
  std::vector<ColumnType> types_;
  std::vector<std::uint8_t> fixed_;                      // type given in options.dtypes
  bool typed_ = false;                                   // every column's type is known
  std::function<std::unique_ptr<ByteSource>()> reopen_;  // empty for one-shot sources
  bool lenient_ = false;  // read_all's fast path: inferred columns widen or restart instead of failing
  std::vector<std::string> first_row_;
  bool pending_first_ = false;
  std::vector<std::string_view> fields_;
  std::uint64_t na_lengths_ = 0;  // bit k set: some na_value has length k (a cheap first test)
  bool na_long_ = false;
  std::int64_t rows_read_ = 0, chunks_ = 0;
};

/// Reads a whole CSV/TSV file into a Table.
inline Table read_csv(const std::string& path, CsvOptions options = {}) {
  return CsvReader(path, std::move(options)).read_all();
}
/// Reads CSV text held in memory.
inline Table read_csv_string(std::string text, CsvOptions options = {}) {
  return CsvReader::from_string(std::move(text), std::move(options)).read_all();
}

}  // namespace recsys::data
