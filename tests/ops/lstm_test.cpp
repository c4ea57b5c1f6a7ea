// tests/ops/lstm_test.cpp — lstm(): steps by hand, a reference built from primitive ops, gradchecks, errors, determinism, PyTorch goldens.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "recsys/io/safetensors.hpp"
#include "recsys/ops/lstm.hpp"
#include "test_util.hpp"

using namespace recsys;
using recsys::testing::bitwise_equal;
using recsys::testing::check_close;
using recsys::testing::f64;
using recsys::testing::param;

namespace {

/// sum(output·r0) + sum(h·r1) + sum(c·r2) with fixed random r: one scalar that depends on all three outputs.
struct Probe {
  Tensor r0, r1, r2;
  Probe(std::int64_t B, std::int64_t T, std::int64_t H, Generator& gen, DType dtype = DType::float64)
      : r0(randn({B, T, H}, gen, dtype)), r1(randn({B, H}, gen, dtype)), r2(randn({B, H}, gen, dtype)) {}
  Tensor operator()(const LstmResult& r) const { return sum(r.output * r0) + sum(r.h * r1) + sum(r.c * r2); }
};

/// The same layer written with matmul, slice, sigmoid and tanh: an independent check of values and gradients.
std::vector<Tensor> reference_lstm(const Tensor& x, const Tensor& w_ih, const Tensor& w_hh, const Tensor& bias,
                                   Tensor h, Tensor c) {
  const std::int64_t H = w_hh.size(0);
  std::vector<Tensor> hs;
  for (std::int64_t t = 0; t < x.size(1); ++t) {
    const Tensor z = matmul(x.select(1, t), w_ih) + matmul(h, w_hh) + bias;
    const Tensor i = sigmoid(z.slice(1, 0, H)), f = sigmoid(z.slice(1, H, 2 * H));
    const Tensor g = tanh(z.slice(1, 2 * H, 3 * H)), o = sigmoid(z.slice(1, 3 * H, 4 * H));
    c = f * c + i * g;
    h = o * tanh(c);
    hs.push_back(h);
  }
  hs.push_back(c);
  return hs;  // h_0 .. h_{T-1}, then the last c
}

/// Distance in float ulps between a float result and the exact (double) value.
double ulps(float got, double exact) {
  const float e = static_cast<float>(exact);
  const double ulp = std::nextafter(std::fabs(e), std::numeric_limits<float>::infinity()) - std::fabs(e);
  return std::fabs(got - exact) / ulp;
}

/// Makes Device::cuda(0) allocate host memory while alive, so device-mismatch errors can be tested
/// without a GPU. Only Tensor::empty is used on it: no kernel ever runs there.
struct FakeCudaMemory {
  MemoryBackend saved = memory_backend(DeviceType::cuda);
  FakeCudaMemory() { memory_backend(DeviceType::cuda) = memory_backend(DeviceType::cpu); }
  ~FakeCudaMemory() { memory_backend(DeviceType::cuda) = saved; }
};

}  // namespace

