// tests/ops/conv1d_test.cpp — conv1d: hand cases for valid/same/stride, a naive reference, gradients, determinism, errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "recsys/io/safetensors.hpp"
#include "test_util.hpp"

using namespace recsys;
using recsys::testing::bitwise_equal;
using recsys::testing::check_close;
using recsys::testing::param;

namespace {
/// The definition, in double, with TensorFlow's padding rule written out independently.
std::vector<double> naive_conv1d(const Tensor& x, const Tensor& w, const Tensor& b, std::int64_t s, bool same) {
  const std::int64_t B = x.size(0), T = x.size(1), C = x.size(2), K = w.size(0), F = w.size(2);
  std::int64_t t_out, left = 0;
  if (same) {
    t_out = (T + s - 1) / s;
    left = std::max<std::int64_t>((t_out - 1) * s + K - T, 0) / 2;
  } else {
    t_out = (T - K) / s + 1;
  }
  std::vector<double> out;
  for (std::int64_t bi = 0; bi < B; ++bi)
    for (std::int64_t t = 0; t < t_out; ++t)
      for (std::int64_t f = 0; f < F; ++f) {
        double acc = b.defined() ? b.at<double>({f}) : 0.0;
        for (std::int64_t k = 0; k < K; ++k) {
          const std::int64_t ti = t * s + k - left;
          if (ti < 0 || ti >= T) continue;  // zero padding
          for (std::int64_t c = 0; c < C; ++c) acc += x.at<double>({bi, ti, c}) * w.at<double>({k, c, f});
        }
        out.push_back(acc);
      }
  return out;
}

/// x (1, 3, 2) = [[1, 2], [3, 4], [5, 6]]; filter 0 takes x[t, 0] + x[t+1, 1]; filter 1 sums the window.
Tensor conv1d_hand_x() { return tensor({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}, {1, 3, 2}); }
Tensor conv1d_hand_w() { return tensor({1.f, 1.f, 0.f, 1.f, 0.f, 1.f, 1.f, 1.f}, {2, 2, 2}); }

using recsys::testing::FakeCudaDevice;
/// A fixture written by tests/golden/ops_fixtures.py.
struct Conv1dFixture : recsys::testing::GoldenFixture {
  explicit Conv1dFixture(const std::string& name) : GoldenFixture("ops/" + name) {}
};
}  // namespace

TEST_CASE("conv1d by hand: valid, same and strided") {
  Tensor y = conv1d(conv1d_hand_x(), conv1d_hand_w());
  CHECK(y.shape() == Shape{1, 2, 2});
  check_close(y, {1 + 4, 1 + 2 + 3 + 4, 3 + 6, 3 + 4 + 5 + 6});
  check_close(conv1d(conv1d_hand_x(), conv1d_hand_w(), tensor({0.5f, -1.f})), {5.5, 9, 9.5, 17});
  // same, K = 2: one zero on the right → windows [x0 x1], [x1 x2], [x2 0]
  check_close(conv1d(conv1d_hand_x(), conv1d_hand_w(), {}, 1, "same"), {5, 10, 9, 18, 5, 11});
  // same, stride 2: T_out = ceil(3 / 2) = 2, pad 1 on the right → windows [x0 x1], [x2 0]
  check_close(conv1d(conv1d_hand_x(), conv1d_hand_w(), {}, 2, "same"), {5, 10, 5, 11});
  // valid, stride 2 with T = 3, K = 2: one window; the last step is dropped
  check_close(conv1d(conv1d_hand_x(), conv1d_hand_w(), {}, 2, "valid"), {5, 10});
  // same, K = 3 pads one zero on each side: windows [0 x0 x1], [x0 x1 x2], [x1 x2 0]; w = ones → window sums
  Tensor ones3 = ones({3, 2, 1});
  check_close(conv1d(conv1d_hand_x(), ones3, {}, 1, "same"), {10, 21, 18});
}

