// tests/ops/gelu_test.cpp — gelu: values by hand, the float erf's accuracy, gradients, threads, errors, PyTorch.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "recsys/ops/gelu.hpp"
#include "test_util.hpp"

using namespace recsys;
using recsys::testing::bitwise_equal;
using recsys::testing::check_close;
using recsys::testing::param;

namespace {
double exact_gelu(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }

struct GeluFixture : recsys::testing::GoldenFixture {
  explicit GeluFixture(const std::string& name) : GoldenFixture("transformer/" + name) {}
};
}  // namespace

TEST_CASE("gelu by hand: x·Φ(x) in its exact erf form") {
  Tensor x = tensor({-3.0, -1.0, 0.0, 0.5, 1.0, 2.0, 10.0, -10.0});
  // Φ(1) = 0.841344746068543, Φ(-1) = 0.158655253931457, Φ(2) = 0.977249868051821
  check_close(gelu(x), {exact_gelu(-3.0), -0.158655253931457, 0.0, exact_gelu(0.5), 0.841344746068543,
                        2 * 0.977249868051821, 10.0, exact_gelu(-10.0)},
              1e-13, 1e-300);
  // float: a few ulps, also where erf saturates
  check_close(gelu(x.to(DType::float32)), gelu(x), 2e-6, 1e-6);  // absolute: 1 + erf(x) cancels for x < 0
}

TEST_CASE("gelu's float path stays within a few ulps of the exact function") {
  // Every ISA build (the SIMD level is chosen once per process) against double erf, on a fine grid.
  std::vector<float> xs;
  for (int i = -80000; i <= 80000; ++i) xs.push_back(static_cast<float>(i) * 1e-4f);
  Tensor x = from_vector(xs);
  Tensor xg = x.detach().clone().set_requires_grad();
  Tensor y = gelu(xg);
  y.backward(ones_like(y));
  const std::vector<float> yv = y.to_vector<float>(), gv = xg.grad().to_vector<float>();
  double worst_y = 0, worst_g = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const double t = xs[i];
    const double dy = 0.5 * (1.0 + std::erf(t / std::sqrt(2.0))) + t * std::exp(-0.5 * t * t) / std::sqrt(2 * M_PI);
    worst_y = std::max(worst_y, std::fabs(yv[i] - exact_gelu(t)) / (1.0 + std::fabs(exact_gelu(t))));
    worst_g = std::max(worst_g, std::fabs(gv[i] - dy) / (1.0 + std::fabs(dy)));
  }
  INFO("worst gelu error ", worst_y, ", worst gradient error ", worst_g);
  CHECK(worst_y < 2e-6);
  CHECK(worst_g < 2e-6);
}

TEST_CASE("gelu gradients") {
  Generator g(51);
  Tensor x = param({4, 7}, g) * 2.0;
  Tensor leaf = x.detach().set_requires_grad();
  RECSYS_CHECK_GRADCHECK([](const autograd::TensorList& in) { return gelu(in[0]); }, {leaf});
  RECSYS_CHECK_GRADCHECK([](const autograd::TensorList& in) { return gelu(in[0].t()); }, {leaf});
}

TEST_CASE("gelu forward and backward are bitwise identical with 1 and 2 threads") {
  Generator g(52);
  Tensor x = randn({256, 50, 64}, g), gy = randn({256, 50, 64}, g);
  auto run = [&](int threads) {
    set_num_threads(threads);
    Tensor xl = x.detach().clone().set_requires_grad();
    Tensor y = gelu(xl);
    y.backward(gy);
    return std::vector<Tensor>{y, xl.grad()};
  };
  const auto one = run(1), two = run(2);
  set_num_threads(2);
  CHECK(bitwise_equal(one[0], two[0]));
  CHECK(bitwise_equal(one[1], two[1]));
}

TEST_CASE("gelu matches torch.nn.functional.gelu (golden fixture)") {
  const GeluFixture f("gelu");
  Tensor x = f["x"].detach().clone().set_requires_grad();
  Tensor out = gelu(x);
  check_close(out, f["expected_output"], 1e-12, 1e-14);
  out.backward(f["grad_output"]);
  check_close(x.grad(), f["expected_x_grad"], 1e-12, 1e-14);
  // float: inputs rounded to float, compared with PyTorch's float64 values
  Tensor xf = f["x"].to(DType::float32).detach().set_requires_grad();
  Tensor outf = gelu(xf);
  check_close(outf, f["expected_output"], 1e-5, 1e-6);
}

TEST_CASE("gelu errors name the op") {
  CHECK_THROWS_WITH_AS(gelu(arange(3)), "gelu: input must be float32 or float64, got int64", Error);
  CHECK_THROWS_WITH_AS(gelu(Tensor()), "gelu: input is an undefined tensor", Error);
  recsys::testing::FakeCudaDevice fake;
  CHECK_THROWS_WITH_AS(gelu(zeros({2}).to(Device::cuda(0))), doctest::Contains("gelu: no CUDA kernel registered"),
                       Error);
}
