// tests/ops/softmax_loss_test.cpp — softmax/log_softmax and the losses: values by hand, stability, gradients, errors.
#include <doctest/doctest.h>

#include <cmath>

#include "test_util.hpp"

using namespace recsys;
using recsys::testing::check_close;
using recsys::testing::param;

TEST_CASE("softmax and log_softmax by hand, stable for large logits") {
  Tensor x = tensor({1.0, 2.0, 3.0, 1000.0, 1000.0, 1000.0}, {2, 3});
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  check_close(softmax(x), {std::exp(1.0) / z, std::exp(2.0) / z, std::exp(3.0) / z, 1 / 3.0, 1 / 3.0, 1 / 3.0});
  check_close(log_softmax(x), {1 - std::log(z), 2 - std::log(z), 3 - std::log(z), -std::log(3.0), -std::log(3.0),
                               -std::log(3.0)});
  check_close(softmax(x, 0).select(0, 0), {0, 0, 0}, 0, 1e-300);  // along dim 0: 1000 dominates
  check_close(sum(softmax(tensor({-5.f, 0.f, 5.f, 50.f}, {2, 2}), 1), 1), {1, 1});
}

TEST_CASE("softmax gradients along any dimension") {
  Generator g(10);
  Tensor x = param({3, 4, 2}, g);
  RECSYS_CHECK_GRADCHECK([](const autograd::TensorList& in) { return softmax(in[0], 1); }, {x});
  RECSYS_CHECK_GRADCHECK([](const autograd::TensorList& in) { return log_softmax(in[0], -1); }, {x});
  RECSYS_CHECK_GRADCHECK([](const autograd::TensorList& in) { return log_softmax(in[0].transpose(0, 1), 0); }, {x});
}

TEST_CASE("binary cross-entropy by hand, clipped like Keras") {
  Tensor p = tensor({0.9, 0.2, 0.0, 1.0});
  Tensor y = tensor({1.0, 0.0, 1.0, 1.0});
  const double eps = 1e-7;
  const std::vector<double> per = {-std::log(0.9), -std::log(0.8), -std::log(eps), -std::log(1 - eps)};
  check_close(binary_cross_entropy(p, y, Reduction::none), per);
  CHECK(binary_cross_entropy(p, y).item<double>() == doctest::Approx((per[0] + per[1] + per[2] + per[3]) / 4));
  CHECK(binary_cross_entropy(p, y, Reduction::sum).item<double>() == doctest::Approx(per[0] + per[1] + per[2] + per[3]));
}

TEST_CASE("BCE from logits equals BCE of the sigmoid and is finite for huge logits") {
  Tensor z = tensor({-3.0, 0.0, 2.5, 800.0, -800.0});
  Tensor y = tensor({0.0, 1.0, 1.0, 0.0, 1.0});
  const auto l = binary_cross_entropy_with_logits(z, y, Reduction::none).to_vector<double>();
  const auto ref = binary_cross_entropy(sigmoid(z.slice(0, 0, 3)), y.slice(0, 0, 3), Reduction::none).to_vector<double>();
  for (int i = 0; i < 3; ++i) CHECK(l[static_cast<std::size_t>(i)] == doctest::Approx(ref[static_cast<std::size_t>(i)]).epsilon(1e-9));
  CHECK(l[3] == doctest::Approx(800.0));
  CHECK(l[4] == doctest::Approx(800.0));
}

TEST_CASE("mse and cross-entropy by hand") {
  check_close(mse_loss(tensor({1.0, 2.0, 4.0}), tensor({1.0, 0.0, 1.0}), Reduction::none), {0, 4, 9});
  CHECK(mse_loss(tensor({1.0, 2.0, 4.0}), tensor({1.0, 0.0, 1.0})).item<double>() == doctest::Approx(13.0 / 3));
  Tensor logits = tensor({2.0, 1.0, 0.1, 0.5, 2.5, 0.3}, {2, 3});
  Tensor target = tensor({std::int64_t{0}, std::int64_t{1}});
  const double l0 = -(2.0 - std::log(std::exp(2.0) + std::exp(1.0) + std::exp(0.1)));
  const double l1 = -(2.5 - std::log(std::exp(0.5) + std::exp(2.5) + std::exp(0.3)));
  CHECK(cross_entropy(logits, target).item<double>() == doctest::Approx((l0 + l1) / 2));
  check_close(cross_entropy(logits, tensor({2, 0}), Reduction::none),  // int32 targets work too
              {-(0.1 - std::log(std::exp(2.0) + std::exp(1.0) + std::exp(0.1))),
               -(0.5 - std::log(std::exp(0.5) + std::exp(2.5) + std::exp(0.3)))});
}

