// tests/data/csv_linear_test.cpp — wide inputs read in linear time: a header of 10^5 columns, 10^5 copies of one name (not timed: a quadratic regression would not finish).
#include <doctest/doctest.h>

#include <string>

#include <recsys/data/csv.hpp>

#include "test_util.hpp"

using namespace recsys;

TEST_CASE("a header of 100000 columns reads in linear time, repeated names mangled as pandas does") {
  // Quadratic before: every name searched the names before it (30k columns took 4 s, 10^6 never finished).
  const int n = 100'000;
  std::string header, row;
  for (int j = 0; j < n; ++j) {
    if (j > 0) header += ',', row += ',';
    if (j % 2) header += 'x';
    else header += "c" + std::to_string(j);
    row += std::to_string(j);
  }
  const data::Table t = data::read_csv_string(header + "\n" + row + "\n" + row + "\n");
  CHECK(t.num_columns() == n);
  CHECK(t.num_rows() == 2);
  const std::vector<std::string> names = t.names();
  CHECK(names[0] == "c0");
  CHECK(names[1] == "x");
  CHECK(names[3] == "x.1");
  CHECK(names[n - 1] == "x." + std::to_string(n / 2 - 1));
  CHECK(t.column(n - 1).int_at(1) == n - 1);
}

TEST_CASE("name mangling skips a suffix the header already uses") {
  const data::Table t = data::read_csv_string("a,a.1,a,a,b\n1,2,3,4,5\n");
  CHECK(t.names() == std::vector<std::string>{"a", "a.1", "a.2", "a.3", "b"});
  const data::Table u = data::read_csv_string("a,a,a.1\n1,2,3\n");
  CHECK(u.names() == std::vector<std::string>{"a", "a.1", "a.1.1"});
}
