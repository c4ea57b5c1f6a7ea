// tests/cuda_emulation/lstm_persistent_test.cpp — the persistent LSTM kernels (cuda/lstm_persistent.cuh) on emulated CUDA threads against a plain double-precision LSTM: layouts, transposed weights, several passes per block, every option.
#include "emulation.hpp"
// emulation.hpp first: it defines what the kernel header expects from CUDA.
#include "recsys/cuda/lstm_persistent.cuh"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace {

namespace lp = recsys::cuda::lstm_persistent;
using recsys::LstmSequenceBackwardArgs;
using recsys::LstmSequenceForwardArgs;

struct Case {
  int batch, hidden, steps;
  unsigned parallel_passes;  // gridDim.y: fewer than the passes makes blocks loop over several
  bool trans_w, has_h0, has_grad_out, need_grad_h0, time_major;
};

std::string describe(const Case& c, bool is_double) {
  return "B=" + std::to_string(c.batch) + " H=" + std::to_string(c.hidden) + " T=" + std::to_string(c.steps) +
         " gridDim.y=" + std::to_string(c.parallel_passes) + (c.trans_w ? " w transposed" : "") +
         (c.has_h0 ? " h0" : " no h0") + (c.has_grad_out ? " dL/dout" : " no dL/dout") +
         (c.need_grad_h0 ? " dL/dh0" : "") + (c.time_major ? " time-major" : " batch-major") +
         (is_double ? " float64" : " float32");
}

/// The inputs of one case, in double, and what a plain LSTM makes of them.
struct Reference {
  int B, H, T, G;
  std::vector<double> xproj, bias, w, h0, c0, grad_out, grad_h, grad_c;  // inputs; w is (H, 4H) row-major
  std::vector<double> act, c, tanh_c, h;                                  // forward: (B, T, 4H) and (B, T, H)
  std::vector<double> dgates, dh0, dc0;                                   // backward

  std::size_t gate(int b, int t, int n) const { return (static_cast<std::size_t>(b) * T + t) * G + n; }
  std::size_t state(int b, int t, int u) const { return (static_cast<std::size_t>(b) * T + t) * H + u; }
  double weight(int k, int n) const { return w[static_cast<std::size_t>(k) * G + n]; }

  Reference(const Case& cs, std::mt19937& rng) : B(cs.batch), H(cs.hidden), T(cs.steps), G(4 * cs.hidden) {
    std::normal_distribution<double> normal;
    auto draw = [&](std::size_t n, double scale) {
      std::vector<double> v(n);
      for (double& x : v) x = normal(rng) * scale;
      return v;
    };
    const std::size_t bh = static_cast<std::size_t>(B) * H, bth = bh * T;
    xproj = draw(bth * 4, 0.5);
    bias = draw(G, 0.1);
    w = draw(static_cast<std::size_t>(H) * G, 1.0 / std::sqrt(H));
    h0 = cs.has_h0 ? draw(bh, 1.0) : std::vector<double>(bh, 0.0);
    c0 = draw(bh, 1.0);
    grad_out = cs.has_grad_out ? draw(bth, 1.0) : std::vector<double>(bth, 0.0);
    grad_h = draw(bh, 1.0);
    grad_c = draw(bh, 1.0);
    forward();
    backward();
  }

  void forward() {
    act.assign(xproj.size(), 0.0);
    c.assign(static_cast<std::size_t>(B) * T * H, 0.0);
    tanh_c = h = c;
    auto sigmoid = [](double x) { return 1.0 / (1.0 + std::exp(-x)); };
    for (int b = 0; b < B; ++b)
      for (int t = 0; t < T; ++t)
        for (int u = 0; u < H; ++u) {
          double pre[4];
          for (int g = 0; g < 4; ++g) {
            double s = xproj[gate(b, t, g * H + u)] + bias[g * H + u];
            for (int k = 0; k < H; ++k)
              s += (t > 0 ? h[state(b, t - 1, k)] : h0[static_cast<std::size_t>(b) * H + k]) * weight(k, g * H + u);
            pre[g] = s;
          }
          const double i = sigmoid(pre[0]), f = sigmoid(pre[1]), g = std::tanh(pre[2]), o = sigmoid(pre[3]);
          const double cp = t > 0 ? c[state(b, t - 1, u)] : c0[static_cast<std::size_t>(b) * H + u];
          const std::size_t s = state(b, t, u);
          c[s] = f * cp + i * g;
          tanh_c[s] = std::tanh(c[s]);
          h[s] = o * tanh_c[s];
          act[gate(b, t, u)] = i;
          act[gate(b, t, H + u)] = f;
          act[gate(b, t, 2 * H + u)] = g;
          act[gate(b, t, 3 * H + u)] = o;
        }
  }

