// tests/data/csv_reader_test.cpp — the CSV reader: RFC 4180 cases by hand, chunking, typing, and every error.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <recsys/data/csv.hpp>
#include <sstream>
#include <string>
#include <vector>

using namespace recsys;
using namespace recsys::data;

namespace {

/// Every record of `text` as strings (raw tokenizer output, no typing).
std::vector<std::vector<std::string>> records(const std::string& text, CsvOptions o = {}) {
  o.header = false;
  CsvTokenizer tok(std::make_unique<StringSource>(text), "<test>", o);
  std::vector<std::vector<std::string>> out;
  std::vector<std::string_view> fields;
  while (tok.next(fields)) out.emplace_back(fields.begin(), fields.end());
  return out;
}

using Rows = std::vector<std::vector<std::string>>;

/// A source that hands out one byte per read, to exercise every refill point.
class TrickleSource final : public ByteSource {
 public:
  explicit TrickleSource(std::string text) : text_(std::move(text)) {}
  std::size_t read(char* out, std::size_t n) override {
    if (pos_ == text_.size() || n == 0) return 0;
    *out = text_[pos_++];
    return 1;
  }

 private:
  std::string text_;
  std::size_t pos_ = 0;
};

}  // namespace

TEST_CASE("csv tokenizer: RFC 4180 quoting by hand") {
  CHECK(records("a,b,c\n1,2,3\n") == Rows{{"a", "b", "c"}, {"1", "2", "3"}});
  CHECK(records("\"x,y\",2\n") == Rows{{"x,y", "2"}});                    // quoted delimiter
  CHECK(records("\"say \"\"hi\"\"\",2\n") == Rows{{"say \"hi\"", "2"}});  // doubled quotes
  CHECK(records("\"two\nlines\",2\r\n3,4\r\n") == Rows{{"two\nlines", "2"}, {"3", "4"}});
  CHECK(records("\"\"\"\"\n") == Rows{{"\""}});      // a field that is one quote
  CHECK(records("\"\",x\n") == Rows{{"", "x"}});     // quoted empty field
  CHECK(records(",,\n") == Rows{{"", "", ""}});      // three empty fields
  CHECK(records("a,b,\n") == Rows{{"a", "b", ""}});  // trailing delimiter = empty last field
  CHECK(records("a,\"b\"") == Rows{{"a", "b"}});     // no final newline
  CHECK(records("a,b") == Rows{{"a", "b"}});
  CHECK(records("ab\"c,d\n") == Rows{{"ab\"c", "d"}});  // a quote inside an unquoted field is text
  CHECK(records("").empty());
  CHECK(records("\n\n\r\n").empty());  // blank lines are skipped
}

TEST_CASE("csv tokenizer: line endings, BOM, delimiters, quoting off, blank lines") {
  CHECK(records("a,b\r\nc,d\r\n") == Rows{{"a", "b"}, {"c", "d"}});  // CRLF
  CHECK(records("a,b\rc,d\r") == Rows{{"a", "b"}, {"c", "d"}});      // lone CR (old Mac files)
  CHECK(records("a,b\nc,d") == Rows{{"a", "b"}, {"c", "d"}});
  CHECK(records("\xEF\xBB\xBFid,x\n1,2\n") == Rows{{"id", "x"}, {"1", "2"}});  // BOM stripped
  CHECK(records("\xEF\xBB\xBF").empty());
  CHECK(records("x\n\xEF\xBB\xBF\n") == Rows{{"x"}, {"\xEF\xBB\xBF"}});  // only a leading BOM is special

  CsvOptions tsv;
  tsv.delimiter = '\t';
  CHECK(records("a b\tc,d\n", tsv) == Rows{{"a b", "c,d"}});
  CsvOptions semi;
  semi.delimiter = ';';
  CHECK(records("1;\"2;3\"\n", semi) == Rows{{"1", "2;3"}});
  CsvOptions single;
  single.quote = '\'';
  CHECK(records("'a,b','it''s'\n", single) == Rows{{"a,b", "it's"}});

  CsvOptions raw;  // quoting off: what imdb_labelled.txt needs
  raw.delimiter = '\t';
  raw.quoting = false;
  CHECK(records("He said \"wow\tno\n\"x\"\t1\n", raw) == Rows{{"He said \"wow", "no"}, {"\"x\"", "1"}});
  CHECK(records("a\xC2\x85"
                "b\t1\n",
                raw) == Rows{{"a\xC2\x85"
                              "b",
                              "1"}});  // U+0085 is not a line break

  CsvOptions keep_blank;
  keep_blank.skip_blank_lines = false;
  CHECK(records("a\n\nb\n", keep_blank) == Rows{{"a"}, {""}, {"b"}});
  CHECK(records("a\n\"\"\nb\n") == Rows{{"a"}, {""}, {"b"}});  // a quoted empty field is a row, not a blank line
}

