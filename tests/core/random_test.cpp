// tests/core/random_test.cpp — Philox known answers, Generator reproducibility and distribution sanity.
#include <doctest/doctest.h>

#include <cmath>
#include <numeric>

#include "test_util.hpp"

using namespace recsys;

TEST_CASE("philox4x32-10 matches the Random123 known-answer vectors") {
  const Philox4 a = philox4x32(Philox4{{0, 0, 0, 0}}, 0, 0);
  CHECK(a.v[0] == 0x6627e8d5u);
  CHECK(a.v[1] == 0xe169c58du);
  CHECK(a.v[2] == 0xbc57ac4cu);
  CHECK(a.v[3] == 0x9b00dbd8u);
  const Philox4 b = philox4x32(Philox4{{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, 0xffffffffu, 0xffffffffu);
  CHECK(b.v[0] == 0x408f276du);
  CHECK(b.v[3] == 0x6d5451fdu);
  const Philox4 c = philox4x32(Philox4{{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, 0xa4093822u, 0x299f31d0u);
  CHECK(c.v[0] == 0xd16cfe09u);
  CHECK(c.v[1] == 0x94fdccebu);
  CHECK(c.v[2] == 0x5001e420u);
  CHECK(c.v[3] == 0x24126ea1u);
}

TEST_CASE("the same seed gives the same draws, independent of thread count") {
  auto draw = [](int threads) {
    set_num_threads(threads);
    Generator g(42);
    Tensor u = rand({300000}, g);  // large enough to run in parallel
    Tensor n = randn({1001}, g, DType::float64);
    Tensor i = randint(-3, 9, {77}, g);
    return std::make_tuple(u, n, i);
  };
  const auto [u1, n1, i1] = draw(1);
  const auto [u2, n2, i2] = draw(2);
  set_num_threads(2);
  CHECK(recsys::testing::bitwise_equal(u1, u2));
  CHECK(recsys::testing::bitwise_equal(n1, n2));
  CHECK(i1.to_vector<std::int64_t>() == i2.to_vector<std::int64_t>());
  Generator other(43);
  CHECK_FALSE(recsys::testing::bitwise_equal(u1, rand({300000}, other)));
}

TEST_CASE("successive draws from one generator differ and advance the offset") {
  Generator g(7);
  Tensor a = rand({5}, g);
  CHECK(g.offset() == 2);  // 5 floats = 2 blocks of four
  Tensor b = rand({5}, g);
  CHECK_FALSE(recsys::testing::bitwise_equal(a, b));
  Generator replay(7);
  replay.set_state(7, 2);
  CHECK(recsys::testing::bitwise_equal(rand({5}, replay), b));
}

TEST_CASE("uniform, normal and randint have the right moments and ranges") {
  Generator g(123);
  const auto u = rand({200000}, g, DType::float64).to_vector<double>();
  const double mean_u = std::accumulate(u.begin(), u.end(), 0.0) / u.size();
  CHECK(mean_u == doctest::Approx(0.5).epsilon(0.01));
  CHECK(*std::min_element(u.begin(), u.end()) >= 0.0);
  CHECK(*std::max_element(u.begin(), u.end()) < 1.0);
  const auto z = normal({200000}, 2.0, 3.0, g).to_vector<double>();
  const double mean_z = std::accumulate(z.begin(), z.end(), 0.0) / z.size();
  double var = 0;
  for (double v : z) var += (v - mean_z) * (v - mean_z);
  var /= z.size();
  CHECK(mean_z == doctest::Approx(2.0).epsilon(0.02));
  CHECK(std::sqrt(var) == doctest::Approx(3.0).epsilon(0.02));
  const auto r = randint(-2, 3, {50000}, g).to_vector<std::int64_t>();
  std::vector<int> counts(5, 0);
  for (auto v : r) {
    REQUIRE(v >= -2);
    REQUIRE(v < 3);
    ++counts[static_cast<std::size_t>(v + 2)];
  }
  for (int c : counts) CHECK(c == doctest::Approx(10000).epsilon(0.05));
}

TEST_CASE("shuffle and below are deterministic and unbiased enough") {
  std::vector<int> a(10), b(10);
  std::iota(a.begin(), a.end(), 0);
  std::iota(b.begin(), b.end(), 0);
  Generator g1(5), g2(5);
  recsys::shuffle(a.begin(), a.end(), g1);
  recsys::shuffle(b.begin(), b.end(), g2);
  CHECK(a == b);
  CHECK_FALSE(std::is_sorted(a.begin(), a.end()));
  std::vector<int> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 10; ++i) CHECK(sorted[static_cast<std::size_t>(i)] == i);
  Generator g(9);
  for (int i = 0; i < 1000; ++i) CHECK(g.below(7) < 7);
}
