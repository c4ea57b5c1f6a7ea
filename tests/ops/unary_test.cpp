// tests/ops/unary_test.cpp — elementwise math: values by hand (including extremes), gradients, errors.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "test_util.hpp"

using namespace recsys;
using recsys::testing::check_close;
using recsys::testing::param;

TEST_CASE("unary values by hand") {
  Tensor x = tensor({-2.0, -0.5, 0.0, 1.0, 3.0});
  check_close(neg(x), {2, 0.5, 0, -1, -3});
  check_close(-x, {2, 0.5, 0, -1, -3});
  check_close(relu(x), {0, 0, 0, 1, 3});
  check_close(abs(x), {2, 0.5, 0, 1, 3});
  check_close(exp(x), {std::exp(-2.0), std::exp(-0.5), 1, std::exp(1.0), std::exp(3.0)});
  check_close(sigmoid(x), {1 / (1 + std::exp(2.0)), 1 / (1 + std::exp(0.5)), 0.5, 1 / (1 + std::exp(-1.0)),
                           1 / (1 + std::exp(-3.0))});
  check_close(tanh(x), {std::tanh(-2.0), std::tanh(-0.5), 0, std::tanh(1.0), std::tanh(3.0)});
  check_close(clamp(x, -1, 2), {-1, -0.5, 0, 1, 2});
  Tensor p = tensor({0.25, 1.0, 4.0});
  check_close(sqrt(p), {0.5, 1, 2});
  check_close(log(p), {std::log(0.25), 0, std::log(4.0)});
  check_close(pow(p, 1.5), {0.125, 1, 8});
  check_close(pow(p, -1), {4, 1, 0.25});
}

TEST_CASE("sigmoid stays finite and exact at extreme inputs") {
  Tensor x = tensor({-1000.f, -90.f, 90.f, 1000.f});
  const auto y = sigmoid(x).to_vector<float>();
  CHECK(y[0] == 0.0f);
  CHECK(y[1] > 0.0f);  // exp(-90) ~ 8e-40: a subnormal float, not a NaN
  CHECK(y[2] == 1.0f);
  CHECK(y[3] == 1.0f);
  for (float v : y) CHECK_FALSE(std::isnan(v));
}

TEST_CASE("unary gradients") {
  Generator g(2);
  Tensor x = param({3, 5}, g);
  Tensor pos = param({3, 5}, g);
  {
    NoGradGuard no_grad;
    pos.copy_(abs(pos) + 0.2);
    // keep x away from the kinks of relu/abs/clamp, where finite differences are not defined
    x.copy_(x + 0.05 * (x / abs(x)));
  }
  for (auto fn : {+[](const Tensor& t) { return neg(t); }, +[](const Tensor& t) { return exp(t); },
                  +[](const Tensor& t) { return relu(t); }, +[](const Tensor& t) { return abs(t); },
                  +[](const Tensor& t) { return sigmoid(t); }, +[](const Tensor& t) { return tanh(t); },
                  +[](const Tensor& t) { return clamp(t, -0.5, 0.5); }, +[](const Tensor& t) { return pow(t, 2.0); }}) {
    RECSYS_CHECK_GRADCHECK([fn](const autograd::TensorList& in) { return fn(in[0]); }, {x});
  }
  RECSYS_CHECK_GRADCHECK([](const autograd::TensorList& in) { return log(in[0]) + sqrt(in[0]) + pow(in[0], -1.5); },
                         {pos});
  RECSYS_CHECK_GRADCHECK([](const autograd::TensorList& in) { return tanh(in[0].t()); }, {x});  // strided input
}

TEST_CASE("unary errors") {
  CHECK_THROWS_WITH_AS(relu(arange(3)), "relu: input must be float32 or float64, got int64", Error);
  CHECK_THROWS_WITH_AS(clamp(zeros({1}), 2, 1), "clamp: low (2) is above high (1)", Error);
  CHECK_THROWS_WITH_AS(exp(Tensor()), "exp: input is an undefined tensor", Error);
}
