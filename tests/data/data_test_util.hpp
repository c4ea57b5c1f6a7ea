// tests/data/data_test_util.hpp — helpers for the data tests: fixture paths and table comparison within 1e-9.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <recsys/data/csv.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace recsys::data::testing {

/// tests/golden/fixtures/data/<name>.
inline std::string fixture(const std::string& name) { return std::string(RECSYS_TEST_FIXTURES) + "/data/" + name; }

/// The lines of a text file (without their '\n').
inline std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot open ", path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

/// Same column names, row count and cells: numbers within 1e-9 (int64 and float64 compare by
/// value, as pandas writes an int column with missing cells as floats), strings exactly, missing
/// cells in the same places.
inline void check_same_table(const Table& got, const Table& want) {
  REQUIRE(got.names() == want.names());
  REQUIRE(got.num_rows() == want.num_rows());
  for (std::int64_t j = 0; j < want.num_columns(); ++j) {
    const Column& g = got.column(j);
    const Column& w = want.column(j);
    REQUIRE(g.is_numeric() == w.is_numeric());
    for (std::int64_t i = 0; i < want.num_rows(); ++i) {
      INFO("column '", w.name(), "', row ", i);
      REQUIRE(g.is_missing(i) == w.is_missing(i));
      if (w.is_missing(i)) continue;
      if (w.is_numeric()) {
        CHECK(std::fabs(g.number_at(i) - w.number_at(i)) <= 1e-9 * std::max(1.0, std::fabs(w.number_at(i))));
      } else {
        CHECK(g.string_at(i) == w.string_at(i));
      }
    }
  }
}

}  // namespace recsys::data::testing
