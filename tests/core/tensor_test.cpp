// tests/core/tensor_test.cpp — Tensor metadata, factories, views and copies.
#include <doctest/doctest.h>

#include <recsys/recsys.hpp>

using namespace recsys;

TEST_CASE("factories produce the requested shape, dtype and values") {
  Tensor z = zeros({2, 3});
  CHECK(z.shape() == Shape{2, 3});
  CHECK(z.dtype() == DType::float32);
  CHECK(z.to_vector<float>() == std::vector<float>(6, 0.0f));
  CHECK(ones({4}, DType::float64).to_vector<double>() == std::vector<double>(4, 1.0));
  CHECK(full({2}, 7.5).to_vector<float>() == std::vector<float>{7.5f, 7.5f});
  CHECK(arange(4).to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 1, 2, 3});
  Tensor t = tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(t.dtype() == DType::int32);
  CHECK(t.at<int>({1, 2}) == 6);
}
