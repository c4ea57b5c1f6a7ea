// recsys/ops/lstm.hpp — lstm(x, w_ih, w_hh, bias, h0, c0): a whole LSTM layer over a sequence, with backward through time.
#pragma once

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

inline void check_lstm_state(const char* what, const Tensor& s, std::int64_t batch, std::int64_t hidden) {
  if (!s.defined()) return;
  RECSYS_CHECK(s.dim() == 2 && s.size(0) == batch && s.size(1) == hidden, "lstm: ", what, " has shape ", s.shape(),
               ", expected [", batch, ", ", hidden, "] (batch, hidden_size)");
}

}  // namespace detail

/// A whole LSTM layer over x (B, T, I), gate columns in the order i, f, g, o (as in Keras and PyTorch):
///   i, f, o = σ(x_t·w_ih + h_{t-1}·w_hh + bias),  g = tanh(same),  c_t = f*c_{t-1} + i*g,  h_t = o*tanh(c_t).
/// w_ih: (I, 4H) (Keras's kernel; PyTorch's weight_ih transposed), w_hh: (H, 4H), bias: (4H) or undefined
/// (PyTorch's b_ih + b_hh), h0 and c0: (B, H) or undefined for zeros.
///
/// The input projection of all steps is one GEMM; each step adds one (B × H)·(H × 4H) GEMM and one fused
/// pass for the gates and the cell update. Backward runs the same way in reverse, then forms the
/// weight gradients as single GEMMs over all B·T rows.
inline LstmResult lstm(const Tensor& x, const Tensor& w_ih, const Tensor& w_hh, const Tensor& bias = {},
                       const Tensor& h0 = {}, const Tensor& c0 = {}) {
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

  // Everything below works on private buffers; the one node recorded at the end covers all of it.
  NoGradGuard no_grad;
  // Batch-major buffers, one row per (b, t): the step-t slice of each is B rows ld = T·width apart,
  // which the GEMMs and the cell read in place, and the weight gradients are one GEMM over all rows.
  const Tensor x2 = x.contiguous().view({B * T, I});
  const Tensor wih = detail::as_matrix_operand(w_ih), whh = detail::as_matrix_operand(w_hh);
  const Tensor h0c = h0.defined() ? h0.contiguous() : Tensor();
  const Tensor c0c = c0.defined() ? c0.contiguous() : zeros({B, H}, opts);
  Tensor gates = Tensor::empty({B, T, G}, opts);  // pre-activations, then the activations backward needs
  Tensor output = Tensor::empty({B, T, H}, opts), cs = Tensor::empty({B, T, H}, opts);
  Tensor tanh_cs = Tensor::empty({B, T, H}, opts);
  // h_{t-1} at row (b, t), so dL/dw_hh is one GEMM against the gate gradients; only when w_hh needs it.
  Tensor hprev = record && need_whh ? Tensor::empty({B, T, H}, opts) : Tensor();
  if (hprev.defined()) {
    if (h0c.defined()) detail::copy_into(hprev.select(1, 0), h0c);
    else hprev.select(1, 0).zero_();
  }
  if (bias.defined()) detail::copy_into(gates, bias);

  visit_floating(x.dtype(), "lstm", [&]<class Real>() {
    const detail::LstmOperand<Real> w_in = detail::lstm_weight<Real>(wih, false);
    const detail::LstmOperand<Real> w_rec = detail::lstm_weight<Real>(whh, false);
    Real* gp = gates.data<Real>();
    Real* out = output.data<Real>();
    Real* cp = cs.data<Real>();
    const std::int64_t ld_state = T * H, ld_gates = T * G;
    detail::lstm_gemm<Real>(dev, B * T, G, I, {x2.data<Real>(), I, false}, w_in, gp, G,
                            bias.defined() ? Real(1) : Real(0));
    for (std::int64_t t = 0; t < T; ++t) {
      if (t > 0)
        detail::lstm_gemm<Real>(dev, B, G, H, {out + (t - 1) * H, ld_state, false}, w_rec, gp + t * G, ld_gates, Real(1));
      else if (h0c.defined())
        detail::lstm_gemm<Real>(dev, B, G, H, {h0c.data<Real>(), H, false}, w_rec, gp, ld_gates, Real(1));
      LstmCellForwardArgs<Real> a;
      a.batch = B;
      a.hidden = H;
      a.gates = gp + t * G;
      a.ld_gates = ld_gates;
      a.c_prev = t == 0 ? c0c.data<Real>() : cp + (t - 1) * H;
      a.ld_c_prev = t == 0 ? H : ld_state;
      a.c = cp + t * H;
      a.tanh_c = tanh_cs.data<Real>() + t * H;
      a.h = out + t * H;
      a.h_copy = hprev.defined() && t + 1 < T ? hprev.data<Real>() + (t + 1) * H : nullptr;
      a.ld_state = ld_state;
      lstm_cell_forward_slot<Real>(dev, a);
    }
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
        const Tensor& whh_v = s_whh.get("lstm");
        Tensor dgates = Tensor::empty({B, T, G}, opts);
        // dh and dc are the running gradients of h_t and c_t, updated in place step by step.
        Tensor dh = g[1].defined() ? g[1].clone() : zeros({B, H}, opts);
        Tensor dc = g[2].defined() ? g[2].clone() : zeros({B, H}, opts);
        const Tensor dout = g[0].defined() ? g[0].contiguous() : Tensor();
        Tensor gx, gwih, gwhh, gb = need_b ? zeros({G}, opts) : Tensor();
        visit_floating(opts.dtype, "lstm", [&]<class Real>() {
          const std::int64_t ld_state = T * H, ld_gates = T * G;
          Real* dgp = dgates.data<Real>();
          const Real* cp = cs_v.data<Real>();
          const detail::LstmOperand<Real> w_rec_t = detail::lstm_weight<Real>(whh_v, true);
          for (std::int64_t t = T - 1; t >= 0; --t) {
            LstmCellBackwardArgs<Real> a;
            a.batch = B;
            a.hidden = H;
            a.gates = gates_v.data<Real>() + t * G;
            a.ld_gates = ld_gates;
            a.c_prev = t == 0 ? c0_v.data<Real>() : cp + (t - 1) * H;
            a.ld_c_prev = t == 0 ? H : ld_state;
            a.tanh_c = tanh_v.data<Real>() + t * H;
            a.ld_tanh_c = ld_state;
            a.grad_out = dout.defined() ? dout.data<Real>() + t * H : nullptr;
            a.ld_grad_out = ld_state;
            a.grad_h = dh.data<Real>();
            a.grad_c = dc.data<Real>();
            a.grad_gates = dgp + t * G;
            a.ld_grad_gates = ld_gates;
            a.grad_bias = gb.defined() ? gb.data<Real>() : nullptr;
            lstm_cell_backward_slot<Real>(dev, a);
            // dL/dh_{t-1} = dgates_t · w_hhᵀ (at t = 0 that is dL/dh0).
            if (t > 0 || need_h0)
              detail::lstm_gemm<Real>(dev, B, H, G, {dgp + t * G, ld_gates, false}, w_rec_t, dh.data<Real>(), H,
                                      Real(0));
          }
          if (need_x) {
            gx = Tensor::empty({B, T, I}, opts);
            detail::lstm_gemm<Real>(dev, B * T, I, G, {dgp, G, false}, detail::lstm_weight<Real>(s_wih.get("lstm"), true),
                                    gx.data<Real>(), I, Real(0));
          }
          if (need_wih) {
            gwih = Tensor::empty({I, G}, opts);
            detail::lstm_gemm<Real>(dev, I, G, B * T, {s_x.get("lstm").data<Real>(), I, true}, {dgp, G, false},
                                    gwih.data<Real>(), G, Real(0));
          }
          if (need_whh) {
            gwhh = Tensor::empty({H, G}, opts);
            detail::lstm_gemm<Real>(dev, H, G, B * T, {s_hprev.get("lstm").data<Real>(), H, true}, {dgp, G, false},
                                    gwhh.data<Real>(), G, Real(0));
          }
        });
        return {gx, gwih, gwhh, gb, need_h0 ? dh : Tensor(), need_c0 ? dc : Tensor()};
      });
  return result;
}

}  // namespace recsys