TEST_CASE("cross_entropy: the fused kernel equals log_softmax then nll, values and gradients, in float") {
  // A catalogue-sized softmax: the fused kernel uses the vectorised exp for float.
  Generator g(5);
  Tensor a = randn({37, 1003}, g) * 4.0, b = a.detach();
  a.set_requires_grad(true);
  b.set_requires_grad(true);
  std::vector<std::int64_t> cls;
  for (int r = 0; r < 37; ++r) cls.push_back((r * 97) % 1003);
  const Tensor labels = from_vector(cls, Shape{37});
  const Tensor fused = cross_entropy(a, labels, Reduction::none);
  const Tensor composed = nll_loss(log_softmax(b, 1), labels, Reduction::none);
  const std::vector<double> f = fused.to_vector<double>(), c = composed.to_vector<double>();
  for (std::size_t r = 0; r < f.size(); ++r) CHECK(f[r] == doctest::Approx(c[r]).epsilon(1e-5));
  sum(fused).backward();
  sum(composed).backward();
  const std::vector<double> ga = a.grad().to_vector<double>(), gb = b.grad().to_vector<double>();
  double worst = 0;
  for (std::size_t k = 0; k < ga.size(); ++k) worst = std::max(worst, std::fabs(ga[k] - gb[k]));
  CHECK(worst < 1e-6);
}

TEST_CASE("loss gradients") {
  Generator g(11);
  Tensor p = param({6}, g), logits = param({6}, g), pred = param({2, 3}, g), cls = param({4, 5}, g);
  {
    NoGradGuard no_grad;
    p.copy_(sigmoid(p) * 0.9 + 0.05);  // probabilities inside the clip range
  }
  Tensor y = tensor({1.0, 0.0, 1.0, 1.0, 0.0, 0.0});
  Tensor target = randn({2, 3}, g, DType::float64);
  Tensor labels = tensor({std::int64_t{4}, std::int64_t{0}, std::int64_t{2}, std::int64_t{2}});
  RECSYS_CHECK_GRADCHECK([&](const autograd::TensorList& in) { return binary_cross_entropy(in[0], y); }, {p});
  RECSYS_CHECK_GRADCHECK([&](const autograd::TensorList& in) { return binary_cross_entropy_with_logits(in[0], y, Reduction::sum); }, {logits});
  RECSYS_CHECK_GRADCHECK([&](const autograd::TensorList& in) { return mse_loss(in[0], target, Reduction::none); }, {pred});
  RECSYS_CHECK_GRADCHECK([&](const autograd::TensorList& in) { return cross_entropy(in[0], labels); }, {cls});
}

TEST_CASE("loss errors name the loss and the values") {
  CHECK_THROWS_WITH_AS(binary_cross_entropy(zeros({4, 1}), zeros({4})),
                       "binary_cross_entropy: input has shape [4, 1] but target has shape [4] (reshape one of them; a "
                       "(N, 1) vs (N) mismatch is the usual cause)",
                       Error);
  CHECK_THROWS_WITH_AS(cross_entropy(zeros({2, 3}), tensor({std::int64_t{1}, std::int64_t{3}})),
                       "cross_entropy: target[1] = 3 is not a class index in [0, 3)", Error);
  CHECK_THROWS_WITH_AS(cross_entropy(zeros({2, 3}), zeros({2})),
                       "cross_entropy: expected an integer tensor (int32 or int64), got float32", Error);
  CHECK_THROWS_WITH_AS(cross_entropy(zeros({2, 3}), tensor({std::int64_t{1}})),
                       "cross_entropy: logits has 2 rows but target has 1 entries", Error);
  CHECK_THROWS_WITH_AS(mse_loss(zeros({2}), arange(2)), "mse_loss: target must be float32 or float64, got int64", Error);
  CHECK_THROWS_WITH_AS(binary_cross_entropy(zeros({1}), zeros({1}), Reduction::mean, 0.7),
                       "binary_cross_entropy: eps must be in (0, 0.5), got 0.7", Error);
}
