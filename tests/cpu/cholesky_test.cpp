// tests/cpu/cholesky_test.cpp — cpu::cholesky and cpu::cholesky_inverse: a hand-worked case, the unblocked reference, reconstruction across block edges, the inverse, the not-positive-definite error, thread counts.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "recsys/core/error.hpp"
#include "recsys/core/parallel.hpp"
#include "recsys/core/random.hpp"
#include "recsys/cpu/cholesky.hpp"

using namespace recsys;

namespace {

/// A random SPD matrix, row-major n×n: M·Mᵀ/n + I for M with entries in [-1, 1) — well conditioned, dense.
template <class T>
std::vector<T> random_spd(std::int64_t n, std::uint64_t seed) {
  Generator gen(seed);
  std::vector<double> m(static_cast<std::size_t>(n * n));
  for (double& x : m) x = 2 * gen.uniform() - 1;
  std::vector<T> a(static_cast<std::size_t>(n * n));
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j <= i; ++j) {
      double s = 0;
      for (std::int64_t k = 0; k < n; ++k) s += m[static_cast<std::size_t>(i * n + k)] * m[static_cast<std::size_t>(j * n + k)];
      s = s / static_cast<double>(n) + (i == j ? 1.0 : 0.0);
      a[static_cast<std::size_t>(i * n + j)] = a[static_cast<std::size_t>(j * n + i)] = static_cast<T>(s);
    }
  return a;
}

/// max |(L·Lᵀ)_ij − A_ij| / max |A_ij|, in double.
template <class T>
double reconstruction_error(const std::vector<T>& l, const std::vector<T>& a, std::int64_t n) {
  double worst = 0, scale = 0;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (std::int64_t k = 0; k <= std::min(i, j); ++k)
        s += static_cast<double>(l[static_cast<std::size_t>(i * n + k)]) * static_cast<double>(l[static_cast<std::size_t>(j * n + k)]);
      worst = std::max(worst, std::fabs(s - static_cast<double>(a[static_cast<std::size_t>(i * n + j)])));
      scale = std::max(scale, std::fabs(static_cast<double>(a[static_cast<std::size_t>(i * n + j)])));
    }
  return worst / scale;
}

/// max |(X·A)_ij − δ_ij|, in double.
template <class T>
double inverse_error(const std::vector<T>& x, const std::vector<T>& a, std::int64_t n) {
  double worst = 0;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (std::int64_t k = 0; k < n; ++k)
        s += static_cast<double>(x[static_cast<std::size_t>(i * n + k)]) * static_cast<double>(a[static_cast<std::size_t>(k * n + j)]);
      worst = std::max(worst, std::fabs(s - (i == j ? 1.0 : 0.0)));
    }
  return worst;
}

bool upper_is_zero(const std::vector<double>& l, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = i + 1; j < n; ++j)
      if (l[static_cast<std::size_t>(i * n + j)] != 0) return false;
  return true;
}

}  // namespace

TEST_CASE("cholesky: a hand-worked 3x3 and its inverse") {
  // A = [[4, 12, -16], [12, 37, -43], [-16, -43, 98]] = L·Lᵀ with L = [[2, 0, 0], [6, 1, 0], [-8, 5, 3]].
  const std::vector<double> a{4, 12, -16, 12, 37, -43, -16, -43, 98};
  const std::vector<double> l{2, 0, 0, 6, 1, 0, -8, 5, 3};
  for (int blocked = 0; blocked < 2; ++blocked) {
    std::vector<double> f = a;
    if (blocked) cpu::cholesky(f.data(), 3, 3, 1);  // one-column blocks: every code path on a small case
    else cpu::cholesky_reference(f.data(), 3, 3);
    for (std::size_t k = 0; k < 9; ++k) CHECK(f[k] == doctest::Approx(l[k]).epsilon(1e-14));
  }
  // A⁻¹ = Wᵀ·W with W = L⁻¹ = [[1/2, 0, 0], [-3, 1, 0], [19/3, -5/3, 1/3]] (forward substitution).
  const std::vector<double> inv{1.0 / 4 + 9 + 361.0 / 9, -3 - 95.0 / 9, 19.0 / 9,
                                -3 - 95.0 / 9,             1 + 25.0 / 9, -5.0 / 9,
                                19.0 / 9,                  -5.0 / 9,     1.0 / 9};
  std::vector<double> x = a;
  cpu::spd_inverse(x.data(), 3, 3);
  for (std::size_t k = 0; k < 9; ++k) CHECK(x[k] == doctest::Approx(inv[k]).epsilon(1e-12));
  CHECK(inverse_error(x, a, 3) < 1e-12);
}

TEST_CASE("cholesky: the blocked factor matches the reference and reconstructs A across block edges") {
  for (std::int64_t n : {1, 7, 33, 255, 256, 257, 300, 513}) {
    INFO("n = ", n);
    const std::vector<double> a = random_spd<double>(n, 100 + static_cast<std::uint64_t>(n));
    std::vector<double> blocked = a, reference = a;
    cpu::cholesky(blocked.data(), n, n);
    cpu::cholesky_reference(reference.data(), n, n);
    CHECK(upper_is_zero(blocked, n));
    double diff = 0;
    for (std::size_t k = 0; k < a.size(); ++k) diff = std::max(diff, std::fabs(blocked[k] - reference[k]));
    CHECK(diff < 1e-12);
    CHECK(reconstruction_error(blocked, a, n) < 1e-13);
  }
}