TEST_CASE("csv tokenizer: every buffer size and one-byte reads give the same records") {
  const std::string text =
      "\xEF\xBB\xBFid,title,note\r\n1,\"American President, The (1995)\",\"say \"\"hi\"\"\"\r\n"
      "2,\"multi\nline\r\nfield\",x\r\n\r\n3,,\"\"\r\n4,last,\"q\"\"\"";
  const Rows expected = records(text);
  REQUIRE(expected.size() == 5);
  CHECK(expected[1][1] == "American President, The (1995)");
  CHECK(expected[2][1] == "multi\nline\r\nfield");
  CHECK(expected[4][2] == "q\"");
  for (std::size_t size = 4; size <= 48; ++size) {
    CsvOptions o;
    o.buffer_bytes = size;
    INFO("buffer_bytes = ", size);
    CHECK(records(text, o) == expected);
  }
  CsvOptions o;
  o.header = false;
  o.buffer_bytes = 4;
  CsvTokenizer tok(std::make_unique<TrickleSource>(text), "<trickle>", o);
  Rows got;
  std::vector<std::string_view> fields;
  while (tok.next(fields)) got.emplace_back(fields.begin(), fields.end());
  CHECK(got == expected);
  CHECK(tok.bytes_consumed() == text.size());
}

TEST_CASE("csv tokenizer: line numbers count the lines inside quoted fields") {
  CsvOptions o;
  o.header = false;
  CsvTokenizer tok(std::make_unique<StringSource>("a\n\"b\nc\nd\"\n\ne\n"), "<t>", o);
  std::vector<std::string_view> f;
  REQUIRE(tok.next(f));
  CHECK(tok.line() == 1);
  REQUIRE(tok.next(f));
  CHECK(tok.line() == 2);
  REQUIRE(tok.next(f));
  CHECK(f[0] == "e");
  CHECK(tok.line() == 6);
  CHECK_FALSE(tok.next(f));
  CHECK(tok.records() == 3);
}

TEST_CASE("read_csv: typed columns, inference, missing values") {
  const Table t = read_csv_string(
      "id,zip,score,name,count\n"
      "1,02139,4.5,Ann,3\n"
      "2,10001,NA,\"Lee, Bo\",\n"
      "3,00501,NaN,NA,7\n"
      "4,94103,-1e3,,+8\n");
  REQUIRE(t.num_rows() == 4);
  REQUIRE(t.names() == std::vector<std::string>{"id", "zip", "score", "name", "count"});
  const Column& id = t.column("id");
  CHECK(id.type() == ColumnType::int64);
  CHECK(id.ints() == std::vector<std::int64_t>{1, 2, 3, 4});
  const Column& zip = t.column("zip");
  CHECK(zip.type() == ColumnType::string);  // leading zeros: an identifier, kept as text
  CHECK(zip.string_at(0) == "02139");
  CHECK(zip.string_at(2) == "00501");
  const Column& score = t.column("score");
  CHECK(score.type() == ColumnType::float64);
  CHECK(score.float_at(0) == 4.5);
  CHECK(score.is_missing(1));
  CHECK(score.is_missing(2));
  CHECK(score.float_at(3) == -1000.0);
  const Column& name = t.column("name");
  CHECK(name.type() == ColumnType::string);
  CHECK(name.string_at(1) == "Lee, Bo");
  CHECK(name.is_missing(2));
  CHECK(name.is_missing(3));
  const Column& count = t.column("count");
  CHECK(count.type() == ColumnType::int64);  // missing cells do not force float64
  CHECK(count.is_missing(1));
  CHECK(count.int_at(3) == 8);
  CHECK(count.missing_count() == 1);
}

