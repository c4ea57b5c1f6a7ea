// tests/ops/attention_test.cpp — scaled_dot_product_attention: by hand, a naive reference, masks, dropout, gradients, threads, errors, PyTorch.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "recsys/ops/attention.hpp"
#include "test_util.hpp"

using namespace recsys;
using recsys::testing::bitwise_equal;
using recsys::testing::check_close;
using recsys::testing::param;

namespace {

/// The definition, in double, one query row at a time: keys allowed by the masks, softmax over them,
/// optional dropout factors keep(idx) / (1 - p); a row with no key left is 0.
std::vector<double> naive_attention(const Tensor& q, const Tensor& k, const Tensor& v, bool causal,
                                    const Tensor& mask = {}, double p = 0.0, std::uint64_t seed = 0,
                                    std::uint64_t first_block = 0) {
  const std::int64_t B = q.size(0), H = q.size(1), Tq = q.size(2), Tk = k.size(2), d = q.size(3), dv = v.size(3);
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  const Tensor padding = mask.defined() ? mask.to(DType::int64) : Tensor();
  std::vector<double> out;
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t h = 0; h < H; ++h)
      for (std::int64_t i = 0; i < Tq; ++i) {
        std::vector<double> s(static_cast<std::size_t>(Tk), 0.0);
        std::vector<bool> ok(static_cast<std::size_t>(Tk), false);
        double m = -std::numeric_limits<double>::infinity();
        for (std::int64_t j = 0; j < Tk; ++j) {
          const bool padded = padding.defined() && padding.at<std::int64_t>({b, j}) != 0;
          if ((causal && j > i) || padded) continue;
          ok[static_cast<std::size_t>(j)] = true;
          double acc = 0;
          for (std::int64_t c = 0; c < d; ++c) acc += q.at<double>({b, h, i, c}) * k.at<double>({b, h, j, c});
          s[static_cast<std::size_t>(j)] = acc * scale;
          m = std::max(m, acc * scale);
        }
        double total = 0;
        for (std::int64_t j = 0; j < Tk; ++j)
          if (ok[static_cast<std::size_t>(j)]) total += std::exp(s[static_cast<std::size_t>(j)] - m);
        for (std::int64_t c = 0; c < dv; ++c) {
          double acc = 0;
          for (std::int64_t j = 0; j < Tk; ++j) {
            if (!ok[static_cast<std::size_t>(j)]) continue;
            double w = std::exp(s[static_cast<std::size_t>(j)] - m) / total;
            if (p > 0) {
              const auto idx = static_cast<std::uint64_t>(((b * H + h) * Tk + j) * Tq + i);  // key-major
              w *= philox_uniform<float>(seed, first_block, idx) >= static_cast<float>(p) ? 1.0 / (1.0 - p) : 0.0;
            }
            acc += w * v.at<double>({b, h, j, c});
          }
          out.push_back(acc);
        }
      }
  return out;
}

/// (B, T) int32 mask with `left` padded keys at the start of every row (SASRec pads on the left) and
/// row b's last b keys padded too.
Tensor attention_padding(std::int64_t B, std::int64_t T, std::int64_t left) {
  std::vector<std::int32_t> m(static_cast<std::size_t>(B * T), 0);
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t t = 0; t < T; ++t) m[static_cast<std::size_t>(b * T + t)] = t < left || t >= T - b ? 1 : 0;
  return from_vector(m, {B, T});
}

/// q, k, v as head-split views (B, H, T, d) of (B, T, H·d) tensors, as MultiHeadAttention makes them.
Tensor attention_split_heads(const Tensor& x, std::int64_t heads) {
  return x.reshape({x.size(0), x.size(1), heads, x.size(2) / heads}).permute({0, 2, 1, 3});
}

struct AttentionFixture : recsys::testing::GoldenFixture {
  explicit AttentionFixture(const std::string& name) : GoldenFixture("transformer/" + name) {}
};

}  // namespace

