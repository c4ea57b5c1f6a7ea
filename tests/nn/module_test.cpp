// tests/nn/module_test.cpp — Module plumbing, initializers, Dense and Sequential.
#include <doctest/doctest.h>

#include <recsys/nn/dense.hpp>
#include <recsys/nn/init.hpp>
#include <recsys/nn/sequential.hpp>

#include "test_util.hpp"

using namespace recsys;
using recsys::testing::check_close;

TEST_CASE("glorot_uniform stays inside its limit and has the right spread") {
  Generator g(1);
  Tensor w = nn::init::glorot_uniform({200, 300}, 200, 300, g);
  const double limit = std::sqrt(6.0 / 500);
  const auto v = w.to_vector<double>();
  double sq = 0;
  for (double x : v) {
    REQUIRE(std::fabs(x) <= limit);
    sq += x * x;
  }
  CHECK(std::sqrt(sq / v.size()) == doctest::Approx(limit / std::sqrt(3.0)).epsilon(0.02));  // std of U(-l, l)
}

TEST_CASE("orthogonal gives orthonormal rows for a wide matrix and columns for a tall one") {
  Generator g(2);
  Tensor wide = nn::init::orthogonal(8, 32, g, DType::float64);  // like an LSTM recurrent kernel (H, 4H)
  CHECK(wide.shape() == Shape{8, 32});
  Tensor eye = matmul(wide, wide.t());
  for (std::int64_t i = 0; i < 8; ++i)
    for (std::int64_t j = 0; j < 8; ++j) CHECK(eye.at<double>({i, j}) == doctest::Approx(i == j ? 1.0 : 0.0).epsilon(1e-12));
  Tensor tall = nn::init::orthogonal(16, 4, g, DType::float64);
  Tensor eye2 = matmul(tall.t(), tall);
  for (std::int64_t i = 0; i < 4; ++i) CHECK(eye2.at<double>({i, i}) == doctest::Approx(1.0));
}

TEST_CASE("Dense computes x·kernel + bias and applies its activation") {
  nn::Dense d(2, 3, nn::Activation::relu);
  {
    NoGradGuard no_grad;
    d.kernel().copy_(tensor({1.f, -1.f, 0.f, 2.f, 1.f, 1.f}, {2, 3}));
    d.bias().copy_(tensor({0.f, 0.f, -10.f}));
  }
  check_close(d(tensor({1.f, 1.f}, {1, 2})), {3, 0, 0});
  CHECK(d.num_parameters() == 9);
}

TEST_CASE("named_parameters: stable dotted names, depth first") {
  manual_seed(3);
  nn::Sequential net(nn::Dense(4, 8, nn::Activation::tanh), nn::Dense(8, 1, nn::Activation::sigmoid, false));
  const auto named = net.named_parameters();
  REQUIRE(named.size() == 3);
  CHECK(named[0].first == "0.kernel");
  CHECK(named[1].first == "0.bias");
  CHECK(named[2].first == "1.kernel");
  CHECK(net.named_parameters("model.")[0].first == "model.0.kernel");
  CHECK(net.num_parameters() == 4 * 8 + 8 + 8);
  for (const auto& [name, t] : named) CHECK(t.requires_grad());
  // The same seed builds the same weights.
  manual_seed(3);
  nn::Sequential again(nn::Dense(4, 8, nn::Activation::tanh), nn::Dense(8, 1, nn::Activation::sigmoid, false));
  CHECK(recsys::testing::bitwise_equal(again.named_parameters()[2].second, named[2].second));
}

TEST_CASE("train/eval reaches every child, and to(dtype) keeps parameters trainable") {
  nn::Sequential net(nn::Dense(3, 2), nn::Dense(2, 1));
  net.eval();
  CHECK_FALSE(net.is_training());
  CHECK_FALSE(net.get<1>().is_training());
  net.train();
  CHECK(net.get<0>().is_training());
  net.to(DType::float64);
  for (const auto& [name, t] : net.named_parameters()) {
    CHECK(t.dtype() == DType::float64);
    CHECK(t.requires_grad());
    CHECK(t.is_leaf());
  }
  CHECK_THROWS_WITH_AS(net.to(DType::int32), "Sequential.to: parameters must stay floating-point, got int32", Error);
}

TEST_CASE("a Sequential of Dense layers has correct gradients") {
  manual_seed(4);
  nn::Sequential net(nn::Dense(3, 5, nn::Activation::tanh), nn::Dense(5, 2, nn::Activation::sigmoid));
  net.to(DType::float64);
  Generator g(5);
  Tensor x = randn({4, 3}, g, DType::float64);
  auto params = net.parameters();
  RECSYS_CHECK_GRADCHECK([&](const autograd::TensorList&) { return net(x); }, params);
  net.zero_grad();
  sum(net(x)).backward();
  for (const Tensor& p : net.parameters()) CHECK(p.grad().defined());
}

TEST_CASE("Dense argument errors") {
  CHECK_THROWS_WITH_AS(nn::Dense(0, 3), "Dense: in_features and units must be positive, got 0 and 3", Error);
  nn::Dense d(4, 2);
  CHECK_THROWS_WITH_AS(d(zeros({3, 5})), doctest::Contains("linear: input has shape [3, 5] but weight has shape [4, 2]"),
                       Error);
  CHECK_THROWS_WITH_AS(nn::parse_activation("gelu"), doctest::Contains("activation: unknown activation 'gelu'"), Error);
}
