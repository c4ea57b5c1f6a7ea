// tests/ops/matmul_test.cpp — matmul and linear: hand cases, 1-D/batched/broadcast/transposed operands, gradients, errors.
#include <doctest/doctest.h>

#include "test_util.hpp"

using namespace recsys;
using recsys::testing::check_close;
using recsys::testing::param;

namespace {
/// The textbook triple loop, in double: the reference every layout is compared with.
std::vector<double> naive_matmul(const Tensor& a, const Tensor& b) {
  const std::int64_t m = a.size(0), k = a.size(1), n = b.size(1);
  std::vector<double> c(static_cast<std::size_t>(m * n), 0.0);
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j)
      for (std::int64_t p = 0; p < k; ++p) c[static_cast<std::size_t>(i * n + j)] += a.at<double>({i, p}) * b.at<double>({p, j});
  return c;
}
}  // namespace

TEST_CASE("matmul by hand, with 1-D operands") {
  Tensor a = tensor({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}, {2, 3});
  Tensor b = tensor({7.f, 8.f, 9.f, 10.f, 11.f, 12.f}, {3, 2});
  check_close(matmul(a, b), {58, 64, 139, 154});
  Tensor v = tensor({1.f, 0.f, -1.f});
  check_close(matmul(a, v), {-2, -2});       // (2,3)·(3) -> (2)
  check_close(matmul(tensor({1.f, 1.f}), a), {5, 7, 9});  // (2)·(2,3) -> (3)
  CHECK(matmul(v, v).dim() == 0);
  CHECK(matmul(v, v).item<float>() == 2.0f);
}

TEST_CASE("matmul matches the naive product for odd sizes and every transpose layout") {
  Generator g(5);
  for (std::int64_t m : {1, 7, 33, 129}) {
    for (std::int64_t n : {1, 7, 65}) {
      for (std::int64_t k : {1, 13, 300}) {
        Tensor a = randn({m, k}, g, DType::float64), b = randn({k, n}, g, DType::float64);
        const auto expected = naive_matmul(a, b);
        check_close(matmul(a, b), expected, 1e-12, 1e-12);
        // Transposed views are read in place (no copy) and must give the same numbers.
        Tensor at = a.t().contiguous().t(), bt = b.t().contiguous().t();
        check_close(matmul(at, b), expected, 1e-12, 1e-12);
        check_close(matmul(a, bt), expected, 1e-12, 1e-12);
        check_close(matmul(at, bt), expected, 1e-12, 1e-12);
      }
    }
  }
}

TEST_CASE("batched matmul broadcasts batch dimensions") {
  Generator g(6);
  Tensor a = randn({2, 1, 4, 3}, g, DType::float64), b = randn({5, 3, 2}, g, DType::float64);
  Tensor c = matmul(a, b);
  CHECK(c.shape() == Shape{2, 5, 4, 2});
  for (std::int64_t i : {0, 1})
    for (std::int64_t j : {0, 2, 4}) check_close(c.select(0, i).select(0, j), naive_matmul(a.select(0, i).select(0, 0), b.select(0, j)), 1e-12, 1e-12);
  // a non-contiguous batched operand (batch and row dims swapped) is copied and still right
  Tensor p = randn({4, 2, 3}, g, DType::float64).transpose(0, 1);  // (2, 4, 3), strides not matrix-friendly in batch
  Tensor q = randn({2, 3, 5}, g, DType::float64);
  Tensor r = matmul(p, q);
  check_close(r.select(0, 1), naive_matmul(p.select(0, 1), q.select(0, 1)), 1e-12, 1e-12);
}