TEST_CASE("scaled_dot_product_attention by hand: plain, causal, padded, and a fully masked row") {
  // d = 4, so scale = 1/2. Query 0 = (2, 0, 0, 0) scores keys (1, 0, 0, 0) and 0 as (1, 0); query 1 = 0 scores (0, 0).
  Tensor q = tensor({2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0}, {1, 1, 2, 4});
  Tensor k = tensor({1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0}, {1, 1, 2, 4});
  Tensor v = tensor({1.0, 0.0, 0.0, 1.0}, {1, 1, 2, 2});
  const double e = std::exp(1.0);
  check_close(scaled_dot_product_attention(q, k, v), {e / (e + 1), 1 / (e + 1), 0.5, 0.5}, 1e-15, 1e-15);
  check_close(scaled_dot_product_attention(q, k, v, true), {1, 0, 0.5, 0.5}, 1e-15, 1e-15);
  check_close(scaled_dot_product_attention(q, k, v, false, tensor({0, 1}, {1, 2})), {1, 0, 1, 0}, 1e-15, 1e-15);
  // key 0 padded and causal: query 0 has no key left (output 0, not NaN); query 1 sees key 1 only
  Tensor y = scaled_dot_product_attention(q, k, v, true, tensor({std::int64_t{1}, std::int64_t{0}}, {1, 2}));
  check_close(y, {0, 0, 0, 1}, 0, 0);
  // float gives the same within rounding
  check_close(scaled_dot_product_attention(q.to(DType::float32), k.to(DType::float32), v.to(DType::float32)),
              {e / (e + 1), 1 / (e + 1), 0.5, 0.5}, 1e-6, 1e-6);
}

TEST_CASE("scaled_dot_product_attention matches the naive definition across shapes, masks and blocks") {
  Generator g(31);
  struct Case {
    std::int64_t B, H, Tq, Tk, d, dv;
  };
  // 70 and 130 query rows span two and three blocks of 64; Tq != Tk and dv != d are allowed.
  for (const Case c : {Case{2, 2, 5, 5, 4, 4}, Case{1, 3, 70, 70, 8, 8}, Case{2, 1, 3, 6, 4, 5},
                       Case{2, 2, 130, 9, 3, 2}, Case{3, 2, 7, 7, 16, 16}}) {
    for (bool causal : {false, true}) {
      for (bool padded : {false, true}) {
        INFO("B=", c.B, " H=", c.H, " Tq=", c.Tq, " Tk=", c.Tk, " d=", c.d, " dv=", c.dv, " causal=", causal,
             " padded=", padded);
        Tensor q = randn({c.B, c.H, c.Tq, c.d}, g, DType::float64), k = randn({c.B, c.H, c.Tk, c.d}, g, DType::float64);
        Tensor v = randn({c.B, c.H, c.Tk, c.dv}, g, DType::float64);
        const Tensor mask = padded ? attention_padding(c.B, c.Tk, 1) : Tensor();
        const auto expected = naive_attention(q, k, v, causal, mask);
        check_close(scaled_dot_product_attention(q, k, v, causal, mask), expected, 1e-12, 1e-13);
        check_close(scaled_dot_product_attention(q.to(DType::float32), k.to(DType::float32), v.to(DType::float32),
                                                 causal, mask),
                    expected, 1e-4, 1e-5);
      }
    }
  }
  // head-split views read in place; the output comes back in the same (B, T, H, d) layout
  Tensor x = randn({2, 6, 8}, g, DType::float64), kx = randn({2, 6, 8}, g, DType::float64);
  Tensor qh = attention_split_heads(x, 2), kh = attention_split_heads(kx, 2);
  Tensor y = scaled_dot_product_attention(qh, kh, kh, true, attention_padding(2, 6, 2));
  CHECK(y.shape() == Shape{2, 2, 6, 4});
  CHECK(y.permute({0, 2, 1, 3}).is_contiguous());
  check_close(y, naive_attention(qh.contiguous(), kh.contiguous(), kh.contiguous(), true, attention_padding(2, 6, 2)),
              1e-12, 1e-13);
  // a view with a non-unit feature stride is copied first
  Tensor qt = randn({2, 2, 4, 5}, g, DType::float64).transpose(2, 3);
  check_close(scaled_dot_product_attention(qt, qt, qt), naive_attention(qt.contiguous(), qt.contiguous(), qt.contiguous(), false),
              1e-12, 1e-13);
  // no keys at all: every row is fully masked
  CHECK(scaled_dot_product_attention(zeros({1, 1, 3, 2}), zeros({1, 1, 0, 2}), zeros({1, 1, 0, 2})).to_vector<float>() ==
        std::vector<float>(6, 0.0f));
}