TEST_CASE("lstm one and two steps by hand") {
  // B = I = H = 1, so a gate row is the four numbers [i, f, g, o].
  // w_ih = [0, 0, 1, 0] (x feeds g), w_hh = [0, 0, 0, 1] (h feeds o), bias = [ln 3, -ln 3, ln 2 - 1, 0],
  // h0 = 0, c0 = 0.4, x = [1, 0].
  // Step 1 (x = 1): pre-activations [ln 3, -ln 3, ln 2, 0]
  //   i = σ(ln 3) = 3/4, f = σ(-ln 3) = 1/4, g = tanh(ln 2) = (2 - 1/2)/(2 + 1/2) = 3/5, o = σ(0) = 1/2
  //   c1 = f·c0 + i·g = 0.1 + 0.45 = 0.55,  h1 = o·tanh(c1) = tanh(0.55)/2 = 0.500520211/2 = 0.250260106
  // Step 2 (x = 0): pre-activations [ln 3, -ln 3, ln 2 - 1, h1]
  //   i = 3/4, f = 1/4, g = tanh(ln 2 - 1) = tanh(-0.306853) = -0.297571289, o = σ(0.250260106) = 0.562240521
  //   c2 = 0.55/4 + 3/4·g = 0.1375 - 0.223178466 = -0.085678466,  h2 = o·tanh(c2) = 0.562240521·(-0.085469431)
  //      = -0.048054377
  const double ln2 = std::log(2.0), ln3 = std::log(3.0);
  const double h1 = 0.250260106, c2 = -0.085678466, h2 = -0.048054377;
  for (DType dt : {DType::float32, DType::float64}) {
    INFO("dtype ", dtype_name(dt));
    const Tensor w_ih = tensor({0.0, 0.0, 1.0, 0.0}, {1, 4}).to(dt), w_hh = tensor({0.0, 0.0, 0.0, 1.0}, {1, 4}).to(dt);
    const Tensor bias = tensor({ln3, -ln3, ln2 - 1, 0.0}).to(dt), c0 = tensor({0.4}, {1, 1}).to(dt);
    const LstmResult two = lstm(tensor({1.0, 0.0}, {1, 2, 1}).to(dt), w_ih, w_hh, bias, {}, c0);
    CHECK(two.output.shape() == Shape{1, 2, 1});
    check_close(two.output, {h1, h2}, 1e-6, 1e-8);
    check_close(two.h, {h2}, 1e-6, 1e-8);
    check_close(two.c, {c2}, 1e-6, 1e-8);
    const LstmResult one = lstm(tensor({1.0}, {1, 1, 1}).to(dt), w_ih, w_hh, bias, {}, c0);
    check_close(one.output, {h1}, 1e-6, 1e-8);
    check_close(one.c, {0.55}, 1e-6, 1e-8);
  }
}

TEST_CASE("lstm one-step gradients by hand") {
  // The first step above, with the loss c1 = f·c0 + i·g (pre-activations z = [ln 3, -ln 3, ln 2, 0]):
  //   dc1/dc0 = f = 1/4;  dc1/dz_i = g·i(1-i) = 3/5·3/16 = 0.1125;  dc1/dz_f = c0·f(1-f) = 0.4·3/16 = 0.075;
  //   dc1/dz_g = i·(1 - g²) = 3/4·16/25 = 0.48;  dc1/dz_o = 0 (o does not touch c).
  // The bias gradient is dc1/dz; w_ih's is x·dc1/dz = the same (x = 1); h0's is w_hh·dc1/dz = 0.48·w_hh[g].
  const double ln2 = std::log(2.0), ln3 = std::log(3.0);
  Tensor w_ih = tensor({0.0, 0.0, 1.0, 0.0}, {1, 4}).set_requires_grad();
  Tensor w_hh = tensor({0.0, 0.0, 0.5, 1.0}, {1, 4}).set_requires_grad();
  Tensor bias = tensor({ln3, -ln3, ln2 - 1, 0.0}).set_requires_grad();
  Tensor h0 = tensor({0.0}, {1, 1}).set_requires_grad(), c0 = tensor({0.4}, {1, 1}).set_requires_grad();
  sum(lstm(tensor({1.0}, {1, 1, 1}), w_ih, w_hh, bias, h0, c0).c).backward();
  check_close(c0.grad(), {0.25}, 1e-12, 1e-12);
  check_close(bias.grad(), {0.1125, 0.075, 0.48, 0.0}, 1e-12, 1e-12);
  check_close(w_ih.grad(), {0.1125, 0.075, 0.48, 0.0}, 1e-12, 1e-12);
  check_close(w_hh.grad(), {0, 0, 0, 0}, 1e-12, 1e-12);  // h0 = 0
  check_close(h0.grad(), {0.5 * 0.48}, 1e-12, 1e-12);
}