TEST_CASE("read_csv: inference edge cases") {
  auto type_of = [](const std::string& values) { return read_csv_string("x\n" + values).column("x").type(); };
  CHECK(type_of("1\n-2\n0\n") == ColumnType::int64);
  CHECK(type_of("1\n2.5\n") == ColumnType::float64);
  CHECK(type_of("1\ninf\n-inf\n") == ColumnType::float64);
  CHECK(type_of("9223372036854775807\n") == ColumnType::int64);
  CHECK(type_of("9223372036854775808\n") == ColumnType::float64);  // past int64: a float
  CHECK(type_of("0.5\n0\n") == ColumnType::float64);
  CHECK(type_of("007\n") == ColumnType::string);
  CHECK(type_of("1\nabc\n") == ColumnType::string);
  CHECK(type_of("NA\n\n") == ColumnType::float64);  // all missing, as pandas
  CHECK(type_of(" 5 \n6\n") == ColumnType::int64);  // blanks around numbers are allowed
  CHECK(read_csv_string("x\n 5 \n").column("x").int_at(0) == 5);
}

TEST_CASE("read_csv: options — dtypes, names, headerless, na_values, infer_types off, duplicate names") {
  CsvOptions o;
  o.dtypes = {{"a", ColumnType::float64}, {"b", ColumnType::string}};
  Table t = read_csv_string("a,b,c\n1,2,3\n", o);
  CHECK(t.column("a").type() == ColumnType::float64);
  CHECK(t.column("a").float_at(0) == 1.0);
  CHECK(t.column("b").type() == ColumnType::string);
  CHECK(t.column("c").type() == ColumnType::int64);

  CsvOptions headerless;
  headerless.header = false;
  t = read_csv_string("1,x\n2,y\n", headerless);
  CHECK(t.names() == std::vector<std::string>{"0", "1"});
  CHECK(t.num_rows() == 2);
  CHECK(t.column("0").ints() == std::vector<std::int64_t>{1, 2});
  headerless.names = {"n", "s"};
  t = read_csv_string("1,x\n2,y\n", headerless);
  CHECK(t.names() == std::vector<std::string>{"n", "s"});
  CHECK(t.column("s").string_at(1) == "y");

  CsvOptions renamed;
  renamed.names = {"p", "q"};
  t = read_csv_string("a,b\n1,2\n", renamed);
  CHECK(t.names() == std::vector<std::string>{"p", "q"});
  CHECK(t.num_rows() == 1);

  CsvOptions na;
  na.na_values = {"?", "-"};
  t = read_csv_string("a,b\n?,NA\n1,-\n", na);
  CHECK(t.column("a").is_missing(0));
  CHECK(t.column("a").type() == ColumnType::int64);
  CHECK(t.column("b").type() == ColumnType::string);
  CHECK(t.column("b").string_at(0) == "NA");
  CHECK(t.column("b").is_missing(1));

  CsvOptions text;
  text.infer_types = false;
  t = read_csv_string("a\n1\n", text);
  CHECK(t.column("a").type() == ColumnType::string);

  t = read_csv_string("a,a,b,a\n1,2,3,4\n");
  CHECK(t.names() == std::vector<std::string>{"a", "a.1", "b", "a.2"});

  t = read_csv_string("a,b\n");
  CHECK(t.num_rows() == 0);
  CHECK(t.num_columns() == 2);
}