TEST_CASE("cholesky: small block sizes and a padded leading dimension") {
  const std::int64_t n = 70, ld = 75;
  const std::vector<double> a = random_spd<double>(n, 3);
  for (std::int64_t block : {1, 5, 16, 64}) {
    INFO("block = ", block);
    std::vector<double> padded(static_cast<std::size_t>(n * ld), -7.0);  // padding must stay untouched
    for (std::int64_t i = 0; i < n; ++i) std::copy(a.begin() + i * n, a.begin() + (i + 1) * n, padded.begin() + i * ld);
    cpu::cholesky(padded.data(), n, ld, block);
    std::vector<double> l(static_cast<std::size_t>(n * n));
    for (std::int64_t i = 0; i < n; ++i) {
      std::copy(padded.begin() + i * ld, padded.begin() + i * ld + n, l.begin() + i * n);
      for (std::int64_t j = n; j < ld; ++j) CHECK(padded[static_cast<std::size_t>(i * ld + j)] == -7.0);
    }
    CHECK(reconstruction_error(l, a, n) < 1e-13);
    cpu::cholesky_inverse(padded.data(), n, ld, block);
    std::vector<double> x(static_cast<std::size_t>(n * n));
    for (std::int64_t i = 0; i < n; ++i) std::copy(padded.begin() + i * ld, padded.begin() + i * ld + n, x.begin() + i * n);
    CHECK(inverse_error(x, a, n) < 1e-11);
  }
}

TEST_CASE("cholesky: the inverse times A is the identity, float and double, and is exactly symmetric") {
  for (std::int64_t n : {1, 7, 255, 300, 513}) {
    INFO("n = ", n);
    const std::vector<double> a = random_spd<double>(n, 7 + static_cast<std::uint64_t>(n));
    std::vector<double> x = a;
    cpu::spd_inverse(x.data(), n, n);
    CHECK(inverse_error(x, a, n) < 1e-11);
    const std::vector<float> af = random_spd<float>(n, 7 + static_cast<std::uint64_t>(n));
    std::vector<float> xf = af;
    cpu::spd_inverse(xf.data(), n, n);
    CHECK(inverse_error(xf, af, n) < 2e-4);
    bool symmetric = true;
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < i; ++j)
        symmetric = symmetric && xf[static_cast<std::size_t>(i * n + j)] == xf[static_cast<std::size_t>(j * n + i)];
    CHECK(symmetric);
  }
}

TEST_CASE("cholesky: float factor close to the double one") {
  const std::int64_t n = 300;
  const std::vector<double> a = random_spd<double>(n, 11);
  std::vector<float> f(a.begin(), a.end());
  cpu::cholesky(f.data(), n, n);
  std::vector<float> af(a.begin(), a.end());
  CHECK(reconstruction_error(f, af, n) < 1e-5);
}

TEST_CASE("cholesky: a matrix that is not positive definite names the pivot") {
  // [[1, 2], [2, 1]]: the second pivot is 1 − 2² = −3.
  std::vector<double> a{1, 2, 2, 1};
  CHECK_THROWS_WITH_AS(cpu::cholesky(a.data(), 2, 2), doctest::Contains("cholesky: the matrix (2 × 2) is not positive definite: pivot 1 is -3"),
                       recsys::Error);
  a = {1, 2, 2, 1};
  CHECK_THROWS_WITH_AS(cpu::cholesky_reference(a.data(), 2, 2), doctest::Contains("not positive definite: pivot 1 is -3"),
                       recsys::Error);
  // A large SPD matrix with one diagonal entry pushed negative, beyond the first block: the pivot
  // index is the global one, and the float path reports it too.
  const std::int64_t n = 300;
  std::vector<double> big = random_spd<double>(n, 5);
  big[static_cast<std::size_t>(270 * n + 270)] = -5;
  std::vector<float> bigf(big.begin(), big.end());
  CHECK_THROWS_WITH_AS(cpu::cholesky(big.data(), n, n), doctest::Contains("(300 × 300) is not positive definite: pivot 270 is -"),
                       recsys::Error);
  CHECK_THROWS_WITH_AS(cpu::cholesky(bigf.data(), n, n), doctest::Contains("not positive definite: pivot 270 is -"),
                       recsys::Error);
  std::vector<double> zero(9, 0.0);
  CHECK_THROWS_WITH_AS(cpu::spd_inverse(zero.data(), 3, 3), doctest::Contains("pivot 0 is 0"), recsys::Error);
  CHECK_THROWS_WITH_AS(cpu::cholesky(zero.data(), 3, 2), doctest::Contains("cholesky: the leading dimension 2 is smaller than the size 3"),
                       recsys::Error);
  CHECK_THROWS_WITH_AS(cpu::cholesky_inverse(zero.data(), 3, 3), doctest::Contains("cholesky_inverse: the factor (3 × 3) has diagonal entry 0 = 0"),
                       recsys::Error);
}

TEST_CASE("cholesky: factor and inverse are bitwise identical on 1 and 2 threads") {
  const int before = num_threads();
  const std::int64_t n = 600;
  const std::vector<float> af = random_spd<float>(n, 21);
  const std::vector<double> ad = random_spd<double>(n, 22);
  std::vector<float> f1 = af, f2 = af;
  std::vector<double> d1 = ad, d2 = ad;
  set_num_threads(1);
  cpu::spd_inverse(f1.data(), n, n);
  cpu::spd_inverse(d1.data(), n, n);
  set_num_threads(2);
  cpu::spd_inverse(f2.data(), n, n);
  cpu::spd_inverse(d2.data(), n, n);
  set_num_threads(before);
  CHECK(std::memcmp(f1.data(), f2.data(), f1.size() * sizeof(float)) == 0);
  CHECK(std::memcmp(d1.data(), d2.data(), d1.size() * sizeof(double)) == 0);
}