TEST_CASE("lstm matches a reference built from primitive ops, values and gradients") {
  Generator gen(11);
  const std::int64_t B = 3, T = 4, I = 5, H = 6;
  Tensor x = param({B, T, I}, gen), w_ih = param({I, 4 * H}, gen), w_hh = param({H, 4 * H}, gen);
  Tensor bias = param({4 * H}, gen), h0 = param({B, H}, gen), c0 = param({B, H}, gen);
  const std::vector<Tensor> inputs{x, w_ih, w_hh, bias, h0, c0};
  const Probe probe(B, T, H, gen);

  const LstmResult r = lstm(x, w_ih, w_hh, bias, h0, c0);
  probe(r).backward();
  std::vector<Tensor> grads;
  for (const Tensor& t : inputs) {
    grads.push_back(t.grad());
    t.set_grad(Tensor());
  }

  const std::vector<Tensor> ref = reference_lstm(x, w_ih, w_hh, bias, h0, c0);
  Tensor loss = sum(ref[T - 1] * probe.r1) + sum(ref[T] * probe.r2);
  for (std::int64_t t = 0; t < T; ++t) {
    check_close(r.output.select(1, t), ref[t], 1e-12, 1e-12);
    loss = loss + sum(ref[t] * probe.r0.select(1, t));
  }
  check_close(r.h, ref[T - 1], 1e-12, 1e-12);
  check_close(r.c, ref[T], 1e-12, 1e-12);
  loss.backward();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    INFO("input ", i);
    check_close(grads[i], inputs[i].grad(), 1e-10, 1e-12);
  }
}

TEST_CASE("lstm gradcheck: every input, every output") {
  Generator gen(3);
  const std::int64_t B = 2, T = 3, I = 3, H = 2;
  const Probe probe(B, T, H, gen);
  const Tensor x = param({B, T, I}, gen), w_ih = param({I, 4 * H}, gen), w_hh = param({H, 4 * H}, gen);
  const Tensor bias = param({4 * H}, gen), h0 = param({B, H}, gen), c0 = param({B, H}, gen);
  RECSYS_CHECK_GRADCHECK(
      [&](const autograd::TensorList& in) { return probe(lstm(in[0], in[1], in[2], in[3], in[4], in[5])); },
      {x, w_ih, w_hh, bias, h0, c0});
}

TEST_CASE("lstm gradcheck: strided inputs, PyTorch-layout weights, no bias or state") {
  Generator gen(4);
  const std::int64_t B = 2, T = 3, I = 4, H = 3;
  const Probe probe(B, T, H, gen);
  const Tensor x_tb = param({T, B, I}, gen);           // time-major storage: x is a transposed view
  const Tensor w_ih_pt = param({4 * H, I}, gen);       // PyTorch's (4H, I); we pass its transpose
  const Tensor w_hh_pt = param({4 * H, H}, gen);
  RECSYS_CHECK_GRADCHECK(
      [&](const autograd::TensorList& in) {
        return probe(lstm(in[0].transpose(0, 1), in[1].t(), in[2].t()));
      },
      {x_tb, w_ih_pt, w_hh_pt});
}

TEST_CASE("lstm gradcheck: gradients through output only, h only, c only") {
  Generator gen(5);
  const std::int64_t B = 3, T = 4, I = 2, H = 3;
  const Tensor x = param({B, T, I}, gen), w_ih = param({I, 4 * H}, gen), w_hh = param({H, 4 * H}, gen);
  const Tensor bias = param({4 * H}, gen), h0 = param({B, H}, gen), c0 = param({B, H}, gen);
  const autograd::TensorList all{x, w_ih, w_hh, bias, h0, c0};
  RECSYS_CHECK_GRADCHECK(
      [](const autograd::TensorList& in) { return lstm(in[0], in[1], in[2], in[3], in[4], in[5]).output; }, all);
  RECSYS_CHECK_GRADCHECK(
      [](const autograd::TensorList& in) { return lstm(in[0], in[1], in[2], in[3], in[4], in[5]).h; }, all);
  RECSYS_CHECK_GRADCHECK(
      [](const autograd::TensorList& in) { return lstm(in[0], in[1], in[2], in[3], in[4], in[5]).c; }, all);
}