TEST_CASE("CsvReader: chunks stream the file with types fixed by the first chunk") {
  std::string text = "user,item,rating\n";
  for (int i = 0; i < 1000; ++i)
    text += std::to_string(i % 7) + "," + std::to_string(i) + "," + std::to_string(i % 5) + ".5\n";
  CsvOptions o;
  o.buffer_bytes = 100;  // many refills
  CsvReader reader = CsvReader::from_string(text, o);
  std::int64_t rows = 0, chunks = 0;
  double sum = 0;
  while (auto chunk = reader.next_chunk(128)) {
    ++chunks;
    CHECK(chunk->num_rows() <= 128);
    CHECK(chunk->column("rating").type() == ColumnType::float64);
    for (std::int64_t i = 0; i < chunk->num_rows(); ++i) {
      CHECK(chunk->column("item").int_at(i) == rows + i);
      sum += chunk->column("rating").float_at(i);
    }
    rows += chunk->num_rows();
  }
  CHECK(rows == 1000);
  CHECK(chunks == 8);
  CHECK(sum == doctest::Approx(1000 * 2.5));
  CHECK(reader.rows_read() == 1000);
  CHECK(reader.bytes_consumed() == text.size());
  CHECK_FALSE(reader.next_chunk(10).has_value());

  CsvReader raw = CsvReader::from_string("a,b\n1,\"x\"\"y\"\n");
  std::vector<std::string_view> f;
  REQUIRE(raw.next_record(f));
  CHECK(f == std::vector<std::string_view>{"1", "x\"y"});
  CHECK_FALSE(raw.next_record(f));
}

TEST_CASE("read_all infers over every row, past the first window (widening, text, leading zeros)") {
  // 16384 rows type a column in read_all's fast path; what comes after must still count.
  std::string text = "id,x,zip,late,gap\n";
  const int n = 40000;
  for (int i = 0; i < n; ++i) {
    text += std::to_string(i) + ",";
    text += (i == 30000 ? "2.5" : std::to_string(i % 10)) + ",";     // int64 until row 30000: widens to float64
    text += (i == 35000 ? "0123" : std::to_string(1000 + i)) + ",";  // a leading zero: the column is text
    text += (i == 39999 ? "n/a" : std::to_string(i)) + ",";          // text in the very last row
    text += (i < 20000 ? "" : "7");                                  // missing through the first window
    text += "\n";
  }
  for (const bool one_shot : {false, true}) {
    INFO("one-shot source: ", one_shot);
    const Table t =
        one_shot ? CsvReader(std::make_unique<StringSource>(text), "<stream>", {}).read_all() : read_csv_string(text);
    REQUIRE(t.num_rows() == n);
    CHECK(t.column("id").type() == ColumnType::int64);
    CHECK(t.column("id").int_at(n - 1) == n - 1);
    CHECK(t.column("x").type() == ColumnType::float64);
    CHECK(t.column("x").float_at(30000) == 2.5);
    CHECK(t.column("x").float_at(29999) == 9.0);
    CHECK(t.column("zip").type() == ColumnType::string);
    CHECK(t.column("zip").string_at(35000) == "0123");
    CHECK(t.column("zip").string_at(1) == "1001");
    CHECK(t.column("late").type() == ColumnType::string);
    CHECK(t.column("late").string_at(39999) == "n/a");
    CHECK(t.column("gap").type() == ColumnType::int64);
    CHECK(t.column("gap").missing_count() == 20000);
    CHECK(t.column("gap").int_at(n - 1) == 7);
  }
  // A reader that already returned chunks has fixed types: read_all returns the rest.
  CsvReader reader = CsvReader::from_string("a\n1\n2\n3\n");
  CHECK(reader.next_chunk(1)->num_rows() == 1);
  const Table rest = reader.read_all();
  CHECK(rest.column("a").ints() == std::vector<std::int64_t>{2, 3});
  CHECK(reader.read_all().num_rows() == 0);
  CHECK(reader.read_all().names() == std::vector<std::string>{"a"});
}

