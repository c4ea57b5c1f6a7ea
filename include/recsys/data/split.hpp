// recsys/data/split.hpp — train/test splits: shuffled and stratified, K-fold, leave-last-out and temporal.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "recsys/core/error.hpp"
#include "recsys/core/random.hpp"
#include "recsys/data/table.hpp"

namespace recsys::data {

/// Row indices of one split.
struct Split {
  std::vector<std::int64_t> train, test;
};

/// A test-set size as scikit-learn takes it: a double is a fraction in (0, 1), an integer a count.
struct TestSize {
  double fraction = 0.25;
  std::int64_t count = 0;
  bool is_count = false;
  TestSize(double f) : fraction(f) {}                     // NOLINT: implicit, like sklearn's test_size=0.2
  TestSize(int c) : count(c), is_count(true) {}           // NOLINT
  TestSize(std::int64_t c) : count(c), is_count(true) {}  // NOLINT

  /// (n_train, n_test) for n samples, with sklearn's rounding: n_test = ceil(fraction * n).
  std::pair<std::int64_t, std::int64_t> sizes(std::int64_t n, const char* op) const {
    std::int64_t n_test;
    if (is_count) {
      RECSYS_CHECK(count > 0 && count < n, op, ": test_size=", count, " should be positive and smaller than the ", n,
                   " samples");
      n_test = count;
    } else {
      RECSYS_CHECK(fraction > 0.0 && fraction < 1.0, op, ": test_size=", fraction, " should be in (0, 1)");
      n_test = static_cast<std::int64_t>(std::ceil(fraction * static_cast<double>(n)));
    }
    const std::int64_t n_train = n - n_test;
    RECSYS_CHECK(n_train > 0, op, ": with ", n, " samples and test_size=", describe(), " the train set would be empty");
    return {n_train, n_test};
  }
  std::string describe() const { return is_count ? std::to_string(count) : std::to_string(fraction); }
};

namespace detail {

/// sklearn's _approximate_mode: per-class draws summing to n_draws, proportional to class_counts;
/// the remaining draws go to the largest remainders, ties broken by `gen`.
inline std::vector<std::int64_t> approximate_mode(const std::vector<std::int64_t>& class_counts, std::int64_t n_draws,
                                                  Generator& gen) {
  const double total = static_cast<double>(std::accumulate(class_counts.begin(), class_counts.end(), std::int64_t{0}));
  std::vector<double> remainder(class_counts.size());
  std::vector<std::int64_t> floored(class_counts.size());
  std::int64_t need = n_draws;
  for (std::size_t k = 0; k < class_counts.size(); ++k) {
    const double continuous = static_cast<double>(class_counts[k]) / total * static_cast<double>(n_draws);
    floored[k] = static_cast<std::int64_t>(std::floor(continuous));
    remainder[k] = continuous - std::floor(continuous);
    need -= floored[k];
  }
  std::vector<double> values = remainder;
  std::sort(values.begin(), values.end(), std::greater<>());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  for (double v : values) {
    if (need <= 0) break;
    std::vector<std::size_t> tied;
    for (std::size_t k = 0; k < remainder.size(); ++k)
      if (remainder[k] == v) tied.push_back(k);
    shuffle(tied.begin(), tied.end(), gen);
    const auto add = std::min<std::int64_t>(need, static_cast<std::int64_t>(tied.size()));
    for (std::int64_t a = 0; a < add; ++a) ++floored[tied[static_cast<std::size_t>(a)]];
    need -= add;
  }
  return floored;
}

/// Class ids 0..k-1 of `labels` in sorted label order, and the class sizes.
template <class Label>
std::pair<std::vector<std::int64_t>, std::vector<std::int64_t>> encode_sorted(const std::vector<Label>& labels) {
  std::map<Label, std::int64_t> ids;
  for (const Label& l : labels) ids.emplace(l, 0);
  std::int64_t next = 0;
  for (auto& [label, id] : ids) id = next++;
  std::vector<std::int64_t> y, counts(ids.size(), 0);
  y.reserve(labels.size());
  for (const Label& l : labels) {
    y.push_back(ids.at(l));
    ++counts[static_cast<std::size_t>(y.back())];
  }
  return {y, counts};
}

}  // namespace detail

/// Shuffled split of n samples (sklearn train_test_split sizes; the order comes from Philox with
/// `seed`, so the membership differs from NumPy's). shuffle=false: the first rows train, the last test.
inline Split train_test_split(std::int64_t n, TestSize test_size = 0.25, std::uint64_t seed = 42, bool shuffle = true) {
  RECSYS_CHECK(n > 0, "train_test_split: needs at least one sample, got ", n);
  const auto [n_train, n_test] = test_size.sizes(n, "train_test_split");
  std::vector<std::int64_t> perm(static_cast<std::size_t>(n));
  std::iota(perm.begin(), perm.end(), 0);
  Split s;
  if (!shuffle) {
    s.train.assign(perm.begin(), perm.begin() + n_train);
    s.test.assign(perm.begin() + n_train, perm.end());
    return s;
  }
  Generator gen(seed);
  recsys::shuffle(perm.begin(), perm.end(), gen);
  s.test.assign(perm.begin(), perm.begin() + n_test);
  s.train.assign(perm.begin() + n_test, perm.end());
  return s;
}

/// Stratified shuffled split: each class keeps its share in both parts. The per-class sizes are
/// sklearn's (StratifiedShuffleSplit: train drawn first, then test from the rest; equal
/// remainders broken by `seed`).
template <class Label>
Split stratified_train_test_split(const std::vector<Label>& labels, TestSize test_size = 0.25,
                                  std::uint64_t seed = 42) {
  const auto n = static_cast<std::int64_t>(labels.size());
  RECSYS_CHECK(n > 0, "train_test_split: needs at least one sample, got 0");
  const auto [n_train, n_test] = test_size.sizes(n, "train_test_split");
  const auto [y, counts] = detail::encode_sorted(labels);
  const auto n_classes = static_cast<std::int64_t>(counts.size());
  for (std::size_t k = 0; k < counts.size(); ++k)
    RECSYS_CHECK(counts[k] >= 2, "train_test_split: class ", k, " (in sorted label order) has only ", counts[k],
                 " member; stratify needs at least 2 per class");
  RECSYS_CHECK(n_train >= n_classes, "train_test_split: train size ", n_train, " is below the number of classes ",
               n_classes);
  RECSYS_CHECK(n_test >= n_classes, "train_test_split: test size ", n_test, " is below the number of classes ",
               n_classes);
  Generator gen(seed);
  const std::vector<std::int64_t> n_i = detail::approximate_mode(counts, n_train, gen);
  std::vector<std::int64_t> rest(counts.size());
  for (std::size_t k = 0; k < counts.size(); ++k) rest[k] = counts[k] - n_i[k];
  const std::vector<std::int64_t> t_i = detail::approximate_mode(rest, n_test, gen);
  std::vector<std::vector<std::int64_t>> members(counts.size());
  for (std::int64_t i = 0; i < n; ++i) members[static_cast<std::size_t>(y[static_cast<std::size_t>(i)])].push_back(i);
  Split s;
  for (std::size_t k = 0; k < members.size(); ++k) {
    shuffle(members[k].begin(), members[k].end(), gen);
    s.train.insert(s.train.end(), members[k].begin(), members[k].begin() + n_i[k]);
    s.test.insert(s.test.end(), members[k].begin() + n_i[k], members[k].begin() + n_i[k] + t_i[k]);
  }
  shuffle(s.train.begin(), s.train.end(), gen);
  shuffle(s.test.begin(), s.test.end(), gen);
  return s;
}

/// K-fold cross-validation (sklearn KFold): fold k tests a contiguous block of the (optionally
/// shuffled) indices; the first n % k folds are one larger. Indices come back ascending.
class KFold {
 public:
  explicit KFold(std::int64_t n_splits = 5, bool shuffle = false, std::uint64_t seed = 0)
      : n_splits_(n_splits), shuffle_(shuffle), seed_(seed) {
    RECSYS_CHECK(n_splits >= 2, "KFold: n_splits must be at least 2, got ", n_splits);
  }
  /// The n_splits splits of n samples.
  std::vector<Split> split(std::int64_t n) const {
    RECSYS_CHECK(n_splits_ <= n, "KFold: n_splits=", n_splits_, " is greater than the number of samples ", n);
    std::vector<std::int64_t> idx(static_cast<std::size_t>(n));
    std::iota(idx.begin(), idx.end(), 0);
    if (shuffle_) {
      Generator gen(seed_);
      shuffle(idx.begin(), idx.end(), gen);
    }
    std::vector<std::int64_t> fold(static_cast<std::size_t>(n));
    std::int64_t at = 0;
    for (std::int64_t k = 0; k < n_splits_; ++k) {
      const std::int64_t size = n / n_splits_ + (k < n % n_splits_ ? 1 : 0);
      for (std::int64_t j = 0; j < size; ++j) fold[static_cast<std::size_t>(idx[static_cast<std::size_t>(at + j)])] = k;
      at += size;
    }
    return splits_from_folds(fold, n_splits_);
  }