TEST_CASE("scaled_dot_product_attention gradients: masks, a fully masked row, Tq != Tk, views") {
  Generator g(32);
  {
    Tensor q = param({2, 2, 5, 3}, g), k = param({2, 2, 5, 3}, g), v = param({2, 2, 5, 4}, g);
    for (bool causal : {false, true}) {
      INFO("causal=", causal);
      RECSYS_CHECK_GRADCHECK(
          [&](const autograd::TensorList& in) { return scaled_dot_product_attention(in[0], in[1], in[2], causal); },
          {q, k, v});
      // left padding + causal: query 0 of every row has no key (the SASRec case)
      const Tensor mask = attention_padding(2, 5, 1);
      RECSYS_CHECK_GRADCHECK(
          [&](const autograd::TensorList& in) { return scaled_dot_product_attention(in[0], in[1], in[2], causal, mask); },
          {q, k, v});
    }
  }
  {
    // cross attention, 70 queries (two blocks) over 4 keys, causal: queries past key 3 see all keys
    Tensor q = param({1, 1, 70, 2}, g), k = param({1, 1, 4, 2}, g), v = param({1, 1, 4, 3}, g);
    RECSYS_CHECK_GRADCHECK(
        [&](const autograd::TensorList& in) {
          return scaled_dot_product_attention(in[0], in[1], in[2], true, tensor({0, 0, 1, 0}, {1, 4}));
        },
        {q, k, v});
  }
  {
    // head-split views, only some inputs requiring grad
    Tensor x = param({2, 4, 6}, g), kv = randn({2, 4, 6}, g, DType::float64);
    RECSYS_CHECK_GRADCHECK(
        [&](const autograd::TensorList& in) {
          return scaled_dot_product_attention(attention_split_heads(in[0], 2), attention_split_heads(kv, 2),
                                              attention_split_heads(in[0], 2), true);
        },
        {x});
  }
  {
    // a fully masked row: output exactly 0, its dq row exactly 0, and it adds nothing to dk and dv
    Tensor q = param({1, 1, 3, 2}, g), k = param({1, 1, 3, 2}, g), v = param({1, 1, 3, 2}, g);
    const Tensor mask = tensor({1, 0, 0}, {1, 3});
    Tensor y = scaled_dot_product_attention(q, k, v, true, mask);
    CHECK(y.select(2, 0).to_vector<double>() == std::vector<double>{0, 0});
    Tensor gy = zeros({1, 1, 3, 2}, DType::float64);
    gy.select(2, 0).fill_(5.0);  // only the masked row has an upstream gradient
    y.backward(gy);
    for (const Tensor* t : {&q, &k, &v}) CHECK(t->grad().to_vector<double>() == std::vector<double>(6, 0.0));
  }
}

