// tests/data/table_test.cpp — Column and Table by hand: every operation on a tiny table, to_tensor, and the errors.
#include <doctest/doctest.h>

#include <cmath>
#include <recsys/data/table.hpp>

using namespace recsys;
using namespace recsys::data;

namespace {

/// user  item  rating  title
///    2    10     4.0  "b"
///    1    11     NA   "a"
///    2    10     4.0  "b"      (duplicate of row 0)
///    1    12     2.5  NA
///    3    11     5.0  "c"
Table small() {
  return Table({Column::from_ints("user", {2, 1, 2, 1, 3}), Column::from_ints("item", {10, 11, 10, 12, 11}),
                Column::from_doubles("rating", {4.0, NAN, 4.0, 2.5, 5.0}),
                Column::from_strings("title", {"b", "a", "b", "", "c"}, {0, 0, 0, 1, 0})});
}

std::vector<std::int64_t> ints(const Table& t, const std::string& c) {
  std::vector<std::int64_t> v;
  for (std::int64_t i = 0; i < t.num_rows(); ++i) v.push_back(t.column(c).is_missing(i) ? -999 : t.column(c).int_at(i));
  return v;
}

}  // namespace

TEST_CASE("Column basics: types, missing cells, values, take") {
  Column c("x", ColumnType::int64);
  c.push_int(5);
  c.push_missing();
  c.push_value(Value(std::int64_t{7}));
  CHECK(c.size() == 3);
  CHECK(c.missing_count() == 1);
  CHECK(std::get<std::int64_t>(c.value(2)) == 7);
  CHECK(std::holds_alternative<std::monostate>(c.value(1)));
  CHECK(std::isnan(c.number_at(1)));
  const Column t = c.take({2, -1, 0});
  CHECK(t.ints() == std::vector<std::int64_t>{7, 0, 5});
  CHECK(t.is_missing(1));
  const Column f = c.to_float64();
  CHECK(f.type() == ColumnType::float64);
  CHECK(f.float_at(2) == 7.0);
  CHECK(f.is_missing(1));
  const Column d = Column::from_doubles("d", {1.0, NAN});
  CHECK(d.is_missing(1));  // NaN is missing
  Column s("s", ColumnType::string);
  s.push_string("héllo");
  s.push_string("");
  CHECK(s.string_at(0) == "héllo");
  CHECK(s.string_at(1).empty());
  CHECK_FALSE(s.is_missing(1));  // an empty string is a value
}

TEST_CASE("select, rename, take, filter, head") {
  const Table t = small();
  const Table s = t.select({"title", "user"});
  CHECK(s.names() == std::vector<std::string>{"title", "user"});
  CHECK(s.num_rows() == 5);
  const Table r = t.rename({{"user", "user_id"}, {"item", "item_id"}});
  CHECK(r.names() == std::vector<std::string>{"user_id", "item_id", "rating", "title"});
  CHECK(ints(t.take({4, 0}), "user") == std::vector<std::int64_t>{3, 2});
  CHECK(ints(t.filter(std::vector<std::uint8_t>{1, 0, 0, 1, 1}), "item") == std::vector<std::int64_t>{10, 12, 11});
  const Table high = t.filter([&](std::int64_t i) { return t.column("rating").float_at(i) >= 4.0; });
  CHECK(ints(high, "user") == std::vector<std::int64_t>{2, 2, 3});  // NaN >= 4 is false
  CHECK(t.head(2).num_rows() == 2);
  CHECK(t.head(99).num_rows() == 5);
}

TEST_CASE("drop_duplicates, fillna, dropna by hand") {
  const Table t = small();
  CHECK(ints(t.drop_duplicates(), "item") == std::vector<std::int64_t>{10, 11, 12, 11});
  CHECK(ints(t.drop_duplicates({"user"}), "item") == std::vector<std::int64_t>{10, 11, 11});
  CHECK(ints(t.drop_duplicates({"item"}), "user") == std::vector<std::int64_t>{2, 1, 1});

  // Missing cells equal each other for duplicates (pandas).
  const Table m({Column::from_doubles("x", {NAN, 1.0, NAN, -0.0, 0.0})});
  CHECK(m.drop_duplicates().num_rows() == 3);

  const Table f = t.fillna({{"rating", 0.5}, {"title", std::string("?")}});
  CHECK(f.column("rating").float_at(1) == 0.5);
  CHECK(f.column("title").string_at(3) == "?");
  CHECK(f.column("title").string_at(0) == "b");
  const Table promoted = Table({Column::from_ints("n", {1, 0}, {0, 1})}).fillna({{"n", 0.5}});
  CHECK(promoted.column("n").type() == ColumnType::float64);  // an int column filled with a double
  CHECK(promoted.column("n").doubles() == std::vector<double>{1.0, 0.5});
  const Table as_float = Table({Column::from_doubles("x", {NAN})}).fillna({{"x", std::int64_t{3}}});
  CHECK(as_float.column("x").float_at(0) == 3.0);

  CHECK(t.dropna().num_rows() == 3);
  CHECK(ints(t.dropna({"rating"}), "item") == std::vector<std::int64_t>{10, 10, 12, 11});
  CHECK(t.dropna({"user"}).num_rows() == 5);
}

