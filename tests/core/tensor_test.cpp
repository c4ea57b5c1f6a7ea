// tests/core/tensor_test.cpp — Tensor metadata, factories, views, copies, conversions, element access and printing.
#include <doctest/doctest.h>

#include <sstream>

#include "test_util.hpp"

using namespace recsys;
using recsys::testing::check_close;

TEST_CASE("factories produce the requested shape, dtype and values") {
  Tensor z = zeros({2, 3});
  CHECK(z.shape() == Shape{2, 3});
  CHECK(z.strides() == Shape{3, 1});
  CHECK(z.dtype() == DType::float32);
  CHECK(z.device() == Device::cpu());
  CHECK(z.to_vector<float>() == std::vector<float>(6, 0.0f));
  CHECK(ones({4}, DType::float64).to_vector<double>() == std::vector<double>(4, 1.0));
  CHECK(full({2}, 7.5).to_vector<float>() == std::vector<float>{7.5f, 7.5f});
  CHECK(arange(4).to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 1, 2, 3});
  CHECK(arange(3, DType::float32).to_vector<float>() == std::vector<float>{0, 1, 2});
  Tensor t = tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(t.dtype() == DType::int32);
  CHECK(t.at<int>({1, 2}) == 6);
  CHECK(tensor({1.0, 2.0}).dtype() == DType::float64);
  CHECK(tensor({std::int64_t{7}}).item<std::int64_t>() == 7);
  CHECK(zeros({0, 5}).numel() == 0);
  Tensor s = full({}, 3.0);
  CHECK(s.dim() == 0);
  CHECK(s.numel() == 1);
  CHECK(s.item<float>() == 3.0f);
}

TEST_CASE("factory errors name the op and the values") {
  CHECK_THROWS_WITH_AS(from_vector(std::vector<float>{1, 2, 3}, {2, 2}), "from_vector: 3 values do not fill shape [2, 2]",
                       Error);
  CHECK_THROWS_WITH_AS(zeros({2, -1}), "empty: negative dimension in shape [2, -1]", Error);
  Generator g(1);
  CHECK_THROWS_WITH_AS(randint(5, 5, {2}, g), "randint: low (5) must be below high (5)", Error);
  CHECK_THROWS_WITH_AS(rand({2}, g, DType::int32), "uniform: dtype must be float32 or float64, got int32", Error);
  CHECK_THROWS_WITH_AS(Shape({1, 2, 3, 4, 5, 6, 7, 8, 9}), "Shape: at most 8 dimensions are supported, got 9", Error);
}

TEST_CASE("views share memory and have the right geometry") {
  Tensor a = arange(24, DType::float32).reshape({2, 3, 4});
  CHECK(a.strides() == Shape{12, 4, 1});
  Tensor t = a.transpose(0, 2);
  CHECK(t.shape() == Shape{4, 3, 2});
  CHECK(t.strides() == Shape{1, 4, 12});
  CHECK_FALSE(t.is_contiguous());
  CHECK(t.at<float>({3, 2, 1}) == a.at<float>({1, 2, 3}));
  Tensor p = a.permute({2, 0, 1});
  CHECK(p.shape() == Shape{4, 2, 3});
  CHECK(p.at<float>({1, 1, 2}) == a.at<float>({1, 2, 1}));
  Tensor s = a.slice(2, 1, 4, 2);  // columns 1 and 3
  CHECK(s.shape() == Shape{2, 3, 2});
  check_close(s.select(0, 1).select(0, 0), {13, 15});
  CHECK(a.slice(1, -2, 100).shape() == Shape{2, 2, 4});  // Python-style bounds
  CHECK(a.select(1, -1).shape() == Shape{2, 4});
  CHECK(a.unsqueeze(1).shape() == Shape{2, 1, 3, 4});
  CHECK(a.unsqueeze(-1).shape() == Shape{2, 3, 4, 1});
  CHECK(a.unsqueeze(0).squeeze(0).shape() == a.shape());
  CHECK(zeros({1, 3, 1}).squeeze().shape() == Shape{3});
  CHECK(a.flatten(1).shape() == Shape{2, 12});
  CHECK(a.view({-1, 4}).shape() == Shape{6, 4});
  Tensor e = tensor({1.f, 2.f, 3.f}).expand({2, 3});
  CHECK(e.strides() == Shape{0, 1});
  check_close(e, {1, 2, 3, 1, 2, 3});
  // A write through a view is seen by the base: same storage.
  {
    NoGradGuard no_grad;
    a.select(0, 0).select(0, 0).fill_(-1.0);
  }
  CHECK(a.at<float>({0, 0, 3}) == -1.0f);
  CHECK(a.at<float>({0, 1, 0}) == 4.0f);
  // contiguous() of a non-contiguous view copies into row-major order.
  Tensor c = tensor({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}, {2, 3}).t().contiguous();
  CHECK(c.is_contiguous());
  check_close(c, {1, 4, 2, 5, 3, 6});
  // reshape of a non-contiguous view copies; view refuses.
  Tensor tt = tensor({1.f, 2.f, 3.f, 4.f}, {2, 2}).t();
  check_close(tt.reshape({4}), {1, 3, 2, 4});
  CHECK_THROWS_WITH_AS(tt.view({4}),
                       "view: tensor of shape [2, 2] with strides [1, 2] cannot be viewed as [4] without a copy; use "
                       "reshape(), which copies when it must",
                       Error);
  // view works whenever the strides allow it: splitting a row of a sliced tensor needs no copy.
  Tensor rows = arange(24, DType::float32).reshape({2, 12}).slice(1, 0, 6);
  Tensor split = rows.view({2, 2, 3});
  CHECK(split.strides() == Shape{12, 3, 1});
  CHECK(split.raw_data() == rows.raw_data());
  check_close(split.select(0, 1).select(0, 1), {15, 16, 17});
  CHECK(tt.unsqueeze(0).view({2, 2}).strides() == Shape{1, 2});
}