TEST_CASE("lstm gradcheck: only some inputs require grad") {
  Generator gen(6);
  const std::int64_t B = 2, T = 3, I = 3, H = 2;
  const Probe probe(B, T, H, gen);
  const Tensor x = randn({B, T, I}, gen, f64), w_ih = randn({I, 4 * H}, gen, f64), w_hh = randn({H, 4 * H}, gen, f64);
  const Tensor bias = randn({4 * H}, gen, f64), h0 = randn({B, H}, gen, f64), c0 = randn({B, H}, gen, f64);
  const std::vector<Tensor> all{x, w_ih, w_hh, bias, h0, c0};
  for (std::size_t k = 0; k < all.size(); ++k) {
    INFO("only input ", k, " requires grad");
    const Tensor leaf = all[k].clone().set_requires_grad();
    RECSYS_CHECK_GRADCHECK(
        [&](const autograd::TensorList& in) {
          std::vector<Tensor> a = all;
          a[k] = in[0];
          return probe(lstm(a[0], a[1], a[2], a[3], a[4], a[5]));
        },
        {leaf});
  }
}

TEST_CASE("lstm: no-grad forward equals the recorded forward, and retain_graph gives the same gradients twice") {
  Generator gen(7);
  const std::int64_t B = 4, T = 5, I = 3, H = 7;
  const Tensor x = param({B, T, I}, gen), w_ih = param({I, 4 * H}, gen), w_hh = param({H, 4 * H}, gen);
  LstmResult plain;
  {
    NoGradGuard no_grad;
    plain = lstm(x, w_ih, w_hh);
    CHECK_FALSE(plain.output.requires_grad());
  }
  const LstmResult r = lstm(x, w_ih, w_hh);
  CHECK(r.output.grad_fn() == r.h.grad_fn());  // one node, three outputs
  CHECK(r.h.output_nr() == 1);
  CHECK(bitwise_equal(plain.output, r.output));
  CHECK(bitwise_equal(plain.h, r.h));
  CHECK(bitwise_equal(plain.c, r.c));
  const Tensor loss = sum(r.output) + sum(r.c);
  loss.backward({}, true);
  const Tensor first = w_hh.grad().clone();
  w_hh.set_grad(Tensor());
  loss.backward();
  CHECK(bitwise_equal(first, w_hh.grad()));
}

TEST_CASE("lstm inference path: chunked and whole input projections give the recorded forward's bits") {
  // B = 64 with H = 128 on 1 thread projects the input 8 steps at a time (detail::kLstmInferChunkFloats);
  // two bands of 32 rows (2 threads), B = 5 and B = 1 keep one GEMM over all steps.
  Generator gen(13);
  const std::int64_t T = 20, I = 16, H = 128;
  const Tensor w_ih = randn({I, 4 * H}, gen) * 0.2, w_hh = randn({H, 4 * H}, gen) * 0.1;
  const Tensor w_ih_rg = w_ih.clone().set_requires_grad(), bias = randn({4 * H}, gen) * 0.1;
  const int saved = num_threads();
  for (std::int64_t B : {64, 5, 1})
    for (int threads : {1, 2})
      for (bool state : {false, true}) {
        INFO("B ", B, " threads ", threads, " h0/c0 ", state);
        set_num_threads(threads);
        const Tensor x = randn({B, T, I}, gen);
        const Tensor h0 = state ? randn({B, H}, gen) : Tensor(), c0 = state ? randn({B, H}, gen) : Tensor();
        const Tensor c0_before = state ? c0.clone() : Tensor();
        const LstmResult recorded = lstm(x, w_ih_rg, w_hh, bias, h0, c0);
        REQUIRE(recorded.output.requires_grad());
        NoGradGuard no_grad;
        const LstmResult inferred = lstm(x, w_ih, w_hh, bias, h0, c0);
        CHECK(bitwise_equal(inferred.output, recorded.output));
        CHECK(bitwise_equal(inferred.h, recorded.h));
        CHECK(bitwise_equal(inferred.c, recorded.c));
        const LstmResult last_only = lstm(x, w_ih, w_hh, bias, h0, c0, /*need_sequence=*/false);
        CHECK_FALSE(last_only.output.defined());
        CHECK(bitwise_equal(last_only.h, recorded.h));
        CHECK(bitwise_equal(last_only.c, recorded.c));
        if (state) CHECK(bitwise_equal(c0, c0_before));  // c0 seeds the running state, which is a copy
      }
  set_num_threads(saved);
}

