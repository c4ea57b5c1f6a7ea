// tests/data/table_golden_test.cpp — Table operations against pandas (tests/golden/make_data_fixtures.py).
#include <doctest/doctest.h>

#include "data_test_util.hpp"

using namespace recsys;
using namespace recsys::data;
using recsys::data::testing::check_same_table;
using recsys::data::testing::fixture;

namespace {
Table input() { return read_csv(fixture("table_input.csv")); }
Table expected(const std::string& name) { return read_csv(fixture(name)); }
}  // namespace

TEST_CASE("golden: drop_duplicates matches pandas (all columns and a subset, keep first)") {
  const Table t = input();
  REQUIRE(t.num_rows() == 72);
  check_same_table(t.drop_duplicates(), expected("drop_duplicates_all.csv"));
  check_same_table(t.drop_duplicates({"user_id", "item_id"}), expected("drop_duplicates_subset.csv"));
}

TEST_CASE("golden: fillna per column matches pandas") {
  const Table filled = input().fillna({{"rating", 2.75}, {"review", std::string("none")}, {"count", std::int64_t{0}}});
  check_same_table(filled, expected("fillna.csv"));
  CHECK(filled.column("count").type() == ColumnType::int64);  // an integer fill keeps the integer type
  CHECK(filled.column("rating").missing_count() == 0);
}

TEST_CASE("golden: dropna, sort, group-by and joins match pandas") {
  const Table t = input();
  check_same_table(t.dropna({"rating", "count"}), expected("dropna.csv"));
  check_same_table(t.sort({{"rating", false}, {"user_id", true}}), expected("sort.csv"));
  check_same_table(t.group_by({"user_id"}).count(), expected("groupby_count.csv"));
  check_same_table(t.group_by({"user_id"}).mean({"rating", "count"}), expected("groupby_mean.csv"));
  const Table items = read_csv(fixture("table_items.csv"));
  check_same_table(t.inner_join(items, {"item_id"}), expected("inner_join.csv"));
  check_same_table(t.left_join(items, {"item_id"}), expected("left_join.csv"));
}