  void backward() {
    dgates.assign(act.size(), 0.0);
    dh0.assign(static_cast<std::size_t>(B) * H, 0.0);
    dc0 = dh0;
    for (int b = 0; b < B; ++b) {
      std::vector<double> dh(grad_h.begin() + b * H, grad_h.begin() + (b + 1) * H);
      std::vector<double> dc(grad_c.begin() + b * H, grad_c.begin() + (b + 1) * H);
      for (int t = T - 1; t >= 0; --t) {
        for (int u = 0; u < H; ++u) {
          const std::size_t s = state(b, t, u);
          const double d = dh[u] + grad_out[s];
          const double i = act[gate(b, t, u)], f = act[gate(b, t, H + u)], g = act[gate(b, t, 2 * H + u)],
                       o = act[gate(b, t, 3 * H + u)], tc = tanh_c[s];
          const double cp = t > 0 ? c[state(b, t - 1, u)] : c0[static_cast<std::size_t>(b) * H + u];
          const double dcc = dc[u] + d * o * (1 - tc * tc);
          dgates[gate(b, t, u)] = dcc * g * i * (1 - i);
          dgates[gate(b, t, H + u)] = dcc * cp * f * (1 - f);
          dgates[gate(b, t, 2 * H + u)] = dcc * i * (1 - g * g);
          dgates[gate(b, t, 3 * H + u)] = d * tc * o * (1 - o);
          dc[u] = dcc * f;
        }
        for (int k = 0; k < H; ++k) {
          double s = 0;
          for (int n = 0; n < G; ++n) s += dgates[gate(b, t, n)] * weight(k, n);
          dh[k] = s;
        }
      }
      std::copy(dh.begin(), dh.end(), dh0.begin() + b * H);
      std::copy(dc.begin(), dc.end(), dc0.begin() + b * H);
    }
  }
};

/// Worst |got - want| / (|want| + 0.1) over a comparison; NaN (unwritten memory) counts as infinite.
struct Worst {
  double value = 0;
  void add(double got, double want) {
    const double e = std::fabs(got - want) / (std::fabs(want) + 0.1);
    value = std::isnan(e) ? INFINITY : std::max(value, e);
  }
};

