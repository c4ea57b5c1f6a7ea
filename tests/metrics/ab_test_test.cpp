// tests/metrics/ab_test_test.cpp — paired bootstrap A/B comparison: degenerate cases exactly, agreement with the normal approximation, calibration under the null, errors.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <recsys/metrics/ab_test.hpp>
#include <recsys/metrics/classification.hpp>

#include "test_util.hpp"

using namespace recsys;
using namespace recsys::metrics;
using doctest::Approx;
using doctest::Contains;

namespace {

std::vector<double> normals(std::size_t n, double mean, double sd, Generator& gen) {
  std::vector<double> v(n);
  for (double& x : v) x = mean + sd * gen.normal();
  return v;
}

double normal_two_sided_p(double z) { return std::erfc(std::fabs(z) / std::sqrt(2.0)); }

}  // namespace

TEST_CASE("identical models: no difference, a zero-width interval and p = 1") {
  Generator gen(1);
  const std::vector<double> a = normals(50, 0.6, 0.2, gen);
  const ABTestResult r = ab_test(a, a, {.resamples = 500});
  CHECK(r.difference == 0.0);
  CHECK(r.ci_low == 0.0);
  CHECK(r.ci_high == 0.0);
  CHECK(r.p_value == 1.0);
  CHECK(r.n == 50);
  CHECK(r.resamples == 500);
  CHECK(r.metric_a == Approx(r.metric_b));
}

TEST_CASE("a constant improvement on every user is certain") {
  Generator gen(2);
  const std::vector<double> a = normals(40, 0.5, 0.1, gen);
  std::vector<double> b = a;
  for (double& x : b) x += 0.125;  // exact in binary, so every per-user difference is exactly 0.125
  const ABTestResult r = ab_test(a, b, {.resamples = 999});
  CHECK(r.difference == Approx(0.125));
  CHECK(r.ci_low == Approx(0.125).epsilon(1e-12));
  CHECK(r.ci_high == Approx(0.125).epsilon(1e-12));
  CHECK(r.p_value == Approx(1.0 / 1000));  // no recentred resample reaches |0.125|: only the +1 remains
}

TEST_CASE("the bootstrap agrees with the normal approximation on a large sample") {
  Generator gen(3);
  const std::size_t n = 2000;
  const std::vector<double> a = normals(n, 0.0, 1.0, gen);
  std::vector<double> b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = a[i] + 0.02 + 0.5 * gen.normal();
  const ABTestResult r = ab_test(a, b);
  double mean = 0, var = 0;
  for (std::size_t i = 0; i < n; ++i) mean += (b[i] - a[i]) / n;
  for (std::size_t i = 0; i < n; ++i) var += (b[i] - a[i] - mean) * (b[i] - a[i] - mean) / (n - 1);
  const double se = std::sqrt(var / n);
  CHECK(r.difference == Approx(mean).epsilon(1e-9));
  INFO("interval [", r.ci_low, ", ", r.ci_high, "], normal approximation ", mean, " +- ", 1.959964 * se);
  CHECK(std::fabs(r.ci_low - (mean - 1.959964 * se)) < 0.1 * se);
  CHECK(std::fabs(r.ci_high - (mean + 1.959964 * se)) < 0.1 * se);
  INFO("p ", r.p_value, ", normal approximation ", normal_two_sided_p(mean / se));
  CHECK(std::fabs(r.p_value - normal_two_sided_p(mean / se)) < 0.015);
}

