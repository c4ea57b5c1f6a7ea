// tests/data/csv_input_test.cpp — named inputs for read_csv (data/csv_reader.hpp): a missing file, a directory and gzip named as such, FIFOs read once and kept.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include <recsys/data/csv.hpp>

#include "test_util.hpp"

using namespace recsys;

namespace {

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

}  // namespace

TEST_CASE("csv input: a missing file, a directory and an empty name are named as such") {
  recsys::testing::TempDir dir;
  CHECK_THROWS_WITH_AS(data::read_csv(dir.file("absent.csv")),
                       doctest::Contains(("read_csv: no file '" + dir.file("absent.csv") + "'").c_str()), Error);
  CHECK_THROWS_WITH_AS(data::read_csv(dir.str()), doctest::Contains(("'" + dir.str() + "' is a directory, not a file").c_str()),
                       Error);
  CHECK_THROWS_WITH_AS(data::check_input("", "load"), doctest::Contains("load: no file name given"), Error);
  CHECK_NOTHROW(data::check_input("-"));
  CHECK(data::is_standard_input("/dev/stdin"));
}

TEST_CASE("csv input: gzip bytes are refused naming the file when built without zlib") {
#ifndef RECSYS_HAVE_ZLIB
  recsys::testing::TempDir dir;
  write_bytes(dir.file("r.csv.gz"), std::string("\x1f\x8b\x08\x00", 4) + "rest");
  CHECK_THROWS_WITH_AS(data::read_csv(dir.file("r.csv.gz")),
                       doctest::Contains("this looks like a gzip file (it starts with the bytes 1f 8b); gunzip it first"),
                       Error);
  // A plain file is read as before.
  write_bytes(dir.file("plain.csv"), "a,b\n1,2\n");
  CHECK(data::read_csv(dir.file("plain.csv")).num_rows() == 1);
#endif
}

TEST_CASE("csv input: a FIFO is read once, kept, and read again by name (the header first, then the rows)") {
  recsys::testing::TempDir dir;
  const std::string fifo = dir.file("pipe.csv");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::thread writer([&] { write_bytes(fifo, "user,item\n1,10\n2,20\n3,30\n"); });
  const data::Table first = data::read_csv(fifo);  // read_all may read its source twice
  writer.join();
  CHECK(first.num_rows() == 3);
  CHECK(data::first_input_line(fifo) == "user,item");  // kept: no second writer is needed
  CHECK(data::read_csv(dir.path.string() + "/./pipe.csv").num_rows() == 3);  // however the name is spelt
}