  /// Splits where sample i is tested in fold[i].
  static std::vector<Split> splits_from_folds(const std::vector<std::int64_t>& fold, std::int64_t n_splits) {
    std::vector<Split> out(static_cast<std::size_t>(n_splits));
    for (std::size_t i = 0; i < fold.size(); ++i)
      for (std::int64_t k = 0; k < n_splits; ++k)
        (fold[i] == k ? out[static_cast<std::size_t>(k)].test : out[static_cast<std::size_t>(k)].train)
            .push_back(static_cast<std::int64_t>(i));
    return out;
  }

 private:
  std::int64_t n_splits_;
  bool shuffle_;
  std::uint64_t seed_;
};

/// Stratified K-fold (sklearn StratifiedKFold, the same folds when shuffle is off): classes are
/// numbered by first appearance, the sorted class sequence is dealt round-robin to the folds to
/// fix each fold's share of each class, and each class's samples fill its folds in order.
class StratifiedKFold {
 public:
  explicit StratifiedKFold(std::int64_t n_splits = 5, bool shuffle = false, std::uint64_t seed = 0)
      : n_splits_(n_splits), shuffle_(shuffle), seed_(seed) {
    RECSYS_CHECK(n_splits >= 2, "StratifiedKFold: n_splits must be at least 2, got ", n_splits);
  }
  template <class Label>
  std::vector<Split> split(const std::vector<Label>& labels) const {
    const auto n = static_cast<std::int64_t>(labels.size());
    RECSYS_CHECK(n_splits_ <= n, "StratifiedKFold: n_splits=", n_splits_, " is greater than the number of samples ", n);
    std::map<Label, std::int64_t> first_seen;  // class id by order of appearance
    std::vector<std::int64_t> y;
    for (const Label& l : labels)
      y.push_back(first_seen.emplace(l, static_cast<std::int64_t>(first_seen.size())).first->second);
    const std::size_t n_classes = first_seen.size();
    std::vector<std::int64_t> counts(n_classes, 0);
    for (std::int64_t c : y) ++counts[static_cast<std::size_t>(c)];
    RECSYS_CHECK(std::any_of(counts.begin(), counts.end(), [&](std::int64_t c) { return c >= n_splits_; }),
                 "StratifiedKFold: n_splits=", n_splits_, " is greater than the number of members in each class");
    std::vector<std::int64_t> sorted = y;
    std::sort(sorted.begin(), sorted.end());
    // allocation[f][c]: how many of class c fold f tests (sklearn deals y_order[f::n_splits]).
    std::vector<std::vector<std::int64_t>> allocation(static_cast<std::size_t>(n_splits_),
                                                      std::vector<std::int64_t>(n_classes, 0));
    for (std::size_t i = 0; i < sorted.size(); ++i)
      ++allocation[i % static_cast<std::size_t>(n_splits_)][static_cast<std::size_t>(sorted[i])];
    Generator gen(seed_);
    std::vector<std::int64_t> fold(labels.size());
    for (std::size_t c = 0; c < n_classes; ++c) {
      std::vector<std::int64_t> folds_for_class;
      for (std::int64_t f = 0; f < n_splits_; ++f)
        folds_for_class.insert(folds_for_class.end(), allocation[static_cast<std::size_t>(f)][c], f);
      if (shuffle_) shuffle(folds_for_class.begin(), folds_for_class.end(), gen);
      std::size_t next = 0;
      for (std::size_t i = 0; i < y.size(); ++i)
        if (static_cast<std::size_t>(y[i]) == c) fold[i] = folds_for_class[next++];
    }
    return KFold::splits_from_folds(fold, n_splits_);
  }