TEST_CASE("scaled_dot_product_attention dropout: the documented Philox mask, and its gradient") {
  Generator g(33);
  Tensor q = randn({2, 2, 9, 4}, g, DType::float64), k = randn({2, 2, 9, 4}, g, DType::float64);
  Tensor v = randn({2, 2, 9, 3}, g, DType::float64);
  const Tensor mask = attention_padding(2, 9, 2);
  Generator drop(77);
  drop.reserve(5);  // a stream that has already been used
  const std::uint64_t first = drop.offset();
  Tensor y = scaled_dot_product_attention(q, k, v, true, mask, 0.25, drop);
  CHECK(drop.offset() == first + philox_blocks<float>(2 * 2 * 9 * 9));
  check_close(y, naive_attention(q, k, v, true, mask, 0.25, 77, first), 1e-12, 1e-13);
  // dropout 0 draws nothing and equals no dropout
  CHECK(bitwise_equal(scaled_dot_product_attention(q, k, v, true, mask, 0.0, drop),
                      scaled_dot_product_attention(q, k, v, true, mask)));
  CHECK(drop.offset() == first + philox_blocks<float>(2 * 2 * 9 * 9));
  // the same mask for every evaluation: a fresh generator per call
  Tensor qp = param({1, 2, 6, 3}, g), kp = param({1, 2, 6, 3}, g), vp = param({1, 2, 6, 3}, g);
  RECSYS_CHECK_GRADCHECK(
      [&](const autograd::TensorList& in) {
        Generator fresh(5);
        return scaled_dot_product_attention(in[0], in[1], in[2], true, tensor({1, 0, 0, 0, 0, 0}, {1, 6}), 0.3, fresh);
      },
      {qp, kp, vp});
}

TEST_CASE("scaled_dot_product_attention forward and backward are bitwise identical with 1 and 2 threads") {
  Generator g(34);
  // 100 queries (two blocks), causal with padding and dropout; float runs the SIMD paths
  Tensor x = randn({8, 100, 32}, g), kx = randn({8, 100, 32}, g), vx = randn({8, 100, 32}, g);
  Tensor gy = randn({8, 2, 100, 16}, g);
  const Tensor mask = attention_padding(8, 100, 3);
  auto run = [&](int threads) {
    set_num_threads(threads);
    Tensor xl = x.detach().clone().set_requires_grad(), kl = kx.detach().clone().set_requires_grad(),
           vl = vx.detach().clone().set_requires_grad();
    Generator drop(9);
    Tensor y = scaled_dot_product_attention(attention_split_heads(xl, 2), attention_split_heads(kl, 2),
                                            attention_split_heads(vl, 2), true, mask, 0.1, drop);
    y.backward(gy);
    Tensor y2 = scaled_dot_product_attention(x.reshape({8, 100, 2, 16}).permute({0, 2, 1, 3}).contiguous(),
                                             kx.reshape({8, 100, 2, 16}).permute({0, 2, 1, 3}).contiguous(),
                                             vx.reshape({8, 100, 2, 16}).permute({0, 2, 1, 3}).contiguous(), false);
    return std::vector<Tensor>{y, xl.grad(), kl.grad(), vl.grad(), y2};
  };
  const auto one = run(1), two = run(2);
  set_num_threads(2);
  for (std::size_t i = 0; i < one.size(); ++i) {
    INFO("tensor ", i);
    CHECK(bitwise_equal(one[i], two[i]));
  }
}

TEST_CASE("scaled_dot_product_attention matches torch.nn.functional.scaled_dot_product_attention (golden fixtures)") {
  for (const char* name : {"sdpa_plain", "sdpa_causal", "sdpa_padding", "sdpa_causal_left_padding", "sdpa_cross"}) {
    const AttentionFixture f(name);
    INFO(name);
    auto leaf = [&](const char* key) { return f[key].detach().clone().set_requires_grad(); };
    Tensor q = leaf("q"), k = leaf("k"), v = leaf("v");
    const Tensor mask = f["key_padding_mask"];
    Tensor out = scaled_dot_product_attention(q, k, v, f.setting("causal") != 0, mask);
    check_close(out, f["expected_output"], 1e-12, 1e-14);
    out.backward(f["grad_output"]);
    check_close(q.grad(), f["expected_q_grad"], 1e-12, 1e-14);
    check_close(k.grad(), f["expected_k_grad"], 1e-12, 1e-14);
    check_close(v.grad(), f["expected_v_grad"], 1e-12, 1e-14);
  }
}

