// tests/ops/dropout_test.cpp — dropout: the documented Philox mask, scaling, eval identity, gradient, determinism, errors.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "recsys/io/safetensors.hpp"
#include "test_util.hpp"

using namespace recsys;
using recsys::testing::bitwise_equal;
using recsys::testing::check_close;
using recsys::testing::param;

namespace {
using recsys::testing::FakeCudaDevice;
/// A fixture written by tests/golden/ops_fixtures.py.
struct DropoutFixture : recsys::testing::GoldenFixture {
  explicit DropoutFixture(const std::string& name) : GoldenFixture("ops/" + name) {}
};
}  // namespace

TEST_CASE("dropout follows the documented mask: philox_uniform<float>(seed, first_block, i) >= rate") {
  Generator gen(77);
  gen.reserve(5);  // a draw that does not start at block 0
  const std::uint64_t first_block = gen.offset();
  Tensor x = arange(10, DType::float64).view({2, 5}) + 1.0;
  Tensor y = dropout(x, 0.4, gen);
  CHECK(gen.offset() == first_block + philox_blocks<float>(10));  // 3 blocks for 10 elements
  std::vector<double> expected;
  for (std::uint64_t i = 0; i < 10; ++i) {
    const bool keep = philox_uniform<float>(77, first_block, i) >= 0.4f;
    expected.push_back(keep ? static_cast<double>(i + 1) / (1.0 - 0.4) : 0.0);
  }
  CHECK(y.shape() == Shape{2, 5});
  check_close(y, expected, 1e-15, 0);
  // The same mask for float32: the draw is always in float, whatever the dtype of x.
  Generator gen32(77);
  gen32.reserve(5);
  check_close(dropout(x.to(DType::float32), 0.4, gen32), expected, 1e-6, 0);
}

TEST_CASE("dropout by hand: eval and rate 0 are the identity and draw nothing") {
  Generator gen(1);
  Tensor x = tensor({1.f, 2.f, 3.f});
  CHECK(dropout(x, 0.5, gen, /*training=*/false).is_same(x));
  CHECK(dropout(x, 0.0, gen).is_same(x));
  CHECK(gen.offset() == 0);
  // A strided input is masked in its row-major order.
  Tensor m = arange(6, DType::float64).view({2, 3}) + 1.0;
  Generator a(9), b(9);
  check_close(dropout(m.t(), 0.5, a), dropout(m.t().contiguous(), 0.5, b).to_vector<double>(), 0, 0);
}

TEST_CASE("dropout keeps about 1 - rate of the elements and preserves the mean") {
  Generator gen(3);
  const std::int64_t n = 200000;
  for (double rate : {0.1, 0.25, 0.5, 0.9}) {
    const std::vector<float> y = dropout(ones({n}), rate, gen).to_vector<float>();
    std::int64_t kept = 0, other = 0;
    double total = 0;
    for (float v : y) {
      kept += v != 0.0f;
      other += v != 0.0f && v != static_cast<float>(1.0 / (1.0 - rate));
      total += v;
    }
    INFO("rate ", rate);
    CHECK(other == 0);  // every element is 0 or exactly the scale
    CHECK(std::fabs(static_cast<double>(kept) / n - (1.0 - rate)) < 0.005);
    CHECK(std::fabs(total / n - 1.0) < 0.02);
  }
}

