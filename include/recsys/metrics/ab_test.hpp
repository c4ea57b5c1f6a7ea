// recsys/metrics/ab_test.hpp — A/B comparison of two models on the same users: the metric difference with a paired-bootstrap confidence interval and p-value.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "recsys/core/random.hpp"
#include "recsys/metrics/common.hpp"

namespace recsys::metrics {

/// Settings of the paired bootstrap.
struct BootstrapOptions {
  std::int64_t resamples = 10000;
  double confidence = 0.95;  // of the two-sided interval
  std::uint64_t seed = 42;   // same seed, same resamples, same interval on every machine
};

/// Model B against model A on one set of units (users or test rows).
struct ABTestResult {
  double metric_a = 0, metric_b = 0;  // on the whole sample
  double difference = 0;              // metric_b - metric_a
  double ci_low = 0, ci_high = 0;     // percentile bootstrap interval of the difference
  double p_value = 1;                 // two-sided, null hypothesis: no difference
  std::int64_t n = 0, resamples = 0;
  double confidence = 0;
};

namespace detail {

/// numpy's default ("linear") quantile of sorted values.
inline double quantile_sorted(const std::vector<double>& v, double q) {
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

inline void check_bootstrap(std::int64_t n, const BootstrapOptions& opt) {
  RECSYS_CHECK(n >= 2, "ab_test: needs at least 2 paired units to resample, got ", n);
  RECSYS_CHECK(opt.resamples >= 1, "ab_test: resamples must be at least 1, got ", opt.resamples);
  RECSYS_CHECK(opt.confidence > 0 && opt.confidence < 1, "ab_test: confidence must lie in (0, 1), got ",
               opt.confidence);
}

/// Interval and p-value from the resampled differences (sorted here).
inline void finish(ABTestResult& r, std::vector<double>& diffs, const BootstrapOptions& opt) {
  std::sort(diffs.begin(), diffs.end());
  const double tail = (1 - opt.confidence) / 2;
  r.ci_low = quantile_sorted(diffs, tail);
  r.ci_high = quantile_sorted(diffs, 1 - tail);
  // Under the null the difference is centred on 0, so the bootstrap spread is recentred there
  // (Hall & Wilson 1991): p = share of recentred differences at least as far from 0 as the observed one.
  // The +1s count the observed sample as one of the resamples, so p is never exactly 0.
  std::int64_t extreme = 0;
  for (double d : diffs) extreme += std::fabs(d - r.difference) >= std::fabs(r.difference);
  r.p_value = static_cast<double>(extreme + 1) / static_cast<double>(opt.resamples + 1);
}

}  // namespace detail

/// Paired bootstrap of any metric: `metric(rows)` returns {metric of A, metric of B} computed on the
/// units listed in `rows` (indices into 0..n-1, repeats allowed). Each resample draws n units with
/// replacement, the same units for both models, which is what makes the comparison paired: the
/// variation between users cancels out of the difference. Exceptions from `metric` propagate (e.g.
/// roc_auc on a resample that drew one class only: use more units or a per-unit metric).
template <class Metric>
ABTestResult paired_bootstrap(std::int64_t n, Metric&& metric, const BootstrapOptions& opt = {}) {
  detail::check_bootstrap(n, opt);
  std::vector<std::int64_t> rows(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) rows[static_cast<std::size_t>(i)] = i;
  ABTestResult r;
  r.n = n;
  r.resamples = opt.resamples;
  r.confidence = opt.confidence;
  const auto eval = [&](const char* what) {
    const std::pair<double, double> ab = metric(std::span<const std::int64_t>(rows));
    RECSYS_CHECK(std::isfinite(ab.first) && std::isfinite(ab.second), "ab_test: the metric returned a non-finite value (",
                 ab.first, ", ", ab.second, ") on ", what);
    return ab;
  };
  std::tie(r.metric_a, r.metric_b) = eval("the full sample");
  r.difference = r.metric_b - r.metric_a;
  Generator gen(opt.seed);
  std::vector<double> diffs(static_cast<std::size_t>(opt.resamples));
  for (auto& d : diffs) {
    for (auto& row : rows) row = static_cast<std::int64_t>(gen.below(static_cast<std::uint64_t>(n)));
    const auto ab = eval("a resample");
    d = ab.second - ab.first;
  }
  detail::finish(r, diffs, opt);
  return r;
}

/// A/B test of a per-unit metric (e.g. each user's NDCG@10 under model A and under model B): the
/// compared metric is the mean over units.
inline ABTestResult ab_test(std::span<const double> a, std::span<const double> b, const BootstrapOptions& opt = {}) {
  RECSYS_CHECK(a.size() == b.size(), "ab_test: model A has ", a.size(), " per-unit values but model B has ", b.size(),
               " (the test is paired: one value of each per unit)");
  detail::check_finite("ab_test", "a", a);
  detail::check_finite("ab_test", "b", b);
  const auto n = static_cast<std::int64_t>(a.size());
  detail::check_bootstrap(n, opt);
  // Means of A and B over a resample differ by the mean of the per-unit differences: resample those.
  std::vector<double> delta(a.size());
  double sum_a = 0, sum_b = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    delta[i] = b[i] - a[i];
    sum_a += a[i];
    sum_b += b[i];
  }
  ABTestResult r;
  r.n = n;
  r.resamples = opt.resamples;
  r.confidence = opt.confidence;
  r.metric_a = sum_a / static_cast<double>(n);
  r.metric_b = sum_b / static_cast<double>(n);
  r.difference = r.metric_b - r.metric_a;
  Generator gen(opt.seed);
  std::vector<double> diffs(static_cast<std::size_t>(opt.resamples));
  for (auto& d : diffs) {
    double s = 0;
    for (std::int64_t i = 0; i < n; ++i) s += delta[gen.below(static_cast<std::uint64_t>(n))];
    d = s / static_cast<double>(n);
  }
  detail::finish(r, diffs, opt);
  return r;
}

}  // namespace recsys::metrics
