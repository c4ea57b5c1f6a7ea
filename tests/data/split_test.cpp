// tests/data/split_test.cpp — train/test splits, K-fold, leave-last-out, temporal; sizes against scikit-learn.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <recsys/data/split.hpp>
#include <set>

#include "data_test_util.hpp"

using namespace recsys;
using namespace recsys::data;
using recsys::data::testing::fixture;

namespace {

using Ids = std::vector<std::int64_t>;

/// train ∪ test is 0..n-1 with no index twice.
void check_partition(const Split& s, std::int64_t n) {
  std::vector<std::int64_t> all = s.train;
  all.insert(all.end(), s.test.begin(), s.test.end());
  std::sort(all.begin(), all.end());
  Ids expect(static_cast<std::size_t>(n));
  std::iota(expect.begin(), expect.end(), 0);
  CHECK(all == expect);
}

}  // namespace

TEST_CASE("train_test_split: sklearn sizes, seeded shuffles, no shuffle") {
  const Split s = train_test_split(1000, 0.2, 42);
  CHECK(s.train.size() == 800);
  CHECK(s.test.size() == 200);
  check_partition(s, 1000);
  CHECK(train_test_split(1000, 0.2, 42).test == s.test);  // same seed, same split
  CHECK(train_test_split(1000, 0.2, 7).test != s.test);
  CHECK(train_test_split(10, 0.25).test.size() == 3);  // ceil(2.5)
  CHECK(train_test_split(10, 4).test.size() == 4);     // an integer is a count
  const Split plain = train_test_split(5, 0.4, 0, false);
  CHECK(plain.train == Ids{0, 1, 2});
  CHECK(plain.test == Ids{3, 4});
}

TEST_CASE("stratified_train_test_split keeps class shares") {
  std::vector<int> y;
  for (int i = 0; i < 90; ++i) y.push_back(i % 3 == 0 ? 1 : 0);  // 30 ones, 60 zeros, interleaved
  const Split s = stratified_train_test_split(y, 0.2, 3);
  check_partition(s, 90);
  CHECK(s.test.size() == 18);
  const auto ones =
      std::count_if(s.test.begin(), s.test.end(), [&](std::int64_t i) { return y[static_cast<std::size_t>(i)] == 1; });
  CHECK(ones == 6);
  CHECK(stratified_train_test_split(y, 0.2, 3).train == s.train);
  const std::vector<std::string> names = {"a", "b", "a", "b", "a", "b"};
  const Split t = stratified_train_test_split(names, 2, 1);
  CHECK(t.test.size() == 2);
  CHECK(names[static_cast<std::size_t>(t.test[0])] != names[static_cast<std::size_t>(t.test[1])]);
}

TEST_CASE("golden: stratified and plain split sizes match scikit-learn") {
  const Table labels = read_csv(fixture("split_labels.csv"));
  CsvOptions as_text;
  as_text.dtypes = {{"class", ColumnType::string}, {"test_size", ColumnType::string}};
  const Table sizes = read_csv(fixture("split_sizes.csv"), as_text);
  std::map<std::string, std::vector<std::string>> by_scenario;
  for (std::int64_t i = 0; i < labels.num_rows(); ++i)
    by_scenario[std::string(labels.column("scenario").string_at(i))].emplace_back(labels.column("label").string_at(i));
  REQUIRE(by_scenario.size() == 5);
  for (const auto& [scenario, y] : by_scenario) {
    INFO("scenario ", scenario);
    std::string size_text;
    for (std::int64_t i = 0; i < sizes.num_rows(); ++i)
      if (sizes.column("scenario").string_at(i) == scenario) size_text = sizes.column("test_size").string_at(i);
    const bool is_count = size_text.find('.') == std::string::npos;
    const TestSize test_size =
        is_count ? TestSize(static_cast<std::int64_t>(std::stol(size_text))) : TestSize(std::stod(size_text));
    const Split s = stratified_train_test_split(y, test_size, 42);
    const Split plain = train_test_split(static_cast<std::int64_t>(y.size()), test_size, 0);
    std::int64_t checked = 0;
    for (std::int64_t i = 0; i < sizes.num_rows(); ++i) {
      if (sizes.column("scenario").string_at(i) != scenario) continue;
      const std::string cls(sizes.column("class").string_at(i));
      const std::int64_t want_train = sizes.column("train").int_at(i), want_test = sizes.column("test").int_at(i);
      if (cls == "*") {
        CHECK(static_cast<std::int64_t>(plain.train.size()) == want_train);
        CHECK(static_cast<std::int64_t>(plain.test.size()) == want_test);
      } else {
        auto count = [&](const Ids& idx) {
          return std::count_if(idx.begin(), idx.end(),
                               [&](std::int64_t r) { return y[static_cast<std::size_t>(r)] == cls; });
        };
        INFO("class ", cls);
        CHECK(count(s.train) == want_train);
        CHECK(count(s.test) == want_test);
      }
      ++checked;
    }
    CHECK(checked >= 3);
  }
}

