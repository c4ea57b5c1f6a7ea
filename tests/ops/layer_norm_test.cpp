// tests/ops/layer_norm_test.cpp — layer_norm: by hand, a naive reference, gradients, threads, errors, PyTorch.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "recsys/ops/layer_norm.hpp"
#include "test_util.hpp"

using namespace recsys;
using recsys::testing::bitwise_equal;
using recsys::testing::check_close;
using recsys::testing::param;

namespace {

/// The definition in double over the last dimension: biased variance, optional weight and bias.
std::vector<double> naive_layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps) {
  const std::vector<double> v = x.contiguous().to_vector<double>();
  const std::vector<double> wv = w.defined() ? w.to_vector<double>() : std::vector<double>();
  const std::vector<double> bv = b.defined() ? b.to_vector<double>() : std::vector<double>();
  const auto n = static_cast<std::size_t>(x.size(-1));
  std::vector<double> out;
  for (std::size_t r = 0; r < v.size() / n; ++r) {
    double mean = 0, var = 0;
    for (std::size_t j = 0; j < n; ++j) mean += v[r * n + j] / static_cast<double>(n);
    for (std::size_t j = 0; j < n; ++j) var += (v[r * n + j] - mean) * (v[r * n + j] - mean) / static_cast<double>(n);
    for (std::size_t j = 0; j < n; ++j) {
      double y = (v[r * n + j] - mean) / std::sqrt(var + eps);
      if (!wv.empty()) y *= wv[j];
      if (!bv.empty()) y += bv[j];
      out.push_back(y);
    }
  }
  return out;
}

struct LayerNormFixture : recsys::testing::GoldenFixture {
  explicit LayerNormFixture(const std::string& name) : GoldenFixture("transformer/" + name) {}
};

}  // namespace

TEST_CASE("layer_norm by hand: biased variance, weight and bias, a constant row") {
  Tensor x = tensor({1.0, 2.0, 3.0, 4.0, 4.0, 4.0}, {2, 3});
  const double s = std::sqrt(1.5);  // 1 / sqrt(var) with var = 2/3 (biased)
  check_close(layer_norm(x, {}, {}, 0.0).select(0, 0), {-s, 0, s}, 1e-15, 1e-15);
  // a constant row has zero variance: eps keeps it finite and the result is 0 (then the bias)
  check_close(layer_norm(x).select(0, 1), {0, 0, 0}, 0, 0);
  Tensor w = tensor({1.0, 2.0, 3.0}), b = tensor({0.5, 0.0, -0.5});
  const double r = 1.0 / std::sqrt(2.0 / 3.0 + 1e-5);
  check_close(layer_norm(x, w, b), {-r + 0.5, 0, 3 * r - 0.5, 0.5, 0, -0.5}, 1e-14, 1e-14);
  check_close(layer_norm(x.to(DType::float32), w.to(DType::float32), b.to(DType::float32)),
              {-r + 0.5, 0, 3 * r - 0.5, 0.5, 0, -0.5}, 1e-6, 1e-6);
}

TEST_CASE("layer_norm matches the naive definition across shapes, affine parts and strided inputs") {
  Generator g(41);
  for (const Shape& shape : {Shape{4, 7}, Shape{3, 5, 64}, Shape{2, 1}, Shape{130, 33}, Shape{6}}) {
    const std::int64_t n = shape[shape.size() - 1];
    Tensor x = randn(shape, g, DType::float64) * 3.0 + 1.5;
    Tensor w = randn({n}, g, DType::float64), b = randn({n}, g, DType::float64);
    INFO("shape ", shape);
    check_close(layer_norm(x, w, b, 1e-5), naive_layer_norm(x, w, b, 1e-5), 1e-12, 1e-12);
    check_close(layer_norm(x, {}, b, 1e-3), naive_layer_norm(x, {}, b, 1e-3), 1e-12, 1e-12);
    check_close(layer_norm(x, w, {}, 1e-5), naive_layer_norm(x, w, {}, 1e-5), 1e-12, 1e-12);
    check_close(layer_norm(x.to(DType::float32), w.to(DType::float32), b.to(DType::float32)),
                naive_layer_norm(x, w, b, 1e-5), 1e-4, 1e-4);
  }
  Tensor xt = randn({8, 5}, g, DType::float64).t();  // (5, 8) through a transposed view
  check_close(layer_norm(xt), naive_layer_norm(xt, {}, {}, 1e-5), 1e-12, 1e-12);
  CHECK(layer_norm(zeros({0, 4})).shape() == Shape{0, 4});
}