TEST_CASE("lstm: modifying a saved input before backward is an error") {
  Generator gen(8);
  const Tensor x = param({2, 3, 2}, gen), w_ih = param({2, 8}, gen), w_hh = param({2, 8}, gen);
  const Tensor loss = sum(lstm(x, w_ih, w_hh).output);
  {
    NoGradGuard no_grad;
    w_hh.fill_(0.5);
  }
  CHECK_THROWS_WITH_AS(loss.backward(), doctest::Contains("lstm: a tensor saved for backward was modified in place"),
                       Error);
}

TEST_CASE("lstm errors") {
  const Tensor x = zeros({2, 3, 5}), w_ih = zeros({5, 8}), w_hh = zeros({2, 8});
  CHECK_THROWS_WITH_AS(lstm(Tensor(), w_ih, w_hh), "lstm: x is an undefined tensor", Error);
  CHECK_THROWS_WITH_AS(lstm(arange(30).view({2, 3, 5}), w_ih, w_hh), "lstm: x must be float32 or float64, got int64",
                       Error);
  CHECK_THROWS_WITH_AS(lstm(zeros({6, 5}), w_ih, w_hh),
                       "lstm: x must have 3 dimensions (batch, time, input_size), got shape [6, 5]", Error);
  CHECK_THROWS_WITH_AS(lstm(x, zeros({40}), w_hh),
                       "lstm: w_ih must have 2 dimensions (input_size, 4 * hidden_size), got shape [40]", Error);
  CHECK_THROWS_WITH_AS(lstm(x, w_ih, zeros({1, 2, 8})),
                       "lstm: w_hh must have 2 dimensions (hidden_size, 4 * hidden_size), got shape [1, 2, 8]", Error);
  CHECK_THROWS_WITH_AS(lstm(x, w_ih, zeros({2, 6})),
                       "lstm: w_hh has shape [2, 6]; it must be (hidden_size, 4 * hidden_size) with hidden_size >= 1",
                       Error);
  CHECK_THROWS_WITH_AS(lstm(x, w_ih, zeros({0, 0})), doctest::Contains("with hidden_size >= 1"), Error);
  CHECK_THROWS_WITH_AS(lstm(x, zeros({4, 8}), w_hh),
                       "lstm: w_ih has shape [4, 8] but x has shape [2, 3, 5] and w_hh has shape [2, 8], so w_ih must "
                       "be [5, 8] (input_size, 4 * hidden_size)",
                       Error);
  CHECK_THROWS_WITH_AS(lstm(x, zeros({5, 12}), w_hh), doctest::Contains("so w_ih must be [5, 8]"), Error);
  CHECK_THROWS_WITH_AS(lstm(zeros({2, 0, 5}), w_ih, w_hh),
                       "lstm: x has shape [2, 0, 5]; the sequence needs at least one time step", Error);
  CHECK_THROWS_WITH_AS(lstm(x, w_ih, w_hh, zeros({2, 4})), "lstm: bias has shape [2, 4], expected [8] (4 * hidden_size)",
                       Error);
  CHECK_THROWS_WITH_AS(lstm(x, w_ih, w_hh, zeros({7})), doctest::Contains("bias has shape [7]"), Error);
  CHECK_THROWS_WITH_AS(lstm(x, w_ih, w_hh, {}, zeros({3, 2})),
                       "lstm: h0 has shape [3, 2], expected [2, 2] (batch, hidden_size)", Error);
  CHECK_THROWS_WITH_AS(lstm(x, w_ih, w_hh, {}, {}, zeros({2})),
                       "lstm: c0 has shape [2], expected [2, 2] (batch, hidden_size)", Error);
  CHECK_THROWS_WITH_AS(lstm(x, w_ih.to(DType::float64), w_hh), "lstm: x is float32 but w_ih is float64", Error);
  CHECK_THROWS_WITH_AS(lstm(x, w_ih, w_hh, zeros({8}, DType::float64)), "lstm: x is float32 but bias is float64",
                       Error);
  {
    FakeCudaMemory fake;
    const Tensor w_hh_gpu = Tensor::empty({2, 8}, Device::cuda(0));
    const Tensor c0_gpu = Tensor::empty({2, 2}, Device::cuda(0));
    CHECK_THROWS_WITH_AS(lstm(x, w_ih, w_hh_gpu), "lstm: x is on cpu but w_hh is on cuda:0", Error);
    CHECK_THROWS_WITH_AS(lstm(x, w_ih, w_hh, {}, {}, c0_gpu), "lstm: x is on cpu but c0 is on cuda:0", Error);
  }
}

