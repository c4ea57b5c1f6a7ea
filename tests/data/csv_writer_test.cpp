// tests/data/csv_writer_test.cpp — CsvWriter: RFC 4180 quoting, number formatting, options and errors.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <recsys/data/csv.hpp>
#include <sstream>
#include <string>

using namespace recsys;
using namespace recsys::data;

namespace {
std::string write_to_string(const CsvWriteOptions& options, auto&& body) {
  std::ostringstream os;
  {
    CsvWriter w(os, options);
    body(w);
    w.close();
  }
  return os.str();
}
}  // namespace

TEST_CASE("CsvWriter quotes only what RFC 4180 requires") {
  const std::string out = write_to_string({}, [](CsvWriter& w) {
    w.row("id", "title", "note");
    w.row(1, "American President, The (1995)", "say \"hi\"");
    w.row(2, "two\nlines", "cr\rhere");
    w.field(std::int64_t{-7}).field(0.1).missing().end_row();
  });
  CHECK(out ==
        "id,title,note\n"
        "1,\"American President, The (1995)\",\"say \"\"hi\"\"\"\n"
        "2,\"two\nlines\",\"cr\rhere\"\n"
        "-7,0.1,\n");
}

TEST_CASE("CsvWriter formats doubles in shortest round-trip form") {
  char buf[64];
  auto fmt = [&](double v) { return std::string(buf, CsvWriter::format_double(v, buf)); };
  CHECK(fmt(4.0) == "4.0");
  CHECK(fmt(0.1) == "0.1");
  CHECK(fmt(-2.5) == "-2.5");
  CHECK(fmt(1e20) == "1e+20");
  CHECK(fmt(1.0 / 3.0) == "0.3333333333333333");
  CHECK(fmt(std::numeric_limits<double>::infinity()) == "inf");
  CHECK(fmt(-std::numeric_limits<double>::infinity()) == "-inf");
  CHECK(write_to_string({}, [](CsvWriter& w) { w.row(std::nan(""), 3.0f); }) == ",3.0\n");
}

TEST_CASE("CsvWriter options: delimiter, CRLF, quote all, na_rep, quoting none") {
  CsvWriteOptions tsv;
  tsv.delimiter = '\t';
  tsv.line_terminator = "\r\n";
  tsv.na_rep = "NA";
  CHECK(write_to_string(tsv, [](CsvWriter& w) {
          w.row("a,b", "c\td");
          w.missing().field(5).end_row();
        }) == "a,b\t\"c\td\"\r\nNA\t5\r\n");

  CsvWriteOptions all;
  all.quoting = CsvQuoting::all;
  CHECK(write_to_string(all, [](CsvWriter& w) { w.row("x", 1).missing().field("").end_row(); }) ==
        "\"x\",1\n\"\",\"\"\n");

  CsvWriteOptions none;
  none.quoting = CsvQuoting::none;
  CHECK(write_to_string(none, [](CsvWriter& w) { w.row("say \"hi\"", 2); }) == "say \"hi\",2\n");
  std::ostringstream os;
  CsvWriter w(os, none);
  w.row("ok");
  CHECK_THROWS_WITH_AS(w.field("a,b"), doctest::Contains("row 2, column 1: the field holds a delimiter"), Error);
}

TEST_CASE("CsvWriter writes a lone empty field as \"\" so it does not read back as a blank line") {
  CHECK(write_to_string({}, [](CsvWriter& w) {
          w.row("h");
          w.row("");
          w.missing().end_row();
        }) == "h\n\"\"\n\"\"\n");
}

TEST_CASE("CsvWriter quotes a leading byte-order mark so readers keep it as data") {
  CHECK(write_to_string({}, [](CsvWriter& w) {
          w.row("\xEF\xBB\xBFx", "\xEF\xBB\xBFy");
          w.row("\xEF\xBB\xBFz");
        }) == "\"\xEF\xBB\xBFx\",\xEF\xBB\xBFy\n\xEF\xBB\xBFz\n");
}

TEST_CASE("CsvWriter streams to a file and counts rows") {
  const std::string path = "csv_writer_test_out.csv";
  {
    CsvWriter w(path, {});
    w.row("n", "sq");
    for (std::int64_t i = 0; i < 100000; ++i) w.row(i, i * i);  // crosses the 1 MiB buffer
    CHECK(w.rows() == 100001);
    w.close();
    w.close();  // idempotent
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  CHECK(text.rfind("n,sq\n0,0\n1,1\n", 0) == 0);
  CHECK(text.size() > (std::size_t{1} << 20));
  CHECK(text.substr(text.size() - 17) == "99999,9999800001\n");
  std::remove(path.c_str());
}

TEST_CASE("CsvWriter errors") {
  CHECK_THROWS_WITH_AS(CsvWriter("/nonexistent-dir/x.csv"), doctest::Contains("cannot open '/nonexistent-dir/x.csv'"),
                       Error);
  std::ostringstream os;
  CsvWriteOptions bad;
  bad.delimiter = '\n';
  CHECK_THROWS_WITH_AS(CsvWriter(os, bad), doctest::Contains("delimiter cannot be a line break"), Error);
  bad.delimiter = '"';
  CHECK_THROWS_WITH_AS(CsvWriter(os, bad), doctest::Contains("quote character must differ"), Error);
  CsvWriter w(os);
  w.field("half");
  CHECK_THROWS_WITH_AS(w.close(), doctest::Contains("closed in the middle of row 1 (1 fields written"), Error);
  CHECK_THROWS_WITH_AS(w.field("x"), doctest::Contains("is closed"), Error);
}