TEST_CASE("conv1d matches the naive definition across shapes, strides, paddings and strided inputs") {
  Generator g(21);
  for (std::int64_t T : {5, 9, 12}) {
    for (std::int64_t K : {1, 3, 4}) {
      for (std::int64_t s : {1, 2, 3}) {
        for (bool same : {false, true}) {
          Tensor x = randn({3, T, 4}, g, DType::float64), w = randn({K, 4, 5}, g, DType::float64);
          Tensor b = randn({5}, g, DType::float64);
          INFO("T=", T, " K=", K, " stride=", s, " same=", same);
          const char* pad = same ? "same" : "valid";
          check_close(conv1d(x, w, b, s, pad), naive_conv1d(x, w, b, s, same), 1e-12, 1e-12);
          // a (T, B, C) tensor read through a transposed view: not contiguous, copied into the buffer
          Tensor xt = x.transpose(0, 1).contiguous().transpose(0, 1);
          check_close(conv1d(xt, w, {}, s, pad), naive_conv1d(x, w, {}, s, same), 1e-12, 1e-12);
        }
      }
    }
  }
  // float32 at the reference model's layer shape, against the same definition
  Tensor x = randn({2, 100, 16}, g), w = randn({3, 16, 8}, g), b = randn({8}, g);
  check_close(conv1d(x, w, b), naive_conv1d(x, w, b, 1, false), 1e-4, 1e-4);
  // zero-length input with same padding is an empty result
  CHECK(conv1d(zeros({2, 0, 4}), zeros({3, 4, 5}), {}, 1, "same").shape() == Shape{2, 0, 5});
}

TEST_CASE("conv1d gradients: valid, same, stride, bias and strided operands") {
  Generator g(22);
  struct Case {
    std::int64_t T, K, s;
    const char* pad;
  };
  for (const Case c : {Case{6, 3, 1, "valid"}, Case{7, 2, 2, "valid"}, Case{5, 3, 1, "same"}, Case{7, 4, 3, "same"},
                       Case{4, 5, 2, "same"}}) {
    INFO("T=", c.T, " K=", c.K, " stride=", c.s, " padding=", c.pad);
    Tensor x = param({2, c.T, 3}, g), w = param({c.K, 3, 2}, g), b = param({2}, g);
    RECSYS_CHECK_GRADCHECK([&](const autograd::TensorList& in) { return conv1d(in[0], in[1], in[2], c.s, c.pad); },
                           {x, w, b});
    RECSYS_CHECK_GRADCHECK([&](const autograd::TensorList& in) { return conv1d(in[0], in[1], {}, c.s, c.pad); },
                           {x, w});
  }
  // strided: x stored (T, B, C) and w stored (F, K, C), both used through permuted views
  Tensor xs = param({5, 2, 3}, g), ws = param({2, 3, 3}, g);
  RECSYS_CHECK_GRADCHECK(
      [](const autograd::TensorList& in) { return conv1d(in[0].transpose(0, 1), in[1].permute({1, 2, 0}), {}, 2, "same"); },
      {xs, ws});
  // only the weight needs a gradient (the input of the first layer is data)
  Tensor xd = randn({2, 6, 3}, g, DType::float64), wd = param({3, 3, 2}, g);
  RECSYS_CHECK_GRADCHECK([&](const autograd::TensorList& in) { return conv1d(xd, in[0]); }, {wd});
}

TEST_CASE("conv1d forward and backward are bitwise identical with 1 and 2 threads") {
  Generator g(23);
  Tensor x = randn({32, 100, 128}, g), w = randn({3, 128, 64}, g), b = randn({64}, g);
  for (const char* pad : {"valid", "same"}) {
    Tensor gy = randn({32, 100 - (std::string(pad) == "valid" ? 2 : 0), 64}, g);
    auto run = [&](int threads) {
      set_num_threads(threads);
      Tensor xl = x.detach().clone().set_requires_grad(), wl = w.detach().clone().set_requires_grad(),
             bl = b.detach().clone().set_requires_grad();
      Tensor y = conv1d(xl, wl, bl, 1, pad);
      y.backward(gy);
      return std::vector<Tensor>{y, xl.grad(), wl.grad(), bl.grad()};
    };
    const auto one = run(1), two = run(2);
    set_num_threads(2);
    for (std::size_t i = 0; i < one.size(); ++i) {
      INFO("padding ", pad, ", tensor ", i);
      CHECK(bitwise_equal(one[i], two[i]));
    }
  }
}