namespace {

/// 34 MB of ratings made on the fly, so no test file is needed.
class RatingsSource final : public ByteSource {
 public:
  std::size_t read(char* out, std::size_t n) override {
    std::size_t k = 0;
    while (k < n) {
      if (pos_ == line_.size()) {
        if (row_ == kRows) break;
        line_ = row_ == 0 ? "userId,movieId,rating,timestamp\n" : "";
        line_ += std::to_string(row_ % 610) + "," + std::to_string(row_ % 9742) + "," + std::to_string(1 + row_ % 5) +
                 ".5," + std::to_string(964982703 + row_) + "\n";
        ++row_;
        pos_ = 0;
      }
      const std::size_t take = std::min(n - k, line_.size() - pos_);
      std::memcpy(out + k, line_.data() + pos_, take);
      k += take;
      pos_ += take;
      bytes_ += take;
    }
    return k;
  }
  static constexpr std::int64_t kRows = 1'500'000;
  std::uint64_t bytes_ = 0;

 private:
  std::string line_;
  std::size_t pos_ = 0;
  std::int64_t row_ = 0;
};

}  // namespace

TEST_CASE("CsvReader streams an input far larger than its buffer in constant memory") {
  // The reader never holds more than its buffer and one chunk.
  auto source = std::make_unique<RatingsSource>();
  const RatingsSource* src = source.get();
  CsvOptions o;
  o.buffer_bytes = 64 << 10;
  CsvReader reader(std::move(source), "<generated>", o);
  std::int64_t rows = 0, chunks = 0;
  double rating_sum = 0;
  while (auto chunk = reader.next_chunk(50000)) {
    rows += chunk->num_rows();
    ++chunks;
    for (double r : chunk->column("rating").doubles()) rating_sum += r;
  }
  CHECK(rows == RatingsSource::kRows);
  CHECK(chunks == 30);
  CHECK(src->bytes_ > 34'000'000);
  CHECK(reader.bytes_consumed() == src->bytes_);
  CHECK(rating_sum == 1'500'000 * 3.5);
}

TEST_CASE("write_csv then read_csv gives the same table") {
  Table t;
  t.add_column(Column::from_ints("id", {1, 2, 3}, {0, 1, 0}));
  t.add_column(Column::from_doubles("x", {0.1, -2.0, 1e300}));
  t.add_column(Column::from_strings("s", {"plain", "with, comma", "line\nbreak \"q\""}, {0, 0, 0}));
  const std::string path = "csv_reader_roundtrip.csv";
  write_csv(t, path);
  const Table back = read_csv(path);
  std::remove(path.c_str());
  REQUIRE(back.names() == t.names());
  CHECK(back.column("id").type() == ColumnType::int64);
  CHECK(back.column("id").is_missing(1));
  CHECK(back.column("id").int_at(2) == 3);
  CHECK(back.column("x").doubles() == t.column("x").doubles());
  CHECK(back.column("x").type() == ColumnType::float64);  // -2.0 was written as "-2.0"
  for (std::int64_t i = 0; i < 3; ++i) CHECK(back.column("s").string_at(i) == t.column("s").string_at(i));
}

