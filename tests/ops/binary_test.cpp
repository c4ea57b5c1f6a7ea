// tests/ops/binary_test.cpp — add/sub/mul/div: broadcasting by hand, gradients (broadcast and strided), errors.
#include <doctest/doctest.h>

#include "test_util.hpp"

using namespace recsys;
using recsys::testing::check_close;
using recsys::testing::param;

TEST_CASE("broadcasting arithmetic by hand") {
  Tensor a = tensor({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}, {2, 3});
  Tensor col = tensor({10.f, 20.f}, {2, 1});
  Tensor row = tensor({1.f, 2.f, 4.f});
  check_close(a + col, {11, 12, 13, 24, 25, 26});
  check_close(a - row, {0, 0, -1, 3, 3, 2});
  check_close(a * row, {1, 4, 12, 4, 10, 24});
  check_close(a / row, {1, 1, 0.75, 4, 2.5, 1.5});
  check_close(col + row, {11, 12, 14, 21, 22, 24});  // (2,1) + (3) -> (2,3)
  check_close(2.0 - a, {1, 0, -1, -2, -3, -4});
  check_close(a / 2.0, {0.5, 1, 1.5, 2, 2.5, 3});
  check_close(12.0 / row, {12, 6, 3});
  check_close(a.t() * tensor({1.f, 0.f}), {1, 0, 2, 0, 3, 0});  // strided operand
  CHECK((tensor({1, 2}) + tensor({3, 4})).to_vector<int>() == std::vector<int>{4, 6});  // integers too
}

TEST_CASE("binary gradients, with broadcasting and strided operands") {
  Generator g(1);
  Tensor a = param({3, 4}, g), b = param({4}, g), c = param({3, 1}, g);
  Tensor d = param({4, 3}, g);
  RECSYS_CHECK_GRADCHECK([](const autograd::TensorList& x) { return x[0] + x[1] - x[2]; }, {a, b, c});
  RECSYS_CHECK_GRADCHECK([](const autograd::TensorList& x) { return x[0] * x[1] * x[2]; }, {a, b, c});
  Tensor pos = param({4}, g);
  {
    NoGradGuard no_grad;
    pos.copy_(abs(pos) + 0.5);  // keep the divisor away from zero
  }
  RECSYS_CHECK_GRADCHECK([](const autograd::TensorList& x) { return x[0] / x[1] + 3.0 / x[1]; }, {a, pos});
  RECSYS_CHECK_GRADCHECK([](const autograd::TensorList& x) { return x[0].t() * x[1] - 2.0 * x[1]; }, {d, a});
}

TEST_CASE("binary errors name the op, the shapes and the dtypes") {
  CHECK_THROWS_WITH_AS(zeros({2, 3}) + zeros({4}),
                       "add: shapes [2, 3] and [4] cannot be broadcast together (dimension 1: 3 vs 4)", Error);
  CHECK_THROWS_WITH_AS(zeros({2}) * zeros({2}, DType::float64), "mul: a is float32 but b is float64", Error);
  CHECK_THROWS_WITH_AS(tensor({1, 2}) / tensor({1, 0}),
                       "div: integer division is not supported (got int32); convert with to(DType::float32) first",
                       Error);
  CHECK_THROWS_WITH_AS(Tensor() - zeros({1}), "sub: a is an undefined tensor", Error);
}