 private:
  std::int64_t n_splits_;
  bool shuffle_;
  std::uint64_t seed_;
};

/// Leave-last-out for recommenders: each user's latest interaction (by `time`; the later row wins
/// a tie) is the test row, the rest train. Users with a single interaction keep it in train.
/// Indices come back ascending.
inline Split leave_last_out(const Table& table, const std::string& user, const std::string& time) {
  const Column& t = table.column(table.column_index(time, "leave_last_out"));
  RECSYS_CHECK(t.is_numeric(), "leave_last_out: time column '", time, "' must be numeric, got ", t.type());
  RECSYS_CHECK(table.column(table.column_index(user, "leave_last_out")).missing_count() == 0,
               "leave_last_out: user column '", user, "' has missing values");
  RECSYS_CHECK(t.missing_count() == 0, "leave_last_out: time column '", time, "' has missing values");
  const GroupBy groups = table.group_by({user});
  std::vector<std::uint8_t> is_test(static_cast<std::size_t>(table.num_rows()), 0);
  for (std::int64_t g = 0; g < groups.num_groups(); ++g) {
    const std::vector<std::int64_t> rows = groups.rows(g);
    if (rows.size() < 2) continue;
    std::int64_t last = rows[0];
    for (std::int64_t r : rows)
      if (t.number_at(r) >= t.number_at(last)) last = r;
    is_test[static_cast<std::size_t>(last)] = 1;
  }
  Split s;
  for (std::int64_t i = 0; i < table.num_rows(); ++i)
    (is_test[static_cast<std::size_t>(i)] ? s.test : s.train).push_back(i);
  return s;
}

/// Global temporal split: rows ordered by `time` (stable), the latest ceil(fraction * n) rows test
/// (sklearn-style sizes from test_size). Nothing from the future leaks into training.
inline Split temporal_split(const Table& table, const std::string& time, TestSize test_size = 0.2) {
  const Column& t = table.column(table.column_index(time, "temporal_split"));
  RECSYS_CHECK(t.is_numeric(), "temporal_split: time column '", time, "' must be numeric, got ", t.type());
  RECSYS_CHECK(t.missing_count() == 0, "temporal_split: time column '", time, "' has missing values");
  const auto [n_train, n_test] = test_size.sizes(table.num_rows(), "temporal_split");
  const std::vector<std::int64_t> order = table.sort_order({{time, true}});
  Split s;
  s.train.assign(order.begin(), order.begin() + n_train);
  s.test.assign(order.begin() + n_train, order.end());
  std::sort(s.train.begin(), s.train.end());
  std::sort(s.test.begin(), s.test.end());
  return s;
}

}  // namespace recsys::data