TEST_CASE("the same seed gives the same interval and the generic and per-unit forms agree") {
  Generator gen(4);
  const std::vector<double> a = normals(300, 0.3, 0.2, gen), b = normals(300, 0.32, 0.2, gen);
  const ABTestResult r1 = ab_test(a, b, {.resamples = 2000, .seed = 9});
  const ABTestResult r2 = ab_test(a, b, {.resamples = 2000, .seed = 9});
  CHECK(r1.ci_low == r2.ci_low);
  CHECK(r1.ci_high == r2.ci_high);
  CHECK(r1.p_value == r2.p_value);
  const ABTestResult r3 = ab_test(a, b, {.resamples = 2000, .seed = 10});
  CHECK(r3.ci_low != r1.ci_low);
  // paired_bootstrap of the mean draws the same rows from the same seed.
  const ABTestResult g = paired_bootstrap(
      300,
      [&](std::span<const std::int64_t> rows) {
        double sa = 0, sb = 0;
        for (std::int64_t r : rows) {
          sa += a[static_cast<std::size_t>(r)];
          sb += b[static_cast<std::size_t>(r)];
        }
        return std::pair{sa / 300, sb / 300};
      },
      {.resamples = 2000, .seed = 9});
  CHECK(g.difference == Approx(r1.difference).epsilon(1e-12));
  CHECK(g.ci_low == Approx(r1.ci_low).epsilon(1e-9));
  CHECK(g.ci_high == Approx(r1.ci_high).epsilon(1e-9));
  CHECK(g.p_value == Approx(r1.p_value).epsilon(0.002));
}

TEST_CASE("paired bootstrap of ROC AUC over test rows") {
  // Model B's scores carry more signal than model A's on the same rows.
  Generator gen(5);
  const std::size_t n = 600;
  std::vector<int> y(n);
  std::vector<double> sa(n), sb(n);
  for (std::size_t i = 0; i < n; ++i) {
    y[i] = gen.uniform() < 0.4;
    sa[i] = 0.5 * y[i] + gen.normal();
    sb[i] = 1.0 * y[i] + gen.normal();
  }
  const ABTestResult r = paired_bootstrap(
      static_cast<std::int64_t>(n),
      [&](std::span<const std::int64_t> rows) {
        std::vector<int> yy;
        std::vector<double> aa, bb;
        for (std::int64_t row : rows) {
          yy.push_back(y[static_cast<std::size_t>(row)]);
          aa.push_back(sa[static_cast<std::size_t>(row)]);
          bb.push_back(sb[static_cast<std::size_t>(row)]);
        }
        return std::pair{roc_auc(yy, aa), roc_auc(yy, bb)};
      },
      {.resamples = 300});
  CHECK(r.metric_a == Approx(roc_auc(y, sa)));
  CHECK(r.metric_b == Approx(roc_auc(y, sb)));
  CHECK(r.difference > 0.1);
  CHECK(r.ci_low > 0);
  CHECK(r.ci_low < r.difference);
  CHECK(r.difference < r.ci_high);
  CHECK(r.p_value < 0.01);
}

TEST_CASE("under the null, p < 0.05 about 5% of the time") {
  Generator gen(6);
  int rejections = 0;
  const int experiments = 300;
  for (int e = 0; e < experiments; ++e) {
    const std::vector<double> a = normals(60, 0.0, 1.0, gen), b = normals(60, 0.0, 1.0, gen);
    rejections += ab_test(a, b, {.resamples = 500, .seed = static_cast<std::uint64_t>(e)}).p_value < 0.05;
  }
  INFO(rejections, " of ", experiments, " rejected");
  CHECK(rejections >= 5);   // 5% of 300 is 15; the binomial standard deviation is about 3.8
  CHECK(rejections <= 30);
}

TEST_CASE("ab_test errors") {
  const std::vector<double> two{1, 2}, three{1, 2, 3}, one{1};
  CHECK_THROWS_WITH_AS(ab_test(two, three), Contains("ab_test: model A has 2 per-unit values but model B has 3"), Error);
  CHECK_THROWS_WITH_AS(ab_test(one, one), Contains("ab_test: needs at least 2 paired units to resample, got 1"), Error);
  CHECK_THROWS_WITH_AS(ab_test(two, two, {.resamples = 0}), Contains("ab_test: resamples must be at least 1, got 0"),
                       Error);
  CHECK_THROWS_WITH_AS(ab_test(two, two, {.confidence = 1.5}), Contains("ab_test: confidence must lie in (0, 1), got 1.5"),
                       Error);
  CHECK_THROWS_WITH_AS(ab_test(two, std::vector<double>{1, NAN}), Contains("ab_test: b[1] is nan"), Error);
  CHECK_THROWS_WITH_AS(
      paired_bootstrap(3, [](std::span<const std::int64_t>) { return std::pair{0.5, NAN}; }),
      Contains("ab_test: the metric returned a non-finite value (0.5, nan) on the full sample"), Error);
}
