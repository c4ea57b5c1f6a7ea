// tests/ops/maxpool1d_test.cpp — maxpool1d: windows by hand, gradient routing (overlapping too), NaN, determinism, errors.
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
/// x (1, 5, 2): channel 0 = [1, 5, 2, 4, 3], channel 1 = [-1, -2, -3, 0, -5].
Tensor maxpool_hand_x() { return tensor({1.f, -1.f, 5.f, -2.f, 2.f, -3.f, 4.f, 0.f, 3.f, -5.f}, {1, 5, 2}); }

using recsys::testing::FakeCudaDevice;
/// A fixture written by tests/golden/ops_fixtures.py.
struct MaxPoolFixture : recsys::testing::GoldenFixture {
  explicit MaxPoolFixture(const std::string& name) : GoldenFixture("ops/" + name) {}
};
}  // namespace

TEST_CASE("maxpool1d by hand: default stride, overlapping and strided windows") {
  Tensor y = maxpool1d(maxpool_hand_x(), 2);  // windows [0,1], [2,3]; step 4 is dropped ("valid")
  CHECK(y.shape() == Shape{1, 2, 2});
  check_close(y, {5, -1, 4, 0});
  check_close(maxpool1d(maxpool_hand_x(), 2, 1), {5, -1, 5, -2, 4, 0, 4, 0});  // four overlapping windows
  check_close(maxpool1d(maxpool_hand_x(), 3, 2), {5, -1, 4, 0});               // windows [0,2], [2,4]
  check_close(maxpool1d(maxpool_hand_x(), 5), {5, 0});
  check_close(maxpool1d(maxpool_hand_x(), 1), maxpool_hand_x().to_vector<double>());
  // strided input: channels-first storage read through a transposed view
  Tensor xt = maxpool_hand_x().permute({0, 2, 1}).contiguous().permute({0, 2, 1});
  check_close(maxpool1d(xt, 2, 1), {5, -1, 5, -2, 4, 0, 4, 0});
}

TEST_CASE("maxpool1d gradient goes to the first maximum and accumulates over overlapping windows") {
  Tensor x = tensor({1.0, 3.0, 2.0, 3.0, 0.0}, {1, 5, 1});
  x.set_requires_grad();
  // windows [1 3] [3 2] [2 3] [3 0]: maxima at steps 1, 1, 3, 3 (ties pick the first)
  maxpool1d(x, 2, 1).backward(tensor({10.0, 20.0, 30.0, 40.0}, {1, 4, 1}));
  check_close(x.grad(), {0, 30, 0, 70, 0});
  Tensor z = tensor({2.0, 2.0, 1.0, 1.0}, {1, 4, 1});
  z.set_requires_grad();
  maxpool1d(z, 2).backward(tensor({1.0, 1.0}, {1, 2, 1}));
  check_close(z.grad(), {1, 0, 1, 0});
}

TEST_CASE("maxpool1d propagates NaN") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const auto y = maxpool1d(tensor({1.f, nan, 3.f, 2.f}, {1, 4, 1}), 2).to_vector<float>();
  CHECK(std::isnan(y[0]));
  CHECK(y[1] == 3.f);
}

TEST_CASE("maxpool1d gradcheck, including overlapping windows and a strided input") {
  Generator g(31);
  Tensor x = param({2, 9, 3}, g);  // continuous random values: no ties, so the max is differentiable
  for (std::int64_t pool : {1, 2, 3}) {
    for (std::int64_t stride : {1, 2, 4}) {
      INFO("pool ", pool, " stride ", stride);
      RECSYS_CHECK_GRADCHECK([&](const autograd::TensorList& in) { return maxpool1d(in[0], pool, stride); }, {x});
    }
  }
  Tensor xs = param({9, 2, 3}, g);
  RECSYS_CHECK_GRADCHECK([](const autograd::TensorList& in) { return maxpool1d(in[0].transpose(0, 1), 3, 1); }, {xs});
}

TEST_CASE("maxpool1d is bitwise identical with 1 and 2 threads") {
  Generator g(32);
  Tensor x = randn({64, 98, 128}, g);
  for (std::int64_t stride : {1, 2}) {
    Tensor gy = randn({64, (98 - 2) / stride + 1, 128}, g);
    auto run = [&](int threads) {
      set_num_threads(threads);
      Tensor xl = x.detach().clone().set_requires_grad();
      Tensor y = maxpool1d(xl, 2, stride);
      y.backward(gy);
      return std::pair{y, xl.grad()};
    };
    const auto [y1, g1] = run(1);
    const auto [y2, g2] = run(2);
    set_num_threads(2);
    CHECK(bitwise_equal(y1, y2));
    CHECK(bitwise_equal(g1, g2));
  }
}

TEST_CASE("maxpool1d matches torch.nn.functional.max_pool1d (golden fixtures)") {
  for (const char* name : {"maxpool1d_basic", "maxpool1d_overlap", "maxpool1d_stride3"}) {
    const MaxPoolFixture f(name);
    for (DType dt : {DType::float32, DType::float64}) {
      INFO(name, " ", dtype_name(dt));
      // The max selects an input exactly and the gradient only adds upstream values: tight tolerances.
      const double rtol = dt == DType::float32 ? 1e-6 : 1e-12;
      Tensor x = f["x"].to(dt).detach().set_requires_grad();
      Tensor out = maxpool1d(x, f.setting("pool_size"), f.setting("stride"));
      check_close(out, f["expected_output"], rtol, 0);
      out.backward(f["grad_output"].to(dt));
      check_close(x.grad(), f["expected_x_grad"], rtol, 1e-12);
    }
  }
}

TEST_CASE("maxpool1d errors name the op and the values") {
  Tensor x = zeros({2, 5, 3});
  CHECK_THROWS_WITH_AS(maxpool1d(zeros({5, 3}), 2),
                       "maxpool1d: input must have 3 dimensions (batch, time, channels), got shape [5, 3]", Error);
  CHECK_THROWS_WITH_AS(maxpool1d(x, 0), "maxpool1d: pool_size must be at least 1, got 0", Error);
  CHECK_THROWS_WITH_AS(maxpool1d(x, 2, 0), "maxpool1d: stride must be at least 1, got 0", Error);
  CHECK_THROWS_WITH_AS(maxpool1d(x, 6),
                       "maxpool1d: input has shape [2, 5, 3], whose length 5 is shorter than pool_size 6", Error);
  CHECK_THROWS_WITH_AS(maxpool1d(zeros({2, 5, 3}, DType::int64), 2),
                       "maxpool1d: input must be float32 or float64, got int64", Error);
  CHECK_THROWS_WITH_AS(maxpool1d(Tensor(), 2), "maxpool1d: input is an undefined tensor", Error);
  FakeCudaDevice fake;  // a device tensor goes to the device kernel, never to the CPU loop
  Tensor x_gpu = x.to(Device::cuda(0));
  CHECK_THROWS_WITH_AS(maxpool1d(x_gpu, 2), doctest::Contains("maxpool1d_forward: no CUDA kernel registered for device cuda:0"),
                       Error);
}