TEST_CASE("golden: KFold and StratifiedKFold folds match scikit-learn") {
  const Table t = read_csv(fixture("kfold.csv"));
  std::map<std::tuple<std::string, std::int64_t, std::int64_t>, std::map<std::int64_t, Ids>> want;  // -> fold -> test
  std::map<std::int64_t, std::int64_t> label_of;
  for (std::int64_t i = 0; i < t.num_rows(); ++i) {
    const std::string kind(t.column("kind").string_at(i));
    want[{kind, t.column("n").int_at(i), t.column("k").int_at(i)}][t.column("fold").int_at(i)].push_back(
        t.column("sample").int_at(i));
    if (kind == "stratified") label_of[t.column("sample").int_at(i)] = t.column("label").int_at(i);
  }
  std::vector<std::int64_t> y(label_of.size());
  for (const auto& [i, l] : label_of) y[static_cast<std::size_t>(i)] = l;
  REQUIRE(want.size() == 6);
  for (const auto& [key, folds] : want) {
    const auto& [kind, n, k] = key;
    INFO(kind, " n=", n, " k=", k);
    const std::vector<Split> got = kind == "kfold" ? KFold(k).split(n) : StratifiedKFold(k).split(y);
    REQUIRE(static_cast<std::int64_t>(got.size()) == k);
    for (std::int64_t f = 0; f < k; ++f) {
      Ids expect = folds.at(f);
      std::sort(expect.begin(), expect.end());
      CHECK(got[static_cast<std::size_t>(f)].test == expect);
      check_partition(got[static_cast<std::size_t>(f)], n);
    }
  }
}

TEST_CASE("KFold and StratifiedKFold by hand, shuffled") {
  const std::vector<Split> f = KFold(3).split(7);  // fold sizes 3, 2, 2
  CHECK(f[0].test == Ids{0, 1, 2});
  CHECK(f[1].test == Ids{3, 4});
  CHECK(f[2].train == Ids{0, 1, 2, 3, 4});
  const std::vector<Split> s = KFold(3, true, 5).split(7);
  std::set<std::int64_t> seen;
  for (const Split& sp : s) seen.insert(sp.test.begin(), sp.test.end());
  CHECK(seen.size() == 7);
  CHECK(s[0].test.size() == 3);
  CHECK(KFold(3, true, 5).split(7)[1].test == s[1].test);
  const std::vector<int> y = {0, 0, 0, 0, 1, 1, 1, 1};
  for (const Split& sp : StratifiedKFold(2, true, 9).split(y)) {
    CHECK(sp.test.size() == 4);
    CHECK(std::count_if(sp.test.begin(), sp.test.end(),
                        [&](std::int64_t i) { return y[static_cast<std::size_t>(i)] == 1; }) == 2);
  }
}