TEST_CASE("scaled_dot_product_attention errors name the op and the shapes") {
  Tensor q = zeros({2, 2, 5, 4}), k = zeros({2, 2, 6, 4}), v = zeros({2, 2, 6, 3});
  CHECK_THROWS_WITH_AS(scaled_dot_product_attention(zeros({2, 5, 4}), k, v),
                       "scaled_dot_product_attention: q must have 4 dimensions (batch, heads, time, head_dim), got "
                       "shape [2, 5, 4]",
                       Error);
  CHECK_THROWS_WITH_AS(scaled_dot_product_attention(q, zeros({2, 2, 6, 3}), v),
                       "scaled_dot_product_attention: q has shape [2, 2, 5, 4] but k has shape [2, 2, 6, 3]; they must "
                       "agree in batch, heads and head_dim",
                       Error);
  CHECK_THROWS_WITH_AS(scaled_dot_product_attention(q, zeros({2, 1, 6, 4}), v),
                       doctest::Contains("q has shape [2, 2, 5, 4] but k has shape [2, 1, 6, 4]"), Error);
  CHECK_THROWS_WITH_AS(scaled_dot_product_attention(q, k, zeros({2, 2, 5, 3})),
                       "scaled_dot_product_attention: k has shape [2, 2, 6, 4] but v has shape [2, 2, 5, 3]; they must "
                       "agree in batch, heads and time",
                       Error);
  CHECK_THROWS_WITH_AS(scaled_dot_product_attention(q, k, v, false, zeros({2, 6})),
                       "scaled_dot_product_attention: key_padding_mask must be an integer tensor (int32 or int64; "
                       "nonzero = padded key), got float32",
                       Error);
  CHECK_THROWS_WITH_AS(scaled_dot_product_attention(q, k, v, false, tensor({0, 0, 0, 0, 0}, {1, 5})),
                       "scaled_dot_product_attention: key_padding_mask has shape [1, 5], expected [2, 6] (batch, key "
                       "time) for k of shape [2, 2, 6, 4]",
                       Error);
  CHECK_THROWS_WITH_AS(scaled_dot_product_attention(q, k, v, false, {}, 1.0),
                       "scaled_dot_product_attention: dropout must be in [0, 1), got 1", Error);
  CHECK_THROWS_WITH_AS(scaled_dot_product_attention(q, k, zeros({2, 2, 6, 3}, DType::float64)),
                       "scaled_dot_product_attention: q is float32 but v is float64", Error);
  CHECK_THROWS_WITH_AS(scaled_dot_product_attention(zeros({2, 2, 5, 0}), zeros({2, 2, 6, 0}), v),
                       "scaled_dot_product_attention: q has shape [2, 2, 5, 0]; head_dim must be positive", Error);
  CHECK_THROWS_WITH_AS(scaled_dot_product_attention(q, zeros({2, 2, 6, 4}, DType::int32), v),
                       "scaled_dot_product_attention: k must be float32 or float64, got int32", Error);
  recsys::testing::FakeCudaDevice fake;
  Tensor k_gpu = k.to(Device::cuda(0));
  CHECK_THROWS_WITH_AS(scaled_dot_product_attention(q, k_gpu, v), "scaled_dot_product_attention: q is on cpu but k is on cuda:0",
                       Error);
  CHECK_THROWS_WITH_AS(scaled_dot_product_attention(q.to(Device::cuda(0)), k_gpu, v.to(Device::cuda(0))),
                       doctest::Contains("attention: no CUDA kernel registered for device cuda:0"), Error);
}