TEST_CASE("read_csv errors name the file, line and column and what was expected") {
  // A ragged row: too many fields, then too few.
  CHECK_THROWS_WITH_AS(read_csv_string("a,b\n1,2\n3,4,5\n"),
                       doctest::Contains("'<string>', line 3, column 3: expected 2 fields (as in the header), got 3"),
                       Error);
  CHECK_THROWS_WITH_AS(read_csv_string("a,b,c\r\n1,2,3\r\n\r\n4\r\n"),
                       doctest::Contains("line 4, column 2: expected 3 fields (as in the header), got 1"), Error);
  CsvOptions headerless;
  headerless.header = false;
  CHECK_THROWS_WITH_AS(read_csv_string("1,2\n3\n", headerless),
                       doctest::Contains("line 2, column 2: expected 2 fields (as in the first row), got 1"), Error);
  // The line after a multi-line quoted field is still counted right.
  CHECK_THROWS_WITH_AS(read_csv_string("a,b\n\"x\ny\",1\n2\n"),
                       doctest::Contains("line 4, column 2: expected 2 fields"), Error);

  // An unterminated quote: the line and column where it opened.
  CHECK_THROWS_WITH_AS(read_csv_string("a,b\n1,2\n3,\"open\n4,5\n"),
                       doctest::Contains("line 3, column 2: unterminated quoted field: expected a closing \" before "
                                         "the end of the file"),
                       Error);
  // Text after a closing quote.
  CHECK_THROWS_WITH_AS(read_csv_string("a,b\n\"x\"y,2\n"),
                       doctest::Contains("line 2, column 1: expected the delimiter or a line break after the closing "
                                         "quote, got 'y'"),
                       Error);

  // A non-numeric value in a numeric column: typed by dtypes, or by the first chunk.
  CsvOptions typed;
  typed.dtypes = {{"n", ColumnType::int64}, {"x", ColumnType::float64}};
  CHECK_THROWS_WITH_AS(
      read_csv_string("n,x\n1,2\n2.5,3\n", typed),
      doctest::Contains("line 3, column 1 ('n'): expected an int64 value (set in dtypes), got \"2.5\""), Error);
  CHECK_THROWS_WITH_AS(
      read_csv_string("n,x\n1,2\n2,abc\n", typed),
      doctest::Contains("line 3, column 2 ('x'): expected a float64 value (set in dtypes), got \"abc\""), Error);
  CsvReader reader = CsvReader::from_string("n\n1\n2\noops\n", {}, "chunks.csv");
  CHECK(reader.next_chunk(2)->column("n").type() == ColumnType::int64);
  CHECK_THROWS_WITH_AS(reader.next_chunk(2),
                       doctest::Contains("'chunks.csv', line 4, column 1 ('n'): expected an "
                                         "int64 value (inferred from the first chunk"),
                       Error);

  // Bad input as a whole, and bad options.
  CHECK_THROWS_WITH_AS(read_csv_string(""), doctest::Contains("'<string>' is empty: expected a header row"), Error);
  CHECK_THROWS_WITH_AS(read_csv("/nonexistent/ratings.csv"),
                       doctest::Contains("read_csv: no file '/nonexistent/ratings.csv'"), Error);
  CsvOptions unknown;
  unknown.dtypes = {{"z", ColumnType::int64}};
  CHECK_THROWS_WITH_AS(read_csv_string("a,b\n1,2\n", unknown),
                       doctest::Contains("dtypes names column 'z', which is not in the file (columns: a, b)"), Error);
  CsvOptions names;
  names.names = {"only"};
  CHECK_THROWS_WITH_AS(read_csv_string("a,b\n1,2\n", names), doctest::Contains("1 names given for 2 header columns"),
                       Error);
  CsvOptions bad;
  bad.delimiter = '\n';
  CHECK_THROWS_WITH_AS(read_csv_string("a\n", bad), doctest::Contains("the delimiter cannot be a line break"), Error);
  bad.delimiter = '"';
  CHECK_THROWS_WITH_AS(read_csv_string("a\n", bad), doctest::Contains("quote character must differ"), Error);
  CHECK_THROWS_WITH_AS(CsvReader::from_string("a\n1\n").next_chunk(0), doctest::Contains("chunk size must be positive"),
                       Error);
}