TEST_CASE("sort: stable, several keys, missing last in both directions") {
  const Table t = small();
  CHECK(ints(t.sort({{"rating", true}}), "item") == std::vector<std::int64_t>{12, 10, 10, 11, 11});
  const Table d = t.sort({{"rating", false}});
  CHECK(ints(d, "user") == std::vector<std::int64_t>{3, 2, 2, 1, 1});
  CHECK(d.column("rating").is_missing(4));
  CHECK(ints(t.sort({{"user", true}, {"item", false}}), "item") == std::vector<std::int64_t>{12, 11, 10, 10, 11});
  const Table s = t.sort({{"title", false}});
  CHECK(s.column("title").string_at(0) == "c");
  CHECK(s.column("title").is_missing(4));
}

TEST_CASE("group_by: count and mean, groups in key order, missing keys dropped") {
  const Table t = small();
  const GroupBy g = t.group_by({"user"});
  CHECK(g.num_groups() == 3);
  const Table c = g.count();
  CHECK(ints(c, "user") == std::vector<std::int64_t>{1, 2, 3});
  CHECK(ints(c, "count") == std::vector<std::int64_t>{2, 2, 1});
  const Table m = g.mean({"rating", "item"});
  CHECK(m.column("rating").doubles() == std::vector<double>{2.5, 4.0, 5.0});  // the NaN is skipped
  CHECK(m.column("item").doubles() == std::vector<double>{11.5, 10.0, 11.0});
  CHECK(g.rows(0) == std::vector<std::int64_t>{1, 3});

  const Table by_title = t.group_by({"title"}).count();  // the missing title is no group
  CHECK(by_title.num_rows() == 3);
  CHECK(ints(by_title, "count") == std::vector<std::int64_t>{1, 2, 1});
  const Table two = t.group_by({"user", "item"}).count();
  CHECK(two.num_rows() == 4);
  CHECK(ints(two, "count") == std::vector<std::int64_t>{1, 1, 2, 1});
  const Table all_missing = Table({Column::from_ints("k", {1}), Column::from_doubles("v", {NAN})});
  CHECK(all_missing.group_by({"k"}).mean({"v"}).column("v").is_missing(0));
}

TEST_CASE("inner_join and left_join: order, duplicates, suffixes, unmatched rows") {
  const Table left({Column::from_ints("id", {3, 1, 2, 1}), Column::from_strings("v", {"c", "a", "b", "a2"})});
  const Table right({Column::from_ints("id", {1, 3, 1, 4}), Column::from_strings("v", {"x", "y", "z", "w"}),
                     Column::from_doubles("w", {0.1, 0.2, 0.3, 0.4})});
  const Table in = left.inner_join(right, {"id"});
  CHECK(in.names() == std::vector<std::string>{"id", "v_x", "v_y", "w"});
  CHECK(ints(in, "id") == std::vector<std::int64_t>{3, 1, 1, 1, 1});
  CHECK(in.column("v_y").string_at(1) == "x");
  CHECK(in.column("v_y").string_at(2) == "z");
  CHECK(in.column("v_x").string_at(3) == "a2");
  const Table lj = left.left_join(right, {"id"});
  CHECK(lj.num_rows() == 6);
  CHECK(ints(lj, "id") == std::vector<std::int64_t>{3, 1, 1, 2, 1, 1});
  CHECK(lj.column("w").is_missing(3));  // id 2 has no match
  CHECK(lj.column("v_y").is_missing(3));

  const Table lm({Column::from_ints("id", {1, 0}, {0, 1})});  // a missing key never matches
  const Table rm({Column::from_ints("id", {0, 1}, {1, 0}), Column::from_ints("r", {7, 8})});
  CHECK(lm.inner_join(rm, {"id"}).num_rows() == 1);
  const Table lmj = lm.left_join(rm, {"id"});
  CHECK(lmj.num_rows() == 2);
  CHECK(lmj.column("r").is_missing(1));
}

TEST_CASE("to_tensor and column_tensor") {
  const Table t({Column::from_ints("a", {1, 2, 3}), Column::from_doubles("b", {0.5, 1.5, 2.5})});
  const Tensor x = t.to_tensor();
  CHECK(x.shape() == Shape{3, 2});
  CHECK(x.dtype() == DType::float32);
  CHECK(x.to_vector<float>() == std::vector<float>{1, 0.5f, 2, 1.5f, 3, 2.5f});
  const Tensor ids = t.column_tensor("a", DType::int64);
  CHECK(ids.shape() == Shape{3});
  CHECK(ids.to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 2, 3});
  CHECK(t.to_tensor({"b"}, DType::float64).to_vector<double>() == std::vector<double>{0.5, 1.5, 2.5});
  CHECK(small().to_string(2).find("... (5 rows)") != std::string::npos);
  const Table wide({Column::from_strings("s", {std::string(36, 'a') + "\u00e9\u00e9\u00e9"})});  // é at bytes 36..41
  CHECK(wide.to_string() == std::string(38, ' ') + "s\n" + std::string(36, 'a') + "...\n");
}