TEST_CASE("lstm: bitwise identical results for 1 and 2 threads") {
  // Sizes big enough that the cell and the GEMMs go parallel, and odd enough to leave vector tails.
  Generator gen(9);
  const std::int64_t B = 64, T = 5, I = 24, H = 70;
  const Tensor x = randn({B, T, I}, gen), w_ih = randn({I, 4 * H}, gen) * 0.2, w_hh = randn({H, 4 * H}, gen) * 0.2;
  const Tensor bias = randn({4 * H}, gen), h0 = randn({B, H}, gen), c0 = randn({B, H}, gen);
  const Probe probe(B, T, H, gen, DType::float32);
  auto run = [&](int threads) {
    set_num_threads(threads);
    std::vector<Tensor> in{x.clone(), w_ih.clone(), w_hh.clone(), bias.clone(), h0.clone(), c0.clone()};
    for (Tensor& t : in) t.set_requires_grad();
    const LstmResult r = lstm(in[0], in[1], in[2], in[3], in[4], in[5]);
    probe(r).backward();
    std::vector<Tensor> out{r.output, r.h, r.c};
    for (const Tensor& t : in) out.push_back(t.grad());
    return out;
  };
  const int saved = num_threads();
  const std::vector<Tensor> one = run(1), two = run(2);
  set_num_threads(saved);
  for (std::size_t i = 0; i < one.size(); ++i) {
    INFO("result ", i);
    CHECK(bitwise_equal(one[i], two[i]));
  }
}

TEST_CASE("lstm float32 agrees with float64") {
  Generator gen(10);
  const std::int64_t B = 5, T = 20, I = 16, H = 33;
  const Tensor x = randn({B, T, I}, gen, f64), w_ih = randn({I, 4 * H}, gen, f64) * 0.3;
  const Tensor w_hh = randn({H, 4 * H}, gen, f64) * 0.3, bias = randn({4 * H}, gen, f64);
  auto as32 = [](const Tensor& t) { return t.to(DType::float32); };
  const LstmResult d = lstm(x, w_ih, w_hh, bias);
  const LstmResult f = lstm(as32(x), as32(w_ih), as32(w_hh), as32(bias));
  check_close(f.output, d.output, 1e-5, 1e-6);
  check_close(f.c, d.c, 1e-5, 1e-6);
}