TEST_CASE("conv1d matches torch.nn.functional.conv1d (golden fixtures)") {
  for (const char* name : {"conv1d_valid", "conv1d_valid_stride3", "conv1d_same", "conv1d_same_stride2"}) {
    const Conv1dFixture f(name);
    const std::string padding = f.file.metadata.at("padding");
    for (DType dt : {DType::float32, DType::float64}) {
      INFO(name, " ", dtype_name(dt));
      const double rtol = dt == DType::float32 ? 1e-5 : 1e-10, atol = dt == DType::float32 ? 1e-5 : 1e-12;
      auto leaf = [&](const char* key) {
        Tensor t = f[key];
        return t.defined() ? t.to(dt).detach().set_requires_grad() : t;
      };
      const Tensor x = leaf("x"), w = leaf("weight"), b = leaf("bias");
      Tensor out = conv1d(x, w, b, f.setting("stride"), padding);
      check_close(out, f["expected_output"], rtol, atol);
      out.backward(f["grad_output"].to(dt));
      check_close(x.grad(), f["expected_x_grad"], rtol, atol);
      check_close(w.grad(), f["expected_weight_grad"], rtol, atol);
      if (b.defined()) check_close(b.grad(), f["expected_bias_grad"], rtol, atol);
    }
  }
}

TEST_CASE("conv1d errors name the op and the values") {
  Tensor x = zeros({2, 5, 3}), w = zeros({3, 3, 4});
  CHECK_THROWS_WITH_AS(conv1d(zeros({5, 3}), w),
                       "conv1d: input must have 3 dimensions (batch, time, channels), got shape [5, 3]", Error);
  CHECK_THROWS_WITH_AS(conv1d(x, zeros({3, 4})),
                       "conv1d: weight must have 3 dimensions (kernel_size, in_channels, filters), got shape [3, 4]",
                       Error);
  CHECK_THROWS_WITH_AS(conv1d(x, zeros({3, 2, 4})),
                       "conv1d: input has shape [2, 5, 3] (3 channels) but weight has shape [3, 2, 4] (in_channels 2)",
                       Error);
  CHECK_THROWS_WITH_AS(conv1d(x, zeros({0, 3, 4})),
                       "conv1d: weight has shape [0, 3, 4]; kernel_size, in_channels and filters must all be positive",
                       Error);
  CHECK_THROWS_WITH_AS(conv1d(x, w, zeros({3})), "conv1d: bias has shape [3], expected [4] (one value per filter)",
                       Error);
  CHECK_THROWS_WITH_AS(conv1d(x, w, {}, 0), "conv1d: stride must be at least 1, got 0", Error);
  CHECK_THROWS_WITH_AS(conv1d(x, w, {}, 1, "full"), "conv1d: padding must be \"valid\" or \"same\", got \"full\"",
                       Error);
  CHECK_THROWS_WITH_AS(conv1d(zeros({2, 2, 3}), w),
                       "conv1d: input has shape [2, 2, 3], whose length 2 is shorter than kernel_size 3 (padding "
                       "\"valid\"; use \"same\" to pad)",
                       Error);
  CHECK_THROWS_WITH_AS(conv1d(x, zeros({3, 3, 4}, DType::float64)), "conv1d: input is float32 but weight is float64",
                       Error);
  CHECK_THROWS_WITH_AS(conv1d(zeros({2, 5, 3}, DType::int32), w),
                       "conv1d: input must be float32 or float64, got int32", Error);
  CHECK_THROWS_WITH_AS(conv1d(x, Tensor()), doctest::Contains("conv1d: weight is an undefined tensor"), Error);
  FakeCudaDevice fake;
  Tensor w_gpu = zeros({3, 3, 4}).to(Device::cuda(0));
  CHECK_THROWS_WITH_AS(conv1d(x, w_gpu), "conv1d: input is on cpu but weight is on cuda:0", Error);
  Tensor b_gpu = zeros({4}).to(Device::cuda(0));
  CHECK_THROWS_WITH_AS(conv1d(x, w, b_gpu), "conv1d: input is on cpu but bias is on cuda:0", Error);
  Tensor x_gpu = x.to(Device::cuda(0));  // device tensors go to the device kernels, never to the CPU loops
  CHECK_THROWS_WITH_AS(conv1d(x_gpu, w_gpu), doctest::Contains("no CUDA kernel registered for device cuda:0"), Error);
}