TEST_CASE("matmul gradients, including transposed and batched operands") {
  Generator g(7);
  Tensor a = param({3, 4}, g), b = param({4, 2}, g);
  RECSYS_CHECK_GRADCHECK([](const autograd::TensorList& x) { return matmul(x[0], x[1]); }, {a, b});
  Tensor at = param({4, 3}, g), bt = param({2, 4}, g);
  RECSYS_CHECK_GRADCHECK([](const autograd::TensorList& x) { return matmul(x[0].t(), x[1].t()); }, {at, bt});
  Tensor ba = param({2, 3, 4}, g), bb = param({4, 5}, g);
  RECSYS_CHECK_GRADCHECK([](const autograd::TensorList& x) { return matmul(x[0], x[1]); }, {ba, bb});
  Tensor v = param({4}, g);
  RECSYS_CHECK_GRADCHECK([](const autograd::TensorList& x) { return matmul(x[0], x[1]) + sum(matmul(x[1], x[0].t())); },
                         {a, v});
}

TEST_CASE("matmul errors") {
  CHECK_THROWS_WITH_AS(matmul(zeros({2, 3}), zeros({4, 2})),
                       "matmul: a has shape [2, 3] and b has shape [4, 2]; the inner dimensions 3 and 4 differ", Error);
  CHECK_THROWS_WITH_AS(matmul(zeros({2, 3}), zeros({3, 2}, DType::float64)), "matmul: a is float32 but b is float64",
                       Error);
  CHECK_THROWS_WITH_AS(matmul(arange(4).view({2, 2}), arange(4).view({2, 2})),
                       "matmul: a must be float32 or float64, got int64", Error);
  CHECK_THROWS_WITH_AS(matmul(zeros({2, 2, 3}), zeros({3, 3, 2})),
                       doctest::Contains("matmul: shapes [2] and [3] cannot be broadcast together"), Error);
  CHECK_THROWS_WITH_AS(matmul(full({}, 1.0), zeros({2})),
                       "matmul: operands must have at least 1 dimension, got shapes [] and [2]", Error);
}

TEST_CASE("linear by hand, on 3-D input and without bias") {
  Tensor x = tensor({1.f, 2.f, 3.f, 4.f}, {2, 2});
  Tensor w = tensor({1.f, 0.f, -1.f, 2.f, 1.f, 0.f}, {2, 3});  // (in=2, out=3), Keras layout
  Tensor b = tensor({0.5f, -0.5f, 1.f});
  check_close(linear(x, w, b), {5.5, 1.5, 0, 11.5, 3.5, -2});
  check_close(linear(x, w), {5, 2, -1, 11, 4, -3});
  Tensor x3 = x.reshape({2, 1, 2});
  CHECK(linear(x3, w, b).shape() == Shape{2, 1, 3});
}

TEST_CASE("linear gradients and errors") {
  Generator g(9);
  Tensor x = param({2, 3, 4}, g), w = param({4, 5}, g), b = param({5}, g);
  RECSYS_CHECK_GRADCHECK([](const autograd::TensorList& in) { return linear(in[0], in[1], in[2]); }, {x, w, b});
  // Every other column of a wider tensor: reshape gives a view with no unit stride, which GEMM cannot
  // read in place, so linear must copy it.
  Tensor wide = randn({2, 3, 8}, g, DType::float64);
  Tensor strided = wide.slice(2, 0, 8, 2);
  check_close(linear(strided, w.detach()), matmul(strided.contiguous(), w.detach()).to_vector<double>(), 1e-12, 1e-12);
  Tensor wt = param({5, 4}, g);
  RECSYS_CHECK_GRADCHECK([](const autograd::TensorList& in) { return linear(in[0], in[1].t()); }, {x, wt});
  CHECK_THROWS_WITH_AS(linear(zeros({2, 3}), zeros({4, 5})),
                       "linear: input has shape [2, 3] but weight has shape [4, 5]; the input's last dimension must "
                       "equal weight's first",
                       Error);
  CHECK_THROWS_WITH_AS(linear(zeros({2, 4}), zeros({4, 5}), zeros({4})), "linear: bias has shape [4], expected [5]",
                       Error);
  CHECK_THROWS_WITH_AS(linear(zeros({2, 4}), zeros({4})),
                       "linear: weight must have 2 dimensions (in_features, out_features), got shape [4]", Error);
}