TEST_CASE("lstm float activations are accurate to a few ulp") {
  double worst_exp = 0, worst_sig = 0, worst_tanh = 0;
  auto probe = [&](float v) {
    const double xd = v;
    if (xd >= -87 && xd <= 88) worst_exp = std::max(worst_exp, ulps(cpu::vmath::exp(v), std::exp(xd)));
    const double sig = 1 / (1 + std::exp(-xd));
    if (sig > 1e-37) worst_sig = std::max(worst_sig, ulps(cpu::vmath::sigmoid(v), sig));
    worst_tanh = std::max(worst_tanh, ulps(cpu::vmath::tanh(v), std::tanh(xd)));
  };
  for (float v = -90.0f; v <= 90.0f; v += 0.00137f) probe(v);
  for (float v = 1e-30f; v < 100.0f; v *= 1.0137f) {
    probe(v);
    probe(-v);
  }
  for (float v : {0.625f, std::nextafter(0.625f, 0.0f), -0.625f, 0.0f, -0.0f, 88.0f, -87.0f, 9.1f, -9.1f}) probe(v);
  // tanh's worst cases are scattered rounding accidents (scripts/fit_tanh.py): a dense walk over the
  // float bit patterns of [1e-3, 9.5], about 330k of them, where the rational form does all its work.
  for (std::uint32_t b = std::bit_cast<std::uint32_t>(1e-3f); std::bit_cast<float>(b) < 9.5f; b += 797)
    probe(std::bit_cast<float>(b));
  MESSAGE("worst ulps: exp ", worst_exp, ", sigmoid ", worst_sig, ", tanh ", worst_tanh);
  CHECK(worst_exp <= 2);
  CHECK(worst_sig <= 4);
  CHECK(worst_tanh <= 6);

  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  CHECK(cpu::vmath::sigmoid(inf) == 1.0f);
  CHECK(cpu::vmath::sigmoid(-inf) < 1e-37f);
  CHECK(cpu::vmath::sigmoid(-inf) >= 0.0f);
  CHECK(cpu::vmath::tanh(inf) == 1.0f);
  CHECK(cpu::vmath::tanh(-inf) == -1.0f);
  CHECK(cpu::vmath::tanh(1e-30f) == 1e-30f);
  CHECK(std::signbit(cpu::vmath::tanh(-0.0f)));
  float highest = 0, lowest = 0;  // never outside [-1, 1], even where rounding pushes up
  for (float v = 0.0f; v < 12.0f; v += 0.001f) {
    highest = std::max(highest, cpu::vmath::tanh(v));
    lowest = std::min(lowest, cpu::vmath::tanh(-v));
  }
  CHECK(highest == 1.0f);
  CHECK(lowest == -1.0f);
  CHECK(std::isnan(cpu::vmath::exp(nan)));
  CHECK(std::isnan(cpu::vmath::sigmoid(nan)));
  CHECK(std::isnan(cpu::vmath::tanh(nan)));
}

TEST_CASE("lstm cell kernels agree across the instruction sets this CPU has") {
  using namespace cpu::lstm_detail;
  std::vector<CellIsa> isas{CellIsa::base};
  if (best_cell_isa() != CellIsa::base) isas.push_back(CellIsa::avx2);
  if (best_cell_isa() == CellIsa::avx512) isas.push_back(CellIsa::avx512);
  MESSAGE("cell kernels tested: ", isas.size(), " (best: ", std::string(cpu::lstm_cell_isa_name()), ")");
  Generator gen(12);
  const std::int64_t B = 3, H = 37;  // H leaves vector tails
  const Tensor pre = randn({B, 4 * H}, gen) * 4.0, bias = randn({4 * H}, gen), c_prev = randn({B, H}, gen) * 2.0;
  const Tensor dh = randn({B, H}, gen), dout = randn({B, H}, gen), dc = randn({B, H}, gen);
  std::vector<std::vector<Tensor>> results;
  for (CellIsa isa : isas) {
    Tensor gates = pre.clone(), c = empty({B, H}), tc = empty({B, H}), h = empty({B, H}), hc = empty({B, H});
    LstmCellForwardArgs<float> f;
    f.batch = B;
    f.hidden = H;
    f.gates = gates.data<float>();
    f.ld_gates = 4 * H;
    f.bias = bias.data<float>();
    f.c_prev = c_prev.data<float>();
    f.ld_c_prev = H;
    f.c = c.data<float>();
    f.tanh_c = tc.data<float>();
    f.h = h.data<float>();
    f.h_copy = hc.data<float>();
    f.ld_h_copy = H;
    f.ld_state = H;
    forward_kernel<float>(isa)(f, 0, B);
    CHECK(bitwise_equal(h, hc));
    Tensor dgates = empty({B, 4 * H}), dc_io = dc.clone();
    LstmCellBackwardArgs<float> b;
    b.batch = B;
    b.hidden = H;
    b.gates = gates.data<float>();
    b.ld_gates = 4 * H;
    b.c_prev = c_prev.data<float>();
    b.ld_c_prev = H;
    b.tanh_c = tc.data<float>();
    b.ld_tanh_c = H;
    b.grad_out = dout.data<float>();
    b.ld_grad_out = H;
    b.grad_h = dh.data<float>();
    b.grad_c = dc_io.data<float>();
    b.grad_gates = dgates.data<float>();
    b.ld_grad_gates = 4 * H;
    backward_kernel<float>(isa)(b, 0, B);
    // The inference cell: the same c and h, bit for bit, from the same pre-activations.
    Tensor c_run = c_prev.clone(), h_run = empty({B, H}), pre_run = pre.clone();  // the cell clobbers its gates
    LstmCellInferArgs<float> n;
    n.batch = B;
    n.hidden = H;
    n.gates = pre_run.data<float>();
    n.ld_gates = 4 * H;
    n.bias = bias.data<float>();
    n.c = c_run.data<float>();
    n.h = h_run.data<float>();
    infer_kernel<float>(isa)(n, 0, B);
    CHECK(bitwise_equal(c_run, c));
    CHECK(bitwise_equal(h_run, h));
    results.push_back({gates, c, tc, h, dgates, dc_io});
  }
  for (std::size_t k = 1; k < results.size(); ++k)
    for (std::size_t i = 0; i < results[0].size(); ++i) {
      INFO("isa ", k, " tensor ", i);
      check_close(results[k][i], results[0][i], 1e-6, 1e-6);
    }
}