TEST_CASE("Table errors name the op, the column and the values") {
  const Table t = small();
  CHECK_THROWS_WITH_AS(t.select({"nope"}),
                       doctest::Contains("select: no column 'nope' (columns: user, item, rating, title)"), Error);
  CHECK_THROWS_WITH_AS(t.rename({{"user", "item"}}), doctest::Contains("rename: two columns would be named 'item'"),
                       Error);
  CHECK_THROWS_WITH_AS(t.filter(std::vector<std::uint8_t>{1, 0}),
                       doctest::Contains("filter: mask has 2 entries, the table has 5 rows"), Error);
  CHECK_THROWS_WITH_AS(t.fillna({{"title", 1.0}}),
                       doctest::Contains("fillna: column 'title' is string; cannot fill it with a float64"), Error);
  CHECK_THROWS_WITH_AS(t.fillna({{"rating", std::string("x")}}),
                       doctest::Contains("fillna: column 'rating' is float64; cannot fill it with a string"), Error);
  CHECK_THROWS_WITH_AS(t.fillna({{"rating", Value()}}),
                       doctest::Contains("the value for column 'rating' is itself missing"), Error);
  CHECK_THROWS_WITH_AS(t.dropna({"x"}), doctest::Contains("dropna: no column 'x'"), Error);
  CHECK_THROWS_WITH_AS(t.drop_duplicates({"x"}), doctest::Contains("drop_duplicates: no column 'x'"), Error);
  CHECK_THROWS_WITH_AS(t.sort({}), doctest::Contains("sort: no sort keys given"), Error);
  CHECK_THROWS_WITH_AS(t.sort({{"x", true}}), doctest::Contains("sort: no column 'x'"), Error);
  CHECK_THROWS_WITH_AS(t.group_by({"x"}), doctest::Contains("group_by: no column 'x'"), Error);
  CHECK_THROWS_WITH_AS(t.group_by({"user"}).mean({"title"}),
                       doctest::Contains("group_by mean: column 'title' is a string column"), Error);
  const Table s({Column::from_strings("user", {"1"})});
  CHECK_THROWS_WITH_AS(t.inner_join(s, {"user"}),
                       doctest::Contains("inner_join: key 'user' is int64 on the left and string on the right"), Error);
  CHECK_THROWS_WITH_AS(t.left_join(s, {}), doctest::Contains("left_join: no key columns given"), Error);
  CHECK_THROWS_WITH_AS(t.to_tensor({"title"}), doctest::Contains("to_tensor: column 'title' is a string column"),
                       Error);
  CHECK_THROWS_WITH_AS(t.to_tensor({"rating"}),
                       doctest::Contains("to_tensor: column 'rating' has 1 missing values; fillna() or dropna() first"),
                       Error);
  CHECK_THROWS_WITH_AS(t.to_tensor({"rating"}, DType::int64),
                       doctest::Contains("to_tensor: column 'rating' is float64 and cannot become int64"), Error);

  Table u = small();
  CHECK_THROWS_WITH_AS(u.add_column(Column::from_ints("n", {1})),
                       doctest::Contains("Table: column 'n' has 1 rows, the table has 5"), Error);
  CHECK_THROWS_WITH_AS(u.add_column(Column::from_ints("user", {1, 2, 3, 4, 5})),
                       doctest::Contains("Table: duplicate column name 'user'"), Error);
  CHECK_THROWS_WITH_AS(u.column(std::int64_t{9}), doctest::Contains("column index 9 out of range for 4 columns"),
                       Error);
  CHECK_THROWS_WITH_AS(Column::from_ints("m", {1, 2}, {0}),
                       doctest::Contains("Column 'm': 1 mask entries for 2 values"), Error);
  CHECK_THROWS_WITH_AS(t.column("user").take({5}), doctest::Contains("Column 'user': row 5 is out of range for 5 rows"),
                       Error);
  Column c("c", ColumnType::int64);
  CHECK_THROWS_WITH_AS(c.push_value(Value(std::string("s"))),
                       doctest::Contains("Column 'c': cannot store a string in a int64 column"), Error);
  CHECK_THROWS_WITH_AS(t.column("title").number_at(0),
                       doctest::Contains("Column 'title': a string column has no numbers"), Error);
  CHECK_THROWS_WITH_AS(t.column("title").to_float64(),
                       doctest::Contains("Column 'title': cannot convert a string column to float64"), Error);
}