TEST_CASE("layer_norm gradients: with and without the affine part, strided inputs") {
  Generator g(42);
  Tensor x = param({3, 4, 5}, g), w = param({5}, g), b = param({5}, g);
  RECSYS_CHECK_GRADCHECK([](const autograd::TensorList& in) { return layer_norm(in[0], in[1], in[2]); }, {x, w, b});
  RECSYS_CHECK_GRADCHECK([](const autograd::TensorList& in) { return layer_norm(in[0]); }, {x});
  RECSYS_CHECK_GRADCHECK([&](const autograd::TensorList& in) { return layer_norm(in[0], in[1], {}, 1e-3); }, {x, w});
  Tensor xd = randn({3, 4, 5}, g, DType::float64);  // data: only the parameters need gradients
  RECSYS_CHECK_GRADCHECK([&](const autograd::TensorList& in) { return layer_norm(xd, in[0], in[1]); }, {w, b});
  Tensor xs = param({5, 3}, g);  // rows of 5 read through a transposed view
  RECSYS_CHECK_GRADCHECK([](const autograd::TensorList& in) { return layer_norm(in[0].t(), in[1]); }, {xs, w});
  // 200 rows: more than one chunk of the parameter gradients
  Tensor xl = param({200, 3}, g), wl = param({3}, g), bl = param({3}, g);
  RECSYS_CHECK_GRADCHECK([](const autograd::TensorList& in) { return layer_norm(in[0], in[1], in[2]); }, {xl, wl, bl});
}

TEST_CASE("layer_norm forward and backward are bitwise identical with 1 and 2 threads") {
  Generator g(43);
  Tensor x = randn({256, 50, 64}, g), w = randn({64}, g), b = randn({64}, g), gy = randn({256, 50, 64}, g);
  auto run = [&](int threads) {
    set_num_threads(threads);
    Tensor xl = x.detach().clone().set_requires_grad(), wl = w.detach().clone().set_requires_grad(),
           bl = b.detach().clone().set_requires_grad();
    Tensor y = layer_norm(xl, wl, bl);
    y.backward(gy);
    return std::vector<Tensor>{y, xl.grad(), wl.grad(), bl.grad()};
  };
  const auto one = run(1), two = run(2);
  set_num_threads(2);
  for (std::size_t i = 0; i < one.size(); ++i) {
    INFO("tensor ", i);
    CHECK(bitwise_equal(one[i], two[i]));
  }
}

TEST_CASE("layer_norm matches torch.nn.functional.layer_norm (golden fixtures)") {
  for (const char* name : {"layer_norm_affine", "layer_norm_plain", "layer_norm_eps"}) {
    const LayerNormFixture f(name);
    INFO(name);
    auto leaf = [&](const char* key) {
      Tensor t = f[key];
      return t.defined() ? t.detach().clone().set_requires_grad() : t;
    };
    Tensor x = leaf("x"), w = leaf("weight"), b = leaf("bias");
    const double eps = std::stod(f.file.metadata.at("eps"));
    Tensor out = layer_norm(x, w, b, eps);
    check_close(out, f["expected_output"], 1e-12, 1e-14);
    out.backward(f["grad_output"]);
    check_close(x.grad(), f["expected_x_grad"], 1e-12, 1e-14);
    if (w.defined()) check_close(w.grad(), f["expected_weight_grad"], 1e-12, 1e-14);
    if (b.defined()) check_close(b.grad(), f["expected_bias_grad"], 1e-12, 1e-14);
  }
}

TEST_CASE("layer_norm errors name the op and the shapes") {
  Tensor x = zeros({2, 3, 4});
  CHECK_THROWS_WITH_AS(layer_norm(x, zeros({3})),
                       "layer_norm: input has shape [2, 3, 4] but weight has shape [3]; expected [4] (the input's last "
                       "dimension)",
                       Error);
  CHECK_THROWS_WITH_AS(layer_norm(x, zeros({4}), zeros({4, 1})),
                       "layer_norm: input has shape [2, 3, 4] but bias has shape [4, 1]; expected [4] (the input's last "
                       "dimension)",
                       Error);
  CHECK_THROWS_WITH_AS(layer_norm(x, {}, {}, -1.0), "layer_norm: eps must be finite and non-negative, got -1", Error);
  CHECK_THROWS_WITH_AS(layer_norm(zeros(Shape{})),
                       "layer_norm: input must have at least 1 dimension, got shape []", Error);
  CHECK_THROWS_WITH_AS(layer_norm(zeros({2, 4}, DType::int32)), "layer_norm: input must be float32 or float64, got int32",
                       Error);
  CHECK_THROWS_WITH_AS(layer_norm(x, zeros({4}, DType::float64)), "layer_norm: input is float32 but weight is float64",
                       Error);
  recsys::testing::FakeCudaDevice fake;
  CHECK_THROWS_WITH_AS(layer_norm(x, zeros({4}).to(Device::cuda(0))), "layer_norm: input is on cpu but weight is on cuda:0",
                       Error);
  CHECK_THROWS_WITH_AS(layer_norm(x.to(Device::cuda(0))), doctest::Contains("layer_norm: no CUDA kernel registered"),
                       Error);
}