TEST_CASE("lstm matches torch.nn.LSTM (golden fixtures)") {
  for (const char* name : {"small", "noinit", "long"}) {
    const std::string path = std::string(RECSYS_TEST_FIXTURES) + "/ops/lstm_" + name + ".safetensors";
    INFO("fixture ", path);
    REQUIRE(std::filesystem::exists(path));
    const NamedTensors file = io::load_safetensors(path);
    auto get = [&](const std::string& key) {
      for (const auto& [k, v] : file)
        if (k == key) return v;
      return Tensor();
    };
    for (DType dt : {DType::float32, DType::float64}) {
      INFO("dtype ", dtype_name(dt));
      // float64 runs the same float32 inputs exactly, so it must match torch's float64 to rounding.
      const double rtol = dt == DType::float32 ? 1e-5 : 1e-10, atol = dt == DType::float32 ? 1e-6 : 1e-12;
      auto leaf = [&](const std::string& key) {
        Tensor t = get(key);
        if (t.defined()) t = t.to(dt).detach().set_requires_grad();  // a fresh leaf per run
        return t;
      };
      const Tensor x = leaf("x"), w_ih = leaf("w_ih"), w_hh = leaf("w_hh"), bias = leaf("bias"), h0 = leaf("h0"),
                   c0 = leaf("c0");
      const LstmResult r = lstm(x, w_ih, w_hh, bias, h0, c0);
      check_close(r.output, get("expected_output"), rtol, atol);
      check_close(r.h, get("expected_h"), rtol, atol);
      check_close(r.c, get("expected_c"), rtol, atol);
      autograd::TensorList roots, seeds;
      const Tensor outs[3] = {r.output, r.h, r.c};
      const char* seed_names[3] = {"grad_output", "grad_h", "grad_c"};
      for (int i = 0; i < 3; ++i)
        if (get(seed_names[i]).defined()) {
          roots.push_back(outs[i]);
          seeds.push_back(get(seed_names[i]).to(dt));
        }
      autograd::backward(roots, seeds);
      const std::pair<const char*, Tensor> grads[] = {{"x", x},       {"w_ih", w_ih}, {"w_hh", w_hh},
                                                      {"bias", bias}, {"h0", h0},     {"c0", c0}};
      for (const auto& [key, t] : grads) {
        INFO("gradient of ", key);
        const Tensor expected = get(std::string("expected_") + key + "_grad");
        CHECK(expected.defined() == t.defined());
        if (t.defined()) check_close(t.grad(), expected, rtol, atol);
      }
    }
  }
}
