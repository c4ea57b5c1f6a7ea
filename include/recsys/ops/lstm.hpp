// recsys/ops/lstm.hpp — lstm(x, w_ih, w_hh, bias, h0, c0): a whole LSTM layer over a sequence, with backward through time.
#pragma once

#include <algorithm>
#include <cstdint>

#include "recsys/autograd/function.hpp"
#include "recsys/core/dispatch.hpp"
#include "recsys/core/factory.hpp"
#include "recsys/core/tensor.hpp"
#include "recsys/cpu/lstm.hpp"
#include "recsys/ops/checks.hpp"
#include "recsys/ops/copy.hpp"
#include "recsys/ops/matmul.hpp"

namespace recsys {

/// What lstm() returns. The three tensors are outputs of one autograd node, so a loss may use any of them.
struct LstmResult {
  Tensor output;  // (B, T, H): h_t for every step
  Tensor h;       // (B, H): the last hidden state
  Tensor c;       // (B, H): the last cell state
};

/// The fused cell forward of one time step (gate activations, c_t, tanh(c_t), h_t).
template <class T>
inline KernelSlot<void(const LstmCellForwardArgs<T>&)> lstm_cell_forward_slot{"lstm_cell_forward",
                                                                              &cpu::lstm_cell_forward<T>};
/// The fused cell backward of one time step (gate gradients, dL/dc_{t-1}, bias gradient).
template <class T>
inline KernelSlot<void(const LstmCellBackwardArgs<T>&)> lstm_cell_backward_slot{"lstm_cell_backward",
                                                                                &cpu::lstm_cell_backward<T>};
/// The whole recurrence in one call, forward or backward (cpu/lstm.hpp, LstmSequence*Args). A backend
/// returns false when it does not take the call (the CPU never does; CUDA only when
/// cuda::set_lstm_recurrence(persistent) chose it and the layer fits on chip); the op then runs the
/// steps one by one through the two slots above.
template <class T>
inline KernelSlot<bool(const LstmSequenceForwardArgs<T>&)> lstm_sequence_forward_slot{
    "lstm_sequence_forward", [](const LstmSequenceForwardArgs<T>&) { return false; }};
template <class T>
inline KernelSlot<bool(const LstmSequenceBackwardArgs<T>&)> lstm_sequence_backward_slot{
    "lstm_sequence_backward", [](const LstmSequenceBackwardArgs<T>&) { return false; }};

namespace detail {

/// A GEMM operand: a row-major matrix at `data` with leading dimension `ld`, read transposed when `trans`.
template <class T>
struct LstmOperand {
  const T* data;
  std::int64_t ld;
  bool trans;
};

/// c (m × n, leading dimension ldc) = a · b + beta * c, where a reads as m × k and b as k × n.
template <class T>
void lstm_gemm(Device device, std::int64_t m, std::int64_t n, std::int64_t k, LstmOperand<T> a, LstmOperand<T> b,
               T* c, std::int64_t ldc, T beta) {
  GemmArgs<T> p;
  p.m = m;
  p.n = n;
  p.k = k;
  p.a = a.data;
  p.lda = a.ld;
  p.trans_a = a.trans;
  p.b = b.data;
  p.ldb = b.ld;
  p.trans_b = b.trans;
  p.c = c;
  p.ldc = ldc;
  p.beta = beta;
  gemm_slot<T>(device, p);
}

/// A weight (already a valid matrix operand) read as itself or, with `transpose`, as its transpose.
template <class T>
LstmOperand<T> lstm_weight(const Tensor& w, bool transpose) {
  MatrixOperand o;
  matrix_operand(w, o);
  return {w.data<T>(), o.ld, o.transposed != transpose};
}

/// Gate pre-activations the inference path keeps at once, in floats (1 MiB: the chunk stays in L2
/// between the input projection that writes it and the recurrent GEMM and cell that read it).
inline constexpr std::int64_t kLstmInferChunkFloats = std::int64_t{1} << 18;
/// Fewest band rows for which the inference path projects the input a chunk of steps at a time (one
/// GEMM per step, m = rows); smaller bands keep one GEMM over all their rows and steps.
inline constexpr std::int64_t kLstmInferChunkMinRows = 64;

/// lstm() for a call that records no gradient, on the CPU: the same arithmetic as the training forward
/// (the same bits), but nothing is kept for backward. c and h are running states updated in place and
/// the input projection is formed a chunk of steps at a time, so the gate buffer stays in cache
/// instead of streaming B·T·4H floats through memory three times. With `need_sequence` false the
/// (B, T, H) output is not written and comes back undefined.
inline LstmResult lstm_inference(const Tensor& x, const Tensor& wih, const Tensor& whh, const Tensor& bias,
                                 const Tensor& h0, const Tensor& c0, bool need_sequence) {
  const std::int64_t B = x.size(0), T = x.size(1), I = x.size(2), H = whh.size(0), G = 4 * H;
  const TensorOptions opts{x.dtype(), x.device()};
  const std::int64_t bands = cpu::lstm_band_count(B), widest = (B + bands - 1) / bands;
  const bool chunked = B / bands >= kLstmInferChunkMinRows;
  const std::int64_t steps = chunked ? std::clamp<std::int64_t>(kLstmInferChunkFloats / (widest * G), 1, T) : T;
  Tensor gates = Tensor::empty({B, steps, G}, opts);
  Tensor h = Tensor::empty({B, H}, opts);
  Tensor c = c0.defined() ? c0.contiguous().clone() : zeros({B, H}, opts);
  Tensor output = need_sequence ? Tensor::empty({B, T, H}, opts) : Tensor();
  const Tensor bias_c = bias.defined() ? bias.contiguous() : zeros({G}, opts);
  visit_floating(x.dtype(), "lstm", [&]<class Real>() {
    const LstmOperand<Real> w_in = lstm_weight<Real>(wih, false), w_rec = lstm_weight<Real>(whh, false);
    const Real* xp = x.data<Real>();
    const Real* h0p = h0.defined() ? h0.data<Real>() : nullptr;
    Real* out = need_sequence ? output.data<Real>() : nullptr;
    cpu::lstm_row_bands(B, [&](std::int64_t r0, std::int64_t r1) {
      const std::int64_t rows = r1 - r0;
      Real* gp = gates.data<Real>() + r0 * steps * G;
      Real* hp = h.data<Real>() + r0 * H;
      LstmCellInferArgs<Real> a;
      a.batch = rows;
      a.hidden = H;
      a.bias = bias_c.data<Real>();
      a.c = c.data<Real>() + r0 * H;
      a.h = hp;
      a.ld_h_copy = T * H;
      for (std::int64_t t0 = 0; t0 < T; t0 += steps) {
        const std::int64_t n = std::min(steps, T - t0);
        // Steps [t0, t0 + n) of the input projection. Chunked: one (rows × I)·(I × 4H) GEMM per step,
        // step-major (n, rows, 4H). Otherwise (n = T): one GEMM over all rows and steps, row-major.
        GemmArgs<Real> p;
        p.m = chunked ? rows : rows * T;
        p.n = G;
        p.k = I;
        p.a = xp + (r0 * T + t0) * I;
        p.lda = chunked ? T * I : I;
        p.stride_a = I;
        p.b = w_in.data;
        p.ldb = w_in.ld;
        p.trans_b = w_in.trans;
        p.c = gp;
        p.ldc = G;
        p.stride_c = rows * G;
        p.batch = chunked ? n : 1;
        gemm_slot<Real>(x.device(), p);
        for (std::int64_t t = t0; t < t0 + n; ++t) {
          Real* g = chunked ? gp + (t - t0) * rows * G : gp + t * G;
          const std::int64_t ld = chunked ? G : T * G;
          if (t > 0) lstm_gemm<Real>(x.device(), rows, G, H, {hp, H, false}, w_rec, g, ld, Real(1));
          else if (h0p) lstm_gemm<Real>(x.device(), rows, G, H, {h0p + r0 * H, H, false}, w_rec, g, ld, Real(1));
          a.gates = g;
          a.ld_gates = ld;
          a.h_copy = out ? out + r0 * T * H + t * H : nullptr;
          cpu::lstm_cell_infer(a);
        }
      }
    });
  });
  return {output, h, c};
}

inline void check_lstm_state(const char* what, const Tensor& s, std::int64_t batch, std::int64_t hidden) {
  if (!s.defined()) return;
  RECSYS_CHECK(s.dim() == 2 && s.size(0) == batch && s.size(1) == hidden, "lstm: ", what, " has shape ", s.shape(),
               ", expected [", batch, ", ", hidden, "] (batch, hidden_size)");
}

}  // namespace detail

/// A whole LSTM layer over x (B, T, I), gate columns in the order i, f, g, o (as in Keras and PyTorch):
///   i, f, o = σ(x_t·w_ih + h_{t-1}·w_hh + bias),  g = tanh(same),  c_t = f*c_{t-1} + i*g,  h_t = o*tanh(c_t).
/// w_ih: (I, 4H) (Keras's kernel; PyTorch's weight_ih transposed), w_hh: (H, 4H), bias: (4H) or undefined
/// (PyTorch's b_ih + b_hh), h0 and c0: (B, H) or undefined for zeros. `need_sequence` false says the
/// caller reads only h and c: a call that records no gradient then skips the output (left undefined).
///
/// The input projection of all steps is one GEMM; each step adds one (B × H)·(H × 4H) GEMM and one fused
/// pass for the gates and the cell update. Backward runs the same way in reverse, then forms the
/// weight gradients as single GEMMs over all B·T rows. Batch rows never interact, so on the CPU each
/// thread carries its own band of rows through every step (cpu::lstm_row_bands).
inline LstmResult lstm(const Tensor& x, const Tensor& w_ih, const Tensor& w_hh, const Tensor& bias = {},
                       const Tensor& h0 = {}, const Tensor& c0 = {}, bool need_sequence = true) {
  detail::check_floating("lstm", "x", x);
  detail::check_dim("lstm", "x", x, 3, "(batch, time, input_size)");
  detail::check_dim("lstm", "w_ih", w_ih, 2, "(input_size, 4 * hidden_size)");
  detail::check_dim("lstm", "w_hh", w_hh, 2, "(hidden_size, 4 * hidden_size)");
  detail::check_same("lstm", {{"x", &x}, {"w_ih", &w_ih}, {"w_hh", &w_hh}, {"bias", &bias}, {"h0", &h0}, {"c0", &c0}});
  const std::int64_t B = x.size(0), T = x.size(1), I = x.size(2), H = w_hh.size(0), G = 4 * H;
  RECSYS_CHECK(H >= 1 && w_hh.size(1) == G, "lstm: w_hh has shape ", w_hh.shape(),
               "; it must be (hidden_size, 4 * hidden_size) with hidden_size >= 1");
  RECSYS_CHECK(w_ih.size(0) == I && w_ih.size(1) == G, "lstm: w_ih has shape ", w_ih.shape(), " but x has shape ",
               x.shape(), " and w_hh has shape ", w_hh.shape(), ", so w_ih must be [", I, ", ", G,
               "] (input_size, 4 * hidden_size)");
  RECSYS_CHECK(T >= 1, "lstm: x has shape ", x.shape(), "; the sequence needs at least one time step");
  if (bias.defined())
    RECSYS_CHECK(bias.dim() == 1 && bias.size(0) == G, "lstm: bias has shape ", bias.shape(), ", expected [", G,
                 "] (4 * hidden_size)");
  detail::check_lstm_state("h0", h0, B, H);
  detail::check_lstm_state("c0", c0, B, H);

  const Device dev = x.device();
  const TensorOptions opts{x.dtype(), dev};
  const bool record = autograd::should_record(x, w_ih, w_hh, bias, h0, c0);
  const bool need_x = x.requires_grad(), need_wih = w_ih.requires_grad(), need_whh = w_hh.requires_grad();
  const bool need_b = bias.defined() && bias.requires_grad();
  const bool need_h0 = h0.defined() && h0.requires_grad(), need_c0 = c0.defined() && c0.requires_grad();
  if (!record && dev.is_cpu()) {
    NoGradGuard no_grad;
    return detail::lstm_inference(x.contiguous(), detail::as_matrix_operand(w_ih), detail::as_matrix_operand(w_hh),
                                  bias, h0.defined() ? h0.contiguous() : Tensor(), c0, need_sequence);
  }

  // Everything below works on private buffers; the one node recorded at the end covers all of it.
  NoGradGuard no_grad;
  // Batch-major buffers, one row per (b, t): a band of batch rows [r0, r1) is one contiguous block of
  // each, and its step-t slice is r1 - r0 rows T·width apart, which the GEMMs and the cell read in place.
  const Tensor x2 = x.contiguous().view({B * T, I});
  const Tensor wih = detail::as_matrix_operand(w_ih), whh = detail::as_matrix_operand(w_hh);
  const Tensor h0c = h0.defined() ? h0.contiguous() : Tensor();
  const Tensor c0c = c0.defined() ? c0.contiguous() : zeros({B, H}, opts);
  const Tensor bias_c = bias.defined() ? bias.contiguous() : zeros({G}, opts);  // the cell adds it
  Tensor gates = Tensor::empty({B, T, G}, opts);  // pre-activations, then the activations backward needs
  Tensor output = Tensor::empty({B, T, H}, opts), cs = Tensor::empty({B, T, H}, opts);
  Tensor tanh_cs = Tensor::empty({B, T, H}, opts);
  // [h_{t-1}, 1] at row (b, t): one GEMM against the gate gradients then gives dL/dw_hh and, in its
  // last row, dL/dbias (the column sums). Only kept when one of them is needed.
  Tensor hprev = record && (need_whh || need_b) ? Tensor::empty({B, T, H + 1}, opts) : Tensor();
  if (hprev.defined()) {
    if (h0c.defined()) detail::copy_into(hprev.select(1, 0).slice(1, 0, H), h0c);
    else hprev.select(1, 0).slice(1, 0, H).zero_();
    hprev.select(2, H).fill_(1.0);
  }

  visit_floating(x.dtype(), "lstm", [&]<class Real>() {
    const detail::LstmOperand<Real> w_in = detail::lstm_weight<Real>(wih, false);
    const detail::LstmOperand<Real> w_rec = detail::lstm_weight<Real>(whh, false);
    const Real* xp = x2.data<Real>();
    const Real* h0p = h0c.defined() ? h0c.data<Real>() : nullptr;
    const Real* c0p = c0c.data<Real>();
    const Real* bp = bias_c.data<Real>();
    Real* gp = gates.data<Real>();
    Real* hp = output.data<Real>();
    Real* cp = cs.data<Real>();
    Real* tp = tanh_cs.data<Real>();
    Real* hprev_p = hprev.defined() ? hprev.data<Real>() : nullptr;
    const std::int64_t ld_state = T * H, ld_gates = T * G, ld_hprev = T * (H + 1);
    // Batch rows [r0, r1) through all T steps.
    auto run_rows = [&](std::int64_t r0, std::int64_t r1) {
      const std::int64_t rows = r1 - r0;
      Real* g = gp + r0 * ld_gates;
      Real* h = hp + r0 * ld_state;
      // The input projection of every step at once: (rows·T × I)·(I × 4H).
      detail::lstm_gemm<Real>(dev, rows * T, G, I, {xp + r0 * T * I, I, false}, w_in, g, G, Real(0));
      if (!dev.is_cpu()) {  // all steps in one call, when the backend takes it
        LstmSequenceForwardArgs<Real> s;
        s.batch = rows;
        s.steps = T;
        s.hidden = H;
        s.gates = g;
        s.ld_gates = ld_gates;
        s.step_gates = G;
        s.bias = bp;
        s.w_rec = w_rec.data;
        s.ld_w_rec = w_rec.ld;
        s.trans_w_rec = w_rec.trans;
        s.h0 = h0p ? h0p + r0 * H : nullptr;
        s.c0 = c0p + r0 * H;
        s.c = cp + r0 * ld_state;
        s.tanh_c = tp + r0 * ld_state;
        s.h = h;
        s.ld_state = ld_state;
        s.step_state = H;
        if (hprev_p && T > 1) {  // h_t is row t + 1 of [h_{t-1}, 1]
          s.h_copy = hprev_p + r0 * ld_hprev + (H + 1);
          s.ld_h_copy = ld_hprev;
          s.step_h_copy = H + 1;
        }
        if (lstm_sequence_forward_slot<Real>(dev, s)) return;
      }
      for (std::int64_t t = 0; t < T; ++t) {
        if (t > 0)
          detail::lstm_gemm<Real>(dev, rows, G, H, {h + (t - 1) * H, ld_state, false}, w_rec, g + t * G, ld_gates,
                                  Real(1));
        else if (h0p)
          detail::lstm_gemm<Real>(dev, rows, G, H, {h0p + r0 * H, H, false}, w_rec, g, ld_gates, Real(1));
        LstmCellForwardArgs<Real> a;
        a.batch = rows;
        a.hidden = H;
        a.gates = g + t * G;
        a.ld_gates = ld_gates;
        a.bias = bp;
        a.c_prev = t == 0 ? c0p + r0 * H : cp + r0 * ld_state + (t - 1) * H;
        a.ld_c_prev = t == 0 ? H : ld_state;
        a.c = cp + r0 * ld_state + t * H;
        a.tanh_c = tp + r0 * ld_state + t * H;
        a.h = h + t * H;
        a.ld_state = ld_state;
        a.h_copy = hprev_p && t + 1 < T ? hprev_p + r0 * ld_hprev + (t + 1) * (H + 1) : nullptr;
        a.ld_h_copy = ld_hprev;
        lstm_cell_forward_slot<Real>(dev, a);
      }
    };
    if (dev.is_cpu()) cpu::lstm_row_bands(B, run_rows);  // a band of rows per thread, no per-step barrier
    else run_rows(0, B);
  });
  // h and c get their own memory: views of output/cs would tie them to buffers saved for backward.
  LstmResult result{output, output.select(1, T - 1).clone(), cs.select(1, T - 1).clone()};
  if (!record) return result;

  const autograd::SavedTensor s_x(need_wih ? x2 : Tensor()), s_wih(need_x ? wih : Tensor()), s_whh(whh);
  const autograd::SavedTensor s_gates(gates), s_cs(cs), s_tanh(tanh_cs), s_c0(c0c), s_hprev(hprev);
  autograd::record(
      "lstm", {x, w_ih, w_hh, bias, h0, c0}, {result.output, result.h, result.c},
      [=](const autograd::TensorList& g) -> autograd::TensorList {
        const Tensor& gates_v = s_gates.get("lstm");
        const Tensor& cs_v = s_cs.get("lstm");
        const Tensor& tanh_v = s_tanh.get("lstm");
        const Tensor& c0_v = s_c0.get("lstm");
        const Tensor wih_v = need_x ? s_wih.get("lstm") : Tensor();
        Tensor dgates = Tensor::empty({B, T, G}, opts);
        // dh and dc are the running gradients of h_t and c_t, updated in place step by step.
        Tensor dh = g[1].defined() ? g[1].clone() : zeros({B, H}, opts);
        Tensor dc = g[2].defined() ? g[2].clone() : zeros({B, H}, opts);
        const Tensor dout = g[0].defined() ? g[0].contiguous() : Tensor();
        Tensor gx = need_x ? Tensor::empty({B, T, I}, opts) : Tensor();
        Tensor gwih = need_wih ? Tensor::empty({I, G}, opts) : Tensor();
        // Rows [lo, hi) of [dL/dw_hh; dL/dbias], the (H + 1) × 4H product of [h_{t-1}, 1]ᵀ and dgates.
        const std::int64_t lo = need_whh ? 0 : H, hi = need_b ? H + 1 : H;
        Tensor gwhh_b = hi > lo ? Tensor::empty({hi - lo, G}, opts) : Tensor();
        visit_floating(opts.dtype, "lstm", [&]<class Real>() {
          const std::int64_t ld_state = T * H, ld_gates = T * G;
          const Real* ap = gates_v.data<Real>();
          const Real* cp = cs_v.data<Real>();
          const Real* tp = tanh_v.data<Real>();
          const Real* c0p = c0_v.data<Real>();
          const Real* doutp = dout.defined() ? dout.data<Real>() : nullptr;
          const detail::LstmOperand<Real> w_in_t =
              need_x ? detail::lstm_weight<Real>(wih_v, true) : detail::LstmOperand<Real>{nullptr, 0, false};
          Real* dgp = dgates.data<Real>();
          Real* dhp = dh.data<Real>();
          Real* dcp = dc.data<Real>();
          Real* gxp = need_x ? gx.data<Real>() : nullptr;
          bool fused = false;  // all steps in one call, when the backend takes it
          if (!dev.is_cpu()) {
            const detail::LstmOperand<Real> w_rec = detail::lstm_weight<Real>(s_whh.get("lstm"), false);
            LstmSequenceBackwardArgs<Real> s;
            s.batch = B;
            s.steps = T;
            s.hidden = H;
            s.gates = ap;
            s.ld_gates = ld_gates;
            s.step_gates = G;
            s.c = cp;
            s.tanh_c = tp;
            s.ld_state = ld_state;
            s.step_state = H;
            s.c0 = c0p;
            s.grad_out = doutp;
            s.ld_grad_out = ld_state;
            s.step_grad_out = H;
            s.w_rec = w_rec.data;
            s.ld_w_rec = w_rec.ld;
            s.trans_w_rec = w_rec.trans;
            s.grad_h = dhp;
            s.grad_c = dcp;
            s.grad_gates = dgp;
            s.ld_grad_gates = ld_gates;
            s.step_grad_gates = G;
            s.need_grad_h0 = need_h0;
            fused = lstm_sequence_backward_slot<Real>(dev, s);
          }
          // w_hhᵀ as a row-major (4H × H) matrix, so the per-step GEMM reads it in place instead of
          // transposing (packing) it again at every step.
          const Tensor whh_t = fused ? Tensor() : s_whh.get("lstm").t().contiguous();
          const detail::LstmOperand<Real> w_rec_t =
              fused ? detail::LstmOperand<Real>{nullptr, 0, false} : detail::lstm_weight<Real>(whh_t, false);
          // Batch rows [r0, r1) back through all T steps (unless done above), then their input gradient.
          auto run_rows = [&](std::int64_t r0, std::int64_t r1) {
            const std::int64_t rows = r1 - r0;
            Real* dg = dgp + r0 * ld_gates;
            for (std::int64_t t = T - 1; t >= 0 && !fused; --t) {
              LstmCellBackwardArgs<Real> a;
              a.batch = rows;
              a.hidden = H;
              a.gates = ap + r0 * ld_gates + t * G;
              a.ld_gates = ld_gates;
              a.c_prev = t == 0 ? c0p + r0 * H : cp + r0 * ld_state + (t - 1) * H;
              a.ld_c_prev = t == 0 ? H : ld_state;
              a.tanh_c = tp + r0 * ld_state + t * H;
              a.ld_tanh_c = ld_state;
              a.grad_out = doutp ? doutp + r0 * ld_state + t * H : nullptr;
              a.ld_grad_out = ld_state;
              a.grad_h = dhp + r0 * H;
              a.grad_c = dcp + r0 * H;
              a.grad_gates = dg + t * G;
              a.ld_grad_gates = ld_gates;
              lstm_cell_backward_slot<Real>(dev, a);
              // dL/dh_{t-1} = dgates_t · w_hhᵀ (at t = 0 that is dL/dh0).
              if (t > 0 || need_h0)
                detail::lstm_gemm<Real>(dev, rows, H, G, {dg + t * G, ld_gates, false}, w_rec_t, dhp + r0 * H, H,
                                        Real(0));
            }
            if (gxp)
              detail::lstm_gemm<Real>(dev, rows * T, I, G, {dg, G, false}, w_in_t, gxp + r0 * T * I, I, Real(0));
          };
          if (dev.is_cpu()) cpu::lstm_row_bands(B, run_rows);
          else run_rows(0, B);
          // The weight and bias gradients sum over all B·T rows: one GEMM each (the GEMM splits the work).
          const detail::LstmOperand<Real> dgates_all{dgp, G, false};
          if (need_wih)
            detail::lstm_gemm<Real>(dev, I, G, B * T, {s_x.get("lstm").data<Real>(), I, true}, dgates_all,
                                    gwih.data<Real>(), G, Real(0));
          if (gwhh_b.defined())
            detail::lstm_gemm<Real>(dev, hi - lo, G, B * T, {s_hprev.get("lstm").data<Real>() + lo, H + 1, true},
                                    dgates_all, gwhh_b.data<Real>(), G, Real(0));
        });
        const Tensor gwhh = need_whh ? gwhh_b.slice(0, 0, H) : Tensor();
        const Tensor gb = need_b ? gwhh_b.select(0, hi - lo - 1) : Tensor();
        return {gx, gwih, gwhh, gb, need_h0 ? dh : Tensor(), need_c0 ? dc : Tensor()};
      });
  return result;
}

}  // namespace recsys
