// tests/ops/reduce_test.cpp — sum/mean/max/argmax over everything or one dim: values, gradients, determinism, errors.
#include <doctest/doctest.h>

#include <limits>

#include "test_util.hpp"

using namespace recsys;
using recsys::testing::check_close;
using recsys::testing::param;

TEST_CASE("reductions by hand") {
  Tensor a = tensor({1.f, 5.f, 3.f, 4.f, 2.f, 6.f}, {2, 3});
  CHECK(sum(a).item<float>() == 21.0f);
  CHECK(sum(a).dim() == 0);
  check_close(sum(a, 0), {5, 7, 9});
  check_close(sum(a, -1), {9, 12});
  CHECK(sum(a, 1, true).shape() == Shape{2, 1});
  CHECK(mean(a).item<float>() == 3.5f);
  check_close(mean(a, 0), {2.5, 3.5, 4.5});
  CHECK(max(a).item<float>() == 6.0f);
  check_close(max(a, 1), {5, 6});
  check_close(max(a, 0, true), {4, 5, 6});
  CHECK(argmax(a, 1).to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 2});
  CHECK(argmax(tensor({2.f, 7.f, 7.f}), 0).item<std::int64_t>() == 1);  // first maximum wins
  CHECK(std::isnan(max(tensor({1.f, NAN, 3.f})).item<float>()));      // NaN propagates
  CHECK(sum(zeros({0, 3})).item<float>() == 0.0f);
  check_close(sum(a.t(), 1), {5, 7, 9});  // strided input
}

TEST_CASE("reduction gradients") {
  Generator g(4);
  Tensor x = param({3, 4, 2}, g);
  RECSYS_CHECK_GRADCHECK([](const autograd::TensorList& in) { return sum(in[0]); }, {x});
  RECSYS_CHECK_GRADCHECK([](const autograd::TensorList& in) { return sum(in[0], 1) * mean(in[0], 1, true).squeeze(1); }, {x});
  RECSYS_CHECK_GRADCHECK([](const autograd::TensorList& in) { return max(in[0], 1) + max(in[0]); }, {x});
  RECSYS_CHECK_GRADCHECK([](const autograd::TensorList& in) { return mean(in[0].transpose(0, 2), 0); }, {x});
}

TEST_CASE("a large sum is the same for 1 and 2 threads and accurate") {
  Generator g(8);
  Tensor x = rand({1000003}, g);
  set_num_threads(1);
  const float one = sum(x).item<float>();
  const Tensor rows1 = sum(x.slice(0, 0, 1000000).view({1000, 1000}), 1);
  set_num_threads(2);
  const float two = sum(x).item<float>();
  const Tensor rows2 = sum(x.slice(0, 0, 1000000).view({1000, 1000}), 1);
  CHECK(one == two);
  CHECK(recsys::testing::bitwise_equal(rows1, rows2));
  const double exact = sum(x.to(DType::float64)).item<double>();
  CHECK(std::fabs(one - exact) / exact < 1e-6);
}

TEST_CASE("reduction errors") {
  CHECK_THROWS_WITH_AS(sum(zeros({2, 3}), 2), "sum: dimension 2 is out of range for a tensor of rank 2", Error);
  CHECK_THROWS_WITH_AS(max(zeros({0})), "max: cannot take the maximum of an empty dimension (shape [0])", Error);
  CHECK_THROWS_WITH_AS(mean(arange(3)), "mean: input must be float32 or float64, got int64", Error);
}
