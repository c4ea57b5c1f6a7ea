// tests/optim/clip_grad_test.cpp — clip_grad_norm and grad_norm: hand-worked norms, no-op below the limit, errors.
#include <recsys/optim/clip_grad.hpp>

#include <limits>

#include "test_util.hpp"

using namespace recsys;
using recsys::testing::check_close;

TEST_CASE("clip_grad_norm: scales all gradients together to the limit") {
  Tensor a = zeros({2}), b = zeros({1}), c = zeros({3});
  for (Tensor* t : {&a, &b, &c}) t->set_requires_grad();
  a.set_grad(tensor({3.f, 4.f}, {2}));
  b.set_grad(tensor({12.f}, {1}));  // c has no gradient and is skipped
  CHECK(optim::grad_norm({a, b, c}) == 13.0);
  const double norm = optim::clip_grad_norm({a, b, c}, 6.5);
  CHECK(norm == 13.0);
  const double coef = 6.5 / (13.0 + 1e-6);
  check_close(a.grad(), {3 * coef, 4 * coef}, 1e-7, 0);
  check_close(b.grad(), {12 * coef}, 1e-7, 0);
  CHECK_FALSE(c.grad().defined());
  CHECK(optim::grad_norm({a, b}) == doctest::Approx(6.5).epsilon(1e-6));
}

TEST_CASE("clip_grad_norm: below the limit leaves gradients untouched") {
  Tensor a = zeros({2}, DType::float64);
  a.set_requires_grad();
  a.set_grad(tensor({0.3, 0.4}, {2}));
  const std::uint64_t version = a.grad().impl()->storage->version();
  CHECK(optim::clip_grad_norm({a}, 1.0) == doctest::Approx(0.5));
  CHECK(a.grad().to_vector<double>() == std::vector<double>{0.3, 0.4});
  CHECK(a.grad().impl()->storage->version() == version);
  CHECK(optim::clip_grad_norm({zeros({1})}, 1.0) == 0.0);  // no gradients at all
}

TEST_CASE("clip_grad_norm: errors and non-finite gradients") {
  Tensor a = zeros({2});
  a.set_requires_grad();
  a.set_grad(tensor({1.f, std::numeric_limits<float>::infinity()}, {2}));
  CHECK_THROWS_WITH_AS(optim::clip_grad_norm({a}, -1.0), doctest::Contains("clip_grad_norm: max_norm must be finite and >= 0, got -1"),
                       Error);
  CHECK_THROWS_WITH_AS(optim::clip_grad_norm({a}, 1.0, true),
                       doctest::Contains("clip_grad_norm: the total gradient norm is inf; a gradient holds inf or NaN"), Error);
  CHECK_THROWS_WITH_AS(optim::clip_grad_norm({Tensor()}, 1.0), doctest::Contains("a parameter is an undefined tensor"), Error);
  // Without error_if_nonfinite, PyTorch's behaviour: the norm is reported and the gradients become 0 or NaN.
  CHECK(std::isinf(optim::clip_grad_norm({a}, 1.0)));
  CHECK(a.grad().to_vector<float>()[0] == 0.0f);
  a.set_grad(tensor({1.f, std::numeric_limits<float>::quiet_NaN()}, {2}));
  CHECK(std::isnan(optim::clip_grad_norm({a}, 1.0)));
  CHECK(std::isnan(a.grad().to_vector<float>()[0]));  // scaled by NaN, as PyTorch does
}