template <class Real>
void check_case(const Case& cs, std::mt19937& rng) {
  const Reference ref(cs, rng);
  const int B = ref.B, H = ref.H, T = ref.T, G = ref.G;
  INFO(describe(cs, sizeof(Real) == 8));
  // Operand layouts: rows (b, t) batch-major as ops/lstm.hpp keeps them, or time-major with padded rows.
  const std::int64_t ld_g = cs.time_major ? G + 4 : std::int64_t{T} * G;
  const std::int64_t step_g = cs.time_major ? std::int64_t{B} * (G + 4) : G;
  const std::int64_t ld_s = cs.time_major ? H + 2 : std::int64_t{T} * H;
  const std::int64_t step_s = cs.time_major ? std::int64_t{B} * (H + 2) : H;
  auto at_g = [&](int b, int t, int n) { return static_cast<std::size_t>(b * ld_g + t * step_g + n); };
  auto at_s = [&](int b, int t, int u) { return static_cast<std::size_t>(b * ld_s + t * step_s + u); };
  const Real nan = std::numeric_limits<Real>::quiet_NaN();
  std::vector<Real> gates(at_g(B - 1, T - 1, G - 1) + 1, nan), c(at_s(B - 1, T - 1, H - 1) + 1, nan);
  std::vector<Real> tanh_c(c.size(), nan), h(c.size(), nan), grad_out(c.size(), nan);
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t) {
      for (int n = 0; n < G; ++n) gates[at_g(b, t, n)] = static_cast<Real>(ref.xproj[ref.gate(b, t, n)]);
      for (int u = 0; u < H; ++u) grad_out[at_s(b, t, u)] = static_cast<Real>(ref.grad_out[ref.state(b, t, u)]);
    }
  // w_hh stored as (H, 4H) or as its transpose, rows padded by 3 so the leading dimension matters.
  const std::int64_t ld_w = cs.trans_w ? H + 3 : G + 3;
  std::vector<Real> w(static_cast<std::size_t>((cs.trans_w ? G : H) * ld_w), nan);
  for (int k = 0; k < H; ++k)
    for (int n = 0; n < G; ++n)
      w[static_cast<std::size_t>(cs.trans_w ? n * ld_w + k : k * ld_w + n)] = static_cast<Real>(ref.weight(k, n));
  auto real = [](const std::vector<double>& v) { return std::vector<Real>(v.begin(), v.end()); };
  const std::vector<Real> bias = real(ref.bias), h0 = real(ref.h0), c0 = real(ref.c0);
  std::vector<Real> grad_h = real(ref.grad_h), grad_c = real(ref.grad_c);
  const std::int64_t ld_copy = std::int64_t{T} * (H + 1);  // like ops/lstm.hpp's [h_{t-1}, 1] rows
  std::vector<Real> h_copy(static_cast<std::size_t>(B * ld_copy), nan);

  LstmSequenceForwardArgs<Real> f;
  f.batch = B;
  f.steps = T;
  f.hidden = H;
  f.gates = gates.data();
  f.ld_gates = ld_g;
  f.step_gates = step_g;
  f.bias = bias.data();
  f.w_rec = w.data();
  f.ld_w_rec = ld_w;
  f.trans_w_rec = cs.trans_w;
  f.h0 = cs.has_h0 ? h0.data() : nullptr;
  f.c0 = c0.data();
  f.c = c.data();
  f.tanh_c = tanh_c.data();
  f.h = h.data();
  f.ld_state = ld_s;
  f.step_state = step_s;
  if (T > 1) {
    f.h_copy = h_copy.data() + (H + 1);
    f.ld_h_copy = ld_copy;
    f.step_h_copy = H + 1;
  }
  const unsigned unit_groups = static_cast<unsigned>((H + lp::kUnits - 1) / lp::kUnits);
  const unsigned passes = static_cast<unsigned>((B + lp::kRows - 1) / lp::kRows);
  const EmulatedDim3 grid{unit_groups, std::min(cs.parallel_passes, passes), 1};
  recsys::cuda_emulation::launch(&lp::forward_kernel<Real>, f, grid, lp::kThreads, lp::forward_smem_bytes<Real>(H));

  Worst fwd, copy;
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t) {
      for (int n = 0; n < G; ++n) fwd.add(gates[at_g(b, t, n)], ref.act[ref.gate(b, t, n)]);
      for (int u = 0; u < H; ++u) {
        const std::size_t s = ref.state(b, t, u);
        fwd.add(c[at_s(b, t, u)], ref.c[s]);
        fwd.add(tanh_c[at_s(b, t, u)], ref.tanh_c[s]);
        fwd.add(h[at_s(b, t, u)], ref.h[s]);
        if (t + 1 < T) copy.add(h_copy[static_cast<std::size_t>(b * ld_copy + (t + 1) * (H + 1) + u)], ref.h[s]);
      }
    }
  const double tol = sizeof(Real) == 8 ? 1e-12 : 2e-5;
  CHECK(fwd.value <= tol);
  CHECK(copy.value <= tol);

  // Backward from the emulated forward's saved activations.
  std::vector<Real> dgates(gates.size(), nan);
  LstmSequenceBackwardArgs<Real> k;
  k.batch = B;
  k.steps = T;
  k.hidden = H;
  k.gates = gates.data();
  k.ld_gates = ld_g;
  k.step_gates = step_g;
  k.c = c.data();
  k.tanh_c = tanh_c.data();
  k.ld_state = ld_s;
  k.step_state = step_s;
  k.c0 = c0.data();
  k.grad_out = cs.has_grad_out ? grad_out.data() : nullptr;
  k.ld_grad_out = ld_s;
  k.step_grad_out = step_s;
  k.w_rec = w.data();
  k.ld_w_rec = ld_w;
  k.trans_w_rec = cs.trans_w;
  k.grad_h = grad_h.data();
  k.grad_c = grad_c.data();
  k.grad_gates = dgates.data();
  k.ld_grad_gates = ld_g;
  k.step_grad_gates = step_g;
  k.need_grad_h0 = cs.need_grad_h0;
  recsys::cuda_emulation::launch(&lp::backward_kernel<Real>, k, grid, lp::kThreads, lp::backward_smem_bytes<Real>(H));

  Worst bwd, initial;
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t)
      for (int n = 0; n < G; ++n) bwd.add(dgates[at_g(b, t, n)], ref.dgates[ref.gate(b, t, n)]);
  for (std::size_t i = 0; i < ref.dc0.size(); ++i) {
    initial.add(grad_c[i], ref.dc0[i]);
    if (cs.need_grad_h0) initial.add(grad_h[i], ref.dh0[i]);
  }
  CHECK(bwd.value <= tol);
  CHECK(initial.value <= tol);
}

}  // namespace

TEST_CASE("persistent lstm kernels, emulated on CPU threads, match a plain double-precision LSTM") {
  std::mt19937 rng(2026);
  // {B, H, T, gridDim.y, w transposed, h0, dL/dout, dL/dh0, time-major}
  const Case cases[] = {
      {1, 1, 9, 1, false, true, true, true, false},     // one row, one unit: a block mostly idle
      {7, 7, 9, 1, true, true, true, true, false},      // odd sizes, transposed weight
      {33, 33, 9, 1, false, true, true, true, false},   // a pass and one row more; 5 unit groups, the last partial
      {33, 33, 9, 2, true, false, false, false, true},  // both passes at once, time-major, no h0 or dL/dout
      {70, 9, 4, 3, false, true, true, true, true},     // three passes in parallel
      {70, 9, 4, 1, false, true, false, true, false},   // one block row loops over three passes
      {5, 20, 1, 1, true, true, true, true, false},     // a single step: no recurrence at all
      {40, 17, 5, 2, false, false, true, false, false},
      {35, 16, 6, 1, false, true, true, true, false},   // H a multiple of 4: 128-bit staging loads forward too
      {3, 130, 3, 1, false, true, true, true, false}};  // 4H = 520: backward stages 5 chunks, the last partial
  for (const Case& c : cases) check_case<float>(c, rng);
  check_case<double>({9, 12, 6, 1, true, true, true, true, true}, rng);
}