TEST_CASE("leave_last_out and temporal_split for recommenders") {
  const Table t(
      {Column::from_ints("user", {1, 2, 1, 3, 2, 1, 2}), Column::from_ints("time", {10, 5, 30, 7, 9, 20, 9})});
  const Split l = leave_last_out(t, "user", "time");
  CHECK(l.test == Ids{2, 6});  // user 1: time 30; user 2: tie at 9, the later row; user 3 has one row
  CHECK(l.train == Ids{0, 1, 3, 4, 5});
  const Split tmp = temporal_split(t, "time", 0.3);  // ceil(2.1) = 3 latest rows: times 30, 20, 10
  CHECK(tmp.test == Ids{0, 2, 5});
  CHECK(tmp.train == Ids{1, 3, 4, 6});
  CHECK(temporal_split(t, "time", 2).test == Ids{2, 5});
}

TEST_CASE("split errors") {
  CHECK_THROWS_WITH_AS(train_test_split(0), doctest::Contains("train_test_split: needs at least one sample, got 0"),
                       Error);
  CHECK_THROWS_WITH_AS(train_test_split(10, 1.5),
                       doctest::Contains("train_test_split: test_size=1.5 should be in (0, 1)"), Error);
  CHECK_THROWS_WITH_AS(train_test_split(10, 10),
                       doctest::Contains("test_size=10 should be positive and smaller than the 10 samples"), Error);
  CHECK_THROWS_WITH_AS(train_test_split(1, 0.5), doctest::Contains("with 1 samples and test_size=0.5"), Error);
  CHECK_THROWS_WITH_AS(stratified_train_test_split(std::vector<int>{0, 0, 1}, 1),
                       doctest::Contains("class 1 (in sorted label order) has only 1 member"), Error);
  CHECK_THROWS_WITH_AS(stratified_train_test_split(std::vector<int>{0, 0, 1, 1, 2, 2}, 2),
                       doctest::Contains("test size 2 is below the number of classes 3"), Error);
  CHECK_THROWS_WITH_AS(stratified_train_test_split(std::vector<int>{0, 0, 1, 1, 2, 2}, 4),
                       doctest::Contains("train size 2 is below the number of classes 3"), Error);
  CHECK_THROWS_WITH_AS(KFold(1), doctest::Contains("KFold: n_splits must be at least 2, got 1"), Error);
  CHECK_THROWS_WITH_AS(KFold(5).split(3),
                       doctest::Contains("KFold: n_splits=5 is greater than the number of samples 3"), Error);
  CHECK_THROWS_WITH_AS(StratifiedKFold(0), doctest::Contains("StratifiedKFold: n_splits must be at least 2, got 0"),
                       Error);
  CHECK_THROWS_WITH_AS(StratifiedKFold(3).split(std::vector<int>{0, 0, 1, 1}),
                       doctest::Contains("n_splits=3 is greater than the number of members in each class"), Error);
  CHECK_THROWS_WITH_AS(StratifiedKFold(5).split(std::vector<int>{0, 1}),
                       doctest::Contains("n_splits=5 is greater than the number of samples 2"), Error);
  const Table t({Column::from_ints("user", {1, 2}), Column::from_strings("time", {"a", "b"}),
                 Column::from_doubles("when", {1.0, NAN})});
  CHECK_THROWS_WITH_AS(leave_last_out(t, "user", "time"),
                       doctest::Contains("leave_last_out: time column 'time' must be numeric, got string"), Error);
  CHECK_THROWS_WITH_AS(leave_last_out(t, "user", "when"),
                       doctest::Contains("leave_last_out: time column 'when' has missing values"), Error);
  CHECK_THROWS_WITH_AS(leave_last_out(t, "who", "when"), doctest::Contains("leave_last_out: no column 'who'"), Error);
  CHECK_THROWS_WITH_AS(temporal_split(t, "when"),
                       doctest::Contains("temporal_split: time column 'when' has missing values"), Error);
}