TEST_CASE("dropout gradient uses the forward mask") {
  Generator gen(5);
  Tensor x = ones({1000}, DType::float64);
  x.set_requires_grad();
  Tensor y = dropout(x, 0.3, gen);
  gen.reserve(100);  // later draws must not change the mask backward() regenerates
  Tensor gy = arange(1000, DType::float64) + 1.0;
  y.backward(gy);
  const auto yv = y.to_vector<double>(), gv = x.grad().to_vector<double>();
  for (std::size_t i = 0; i < yv.size(); ++i) {
    INFO("element ", i);
    CHECK(gv[i] == yv[i] * static_cast<double>(i + 1));  // y = mask·scale since x = 1
  }
  // gradcheck: each call draws from a fresh generator with the same seed, so the mask is fixed
  Generator g(6);
  Tensor p = param({4, 6}, g);
  RECSYS_CHECK_GRADCHECK([](const autograd::TensorList& in) {
    Generator local(42);
    return dropout(in[0], 0.5, local);
  }, {p});
  Tensor ps = param({6, 4}, g);
  RECSYS_CHECK_GRADCHECK([](const autograd::TensorList& in) {
    Generator local(43);
    return dropout(in[0].t(), 0.25, local);
  }, {ps});
}

TEST_CASE("dropout: same seed gives bitwise-identical results with 1 and 2 threads") {
  Generator data(8);
  Tensor x = randn({256, 100, 128}, data);
  auto run = [&](int threads) {
    set_num_threads(threads);
    Generator gen(1234);
    Tensor xl = x.detach().set_requires_grad();
    Tensor y = dropout(xl, 0.25, gen);
    y.backward(x);
    Tensor grad = xl.grad();
    xl.set_grad(Tensor());
    return std::pair{y, grad};
  };
  const auto [y1, g1] = run(1);
  const auto [y2, g2] = run(2);
  set_num_threads(2);
  CHECK(bitwise_equal(y1, y2));
  CHECK(bitwise_equal(g1, g2));
  Generator other(1235);
  CHECK_FALSE(bitwise_equal(y1, dropout(x, 0.25, other)));
}

TEST_CASE("dropout matches an independent Python Philox implementation of the documented mask (golden fixture)") {
  const DropoutFixture f("dropout_mask");
  const double rate = std::stod(f.file.metadata.at("rate"));
  for (DType dt : {DType::float32, DType::float64}) {
    INFO(dtype_name(dt));
    Generator gen(static_cast<std::uint64_t>(std::stoull(f.file.metadata.at("seed"))));
    gen.reserve(static_cast<std::uint64_t>(f.setting("first_block")));
    Tensor x = f["x"].to(dt).detach().set_requires_grad();
    Tensor out = dropout(x, rate, gen);
    const double rtol = dt == DType::float32 ? 1e-6 : 1e-15;
    check_close(out, f["expected_output"], rtol, 0);
    out.backward(f["grad_output"].to(dt));
    check_close(x.grad(), f["expected_x_grad"], rtol, 0);
  }
}

TEST_CASE("dropout errors name the op and the values") {
  Generator gen(1);
  Tensor x = ones({3});
  CHECK_THROWS_WITH_AS(dropout(x, 1.0, gen), "dropout: rate must be in [0, 1), got 1", Error);
  CHECK_THROWS_WITH_AS(dropout(x, -0.1, gen), "dropout: rate must be in [0, 1), got -0.1", Error);
  CHECK_THROWS_WITH_AS(dropout(x, std::numeric_limits<double>::quiet_NaN(), gen),
                       "dropout: rate must be in [0, 1), got nan", Error);
  CHECK_THROWS_WITH_AS(dropout(x, 1.5, gen, /*training=*/false), doctest::Contains("got 1.5"), Error);
  CHECK_THROWS_WITH_AS(dropout(ones({3}, DType::int32), 0.5, gen), "dropout: input must be float32 or float64, got int32",
                       Error);
  CHECK_THROWS_WITH_AS(dropout(Tensor(), 0.5, gen), "dropout: input is an undefined tensor", Error);
  FakeCudaDevice fake;  // a device tensor goes to the device kernel, never to the CPU loop
  Tensor x_gpu = x.to(Device::cuda(0));
  CHECK_THROWS_WITH_AS(dropout(x_gpu, 0.5, gen), doctest::Contains("dropout: no CUDA kernel registered for device cuda:0"),
                       Error);
}