TEST_CASE("view errors name the op and the offending values") {
  Tensor a = zeros({2, 3});
  CHECK_THROWS_WITH_AS(a.reshape({4, 2}), "reshape: shape [4, 2] is invalid for 6 elements", Error);
  CHECK_THROWS_WITH_AS(a.reshape({-1, -1}), "reshape: only one dimension can be -1, got [-1, -1]", Error);
  CHECK_THROWS_WITH_AS(a.transpose(0, 2), "transpose: dimension 2 is out of range for a tensor of rank 2", Error);
  CHECK_THROWS_WITH_AS(a.permute({0, 0}), "permute: dimension 0 appears twice in [0, 0]", Error);
  CHECK_THROWS_WITH_AS(a.select(1, 3), "select: index 3 is out of range for dimension 1 of size 3", Error);
  CHECK_THROWS_WITH_AS(a.slice(0, 0, 1, 0), "slice: step must be positive, got 0", Error);
  CHECK_THROWS_WITH_AS(a.expand({3, 3}),
                       "expand: cannot expand shape [2, 3] to [3, 3] (dimension 0 has size 2, only size-1 dimensions can grow)",
                       Error);
  CHECK_THROWS_WITH_AS(zeros({3}).t(), "t: expects a 2-D tensor, got shape [3]; use transpose(d0, d1)", Error);
  CHECK_THROWS_WITH_AS(a.at<float>({2, 0}), "at: index 2 is out of range for dimension 0 of size 2", Error);
  CHECK_THROWS_WITH_AS(a.at<float>({0}), "at: got 1 indices for a tensor of rank 2", Error);
  CHECK_THROWS_WITH_AS(a.item<float>(), "item: tensor has 6 elements (shape [2, 3]); item() needs exactly one", Error);
  CHECK_THROWS_WITH_AS(a.data<double>(), "data: tensor has dtype float32, requested float64", Error);
  CHECK_THROWS_WITH_AS(Tensor().shape(), "Tensor: use of an undefined tensor", Error);
}

TEST_CASE("copies, dtype conversion and in-place writes") {
  Tensor a = tensor({1.5f, -2.5f, 3.0f});
  Tensor b = a.clone();
  CHECK_FALSE(b.impl()->storage == a.impl()->storage);
  check_close(a.to(DType::float64), {1.5, -2.5, 3.0});
  CHECK(a.to(DType::int64).to_vector<std::int64_t>() == std::vector<std::int64_t>{1, -2, 3});  // truncation
  CHECK(a.to(DType::float32).is_same(a));  // no-op conversion returns the same tensor
  Tensor dst = zeros({2, 3});
  dst.copy_(tensor({1.0, 2.0, 3.0}));  // broadcast and convert float64 -> float32
  check_close(dst, {1, 2, 3, 1, 2, 3});
  CHECK_THROWS_WITH_AS(dst.copy_(zeros({2})),
                       doctest::Contains("copy: shapes [2, 3] and [2] cannot be broadcast together"), Error);
  Tensor p = zeros({2});
  p.set_requires_grad();
  CHECK_THROWS_WITH_AS(p.fill_(1.0), doctest::Contains("fill_: in-place write into a tensor that requires grad"), Error);
  {
    NoGradGuard no_grad;
    p.fill_(2.0);  // allowed: that is how optimizers update parameters
  }
  check_close(p, {2, 2});
}

TEST_CASE("moving to a CUDA device without the CUDA backend is a clear error") {
  CHECK_THROWS_WITH_AS(zeros({2}).to(Device::cuda(0)),
                       doctest::Contains("Storage: no backend for device cuda:0 (compile a .cu file that calls "
                                         "recsys::cuda::enable() and link recsys::cuda)"),
                       Error);
  CHECK(zeros({2}).to(Device::cpu()).device() == Device::cpu());
  CHECK(to_string(Device::cuda(1)) == "cuda:1");
}

TEST_CASE("printing looks like PyTorch and summarizes large tensors") {
  std::ostringstream os;
  os << tensor({1.f, 2.f, 3.f, 4.f}, {2, 2});
  CHECK(os.str() == "tensor([[1.0000, 2.0000],\n        [3.0000, 4.0000]], shape=[2, 2], dtype=float32)");
  std::ostringstream big;
  big << arange(2000);
  CHECK(big.str() == "tensor([0, 1, 2, ..., 1997, 1998, 1999], shape=[2000], dtype=int64)");
  std::ostringstream g;
  Tensor w = ones({1});
  w.set_requires_grad();
  g << w * 2.0;
  CHECK(g.str() == "tensor([2.0000], shape=[1], dtype=float32, grad_fn=mul)");
}
