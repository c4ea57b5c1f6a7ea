// recsys/ops/conv1d.hpp — conv1d on channels-last input as GEMMs over overlapping windows (no im2col), with its gradients.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "recsys/autograd/function.hpp"
#include "recsys/core/factory.hpp"
#include "recsys/core/tensor.hpp"
#include "recsys/ops/checks.hpp"
#include "recsys/ops/copy.hpp"
#include "recsys/ops/matmul.hpp"
#include "recsys/ops/reduce.hpp"

namespace recsys {

namespace detail {

/// Sizes of one conv1d call. The input is read from a buffer of `buffer_t` time steps per batch
/// element (the input itself, or a zero-padded copy) whose window starts are `pitch` = stride·C
/// elements apart, so window t of batch b is the contiguous run of K·C values at
/// b·buffer_t·C + t·pitch. buffer_t is a multiple of the stride: then every window start of every
/// batch element lies on one grid of `rows_per_batch` = buffer_t / stride rows per batch, which
/// lets the weight gradient sum over the whole batch in a single GEMM.
struct Conv1dGeometry {
  std::int64_t batch = 0, t_in = 0, channels = 0, kernel = 0, filters = 0, stride = 1;
  std::int64_t t_out = 0, pad_left = 0, buffer_t = 0, rows_per_batch = 0;
  bool direct = false;  // the input itself is the buffer (contiguous, no padding, t_in % stride == 0)
};

inline Conv1dGeometry conv1d_geometry(const Tensor& x, const Tensor& w, std::int64_t stride, bool same) {
  Conv1dGeometry g;
  g.batch = x.size(0);
  g.t_in = x.size(1);
  g.channels = x.size(2);
  g.kernel = w.size(0);
  g.filters = w.size(2);
  g.stride = stride;
  std::int64_t pad_total = 0;
  if (same) {  // TensorFlow's rule: T_out = ceil(T / s), the odd padding element goes on the right
    g.t_out = (g.t_in + stride - 1) / stride;
    if (g.t_out > 0) pad_total = std::max<std::int64_t>((g.t_out - 1) * stride + g.kernel - g.t_in, 0);
  } else {
    RECSYS_CHECK(g.t_in >= g.kernel, "conv1d: input has shape ", x.shape(), ", whose length ", g.t_in,
                 " is shorter than kernel_size ", g.kernel, " (padding \"valid\"; use \"same\" to pad)");
    g.t_out = (g.t_in - g.kernel) / stride + 1;
  }
  g.pad_left = pad_total / 2;
  g.direct = pad_total == 0 && g.t_in % stride == 0 && x.is_contiguous();
  g.buffer_t = (g.t_in + pad_total + stride - 1) / stride * stride;
  g.rows_per_batch = g.buffer_t / stride;
  return g;
}

/// The GEMM shared by every batch element: out_b (T_out × F) = A_b (T_out × K·C, rows `pitch`
/// apart, so consecutive rows overlap when stride < K) · W (K·C × F).
template <class T>
void conv1d_forward_gemm(const Conv1dGeometry& g, const T* xb, const T* w, T* out, bool accumulate, Device device) {
  GemmArgs<T> p;
  p.m = g.t_out;
  p.n = g.filters;
  p.k = g.kernel * g.channels;
  p.a = xb;
  p.lda = g.stride * g.channels;
  p.stride_a = g.buffer_t * g.channels;
  p.b = w;
  p.ldb = g.filters;
  p.c = out;
  p.ldc = g.filters;
  p.stride_c = g.t_out * g.filters;
  p.batch = g.batch;
  p.beta = accumulate ? T(1) : T(0);
  gemm_slot<T>(device, p);
}

/// dX_b[k + t·s, :] += dY_b[t, :] · W[k]ᵀ for each tap k: K accumulating GEMMs, each batched over b.
/// Within one GEMM the rows t·s + k are distinct, and the taps run in order, so the sums are fixed.
template <class T>
void conv1d_input_grad(const Conv1dGeometry& g, const T* gy, const T* w, T* gxb, Device device) {
  for (std::int64_t k = 0; k < g.kernel; ++k) {
    GemmArgs<T> p;
    p.trans_b = true;  // W[k] is (C × F); the product needs W[k]ᵀ
    p.m = g.t_out;
    p.n = g.channels;
    p.k = g.filters;
    p.a = gy;
    p.lda = g.filters;
    p.stride_a = g.t_out * g.filters;
    p.b = w + k * g.channels * g.filters;
    p.ldb = g.filters;
    p.c = gxb + k * g.channels;
    p.ldc = g.stride * g.channels;
    p.stride_c = g.buffer_t * g.channels;
    p.batch = g.batch;
    p.beta = T(1);
    gemm_slot<T>(device, p);
  }
}

/// dW (K·C × F) = Σ_b A_bᵀ · dY_b as ONE GEMM: on the buffer's row grid the windows of all batch
/// elements form a single matrix of (B-1)·R + T_out rows (R = rows_per_batch); gy_grid holds dY
/// on that grid, with zeros at the R - T_out rows per batch that are not real windows.
template <class T>
void conv1d_weight_grad(const Conv1dGeometry& g, const T* xb, const T* gy_grid, T* gw, Device device) {
  GemmArgs<T> p;
  p.trans_a = true;
  p.m = g.kernel * g.channels;
  p.n = g.filters;
  p.k = (g.batch - 1) * g.rows_per_batch + g.t_out;
  p.a = xb;
  p.lda = g.stride * g.channels;
  p.b = gy_grid;
  p.ldb = g.filters;
  p.c = gw;
  p.ldc = g.filters;
  gemm_slot<T>(device, p);
}

/// For stride 1: dY on the buffer's row grid (R = buffer_t rows per batch element: dY_b, then
/// K - 1 zero rows), behind K - 1 more zero rows, as a (K - 1 + B·R, F) matrix. Both gradients read
/// it: the weight gradient as the grid, the input gradient as windows of K rows.
inline Tensor conv1d_padded_grid(const Conv1dGeometry& g, const Tensor& gy, const TensorOptions& opts) {
  const std::int64_t lead = g.kernel - 1, rows = g.batch * g.rows_per_batch;
  Tensor buf = Tensor::empty({lead + rows, g.filters}, opts);
  if (lead > 0) buf.slice(0, 0, lead).zero_();
  const Tensor grid = buf.slice(0, lead, lead + rows).view({g.batch, g.rows_per_batch, g.filters});
  copy_into(grid.slice(1, 0, g.t_out), gy);
  if (g.rows_per_batch > g.t_out) grid.slice(1, g.t_out, g.rows_per_batch).zero_();
  return buf;
}

/// dX (stride 1) as ONE GEMM, a "full" convolution: dX_b[r] = Σ_k dY_b[r - k]·W[k]ᵀ, so row r is the
/// window of K rows of the padded grid that ends at dY_b[r] times the flipped kernel
/// Wf = [W[K-1]ᵀ; ...; W[0]ᵀ] (K·F × C). The zero rows supply the missing dY_b[r - k]; each element
/// of dX is one sum, written once (beta 0: gxb needs no zeroing).
template <class T>
void conv1d_input_grad_full(const Conv1dGeometry& g, const T* padded, const T* w_flipped, T* gxb, Device device) {
  GemmArgs<T> p;
  p.m = g.buffer_t;
  p.n = g.channels;
  p.k = g.kernel * g.filters;
  p.a = padded;
  p.lda = g.filters;
  p.stride_a = g.rows_per_batch * g.filters;
  p.b = w_flipped;
  p.ldb = g.channels;
  p.c = gxb;
  p.ldc = g.channels;
  p.stride_c = g.buffer_t * g.channels;
  p.batch = g.batch;
  gemm_slot<T>(device, p);
}

}  // namespace detail

/// 1-D convolution (cross-correlation, like Keras and PyTorch) of channels-last input.
/// x: (batch, time, in_channels); weight: (kernel_size, in_channels, filters) (Keras layout);
/// bias: (filters) or undefined → (batch, time_out, filters). padding "valid": time_out =
/// (time - kernel_size) / stride + 1; "same": time_out = ceil(time / stride), zero-padded as in
/// TensorFlow (the extra element, if any, on the right).
inline Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, std::int64_t stride = 1,
                     std::string_view padding = "valid") {
  detail::check_floating("conv1d", "input", x);
  detail::check_dim("conv1d", "input", x, 3, "(batch, time, channels)");
  detail::check_dim("conv1d", "weight", weight, 3, "(kernel_size, in_channels, filters)");
  detail::check_same("conv1d", {{"input", &x}, {"weight", &weight}, {"bias", &bias}});
  RECSYS_CHECK(weight.size(0) > 0 && weight.size(1) > 0 && weight.size(2) > 0, "conv1d: weight has shape ",
               weight.shape(), "; kernel_size, in_channels and filters must all be positive");
  RECSYS_CHECK(x.size(2) == weight.size(1), "conv1d: input has shape ", x.shape(), " (", x.size(2),
               " channels) but weight has shape ", weight.shape(), " (in_channels ", weight.size(1), ")");
  if (bias.defined()) {
    RECSYS_CHECK(bias.dim() == 1 && bias.size(0) == weight.size(2), "conv1d: bias has shape ", bias.shape(),
                 ", expected [", weight.size(2), "] (one value per filter)");
  }
  RECSYS_CHECK(stride >= 1, "conv1d: stride must be at least 1, got ", stride);
  RECSYS_CHECK(padding == "valid" || padding == "same", "conv1d: padding must be \"valid\" or \"same\", got \"",
               padding, "\"");
  const detail::Conv1dGeometry geo = detail::conv1d_geometry(x, weight, stride, padding == "same");
  const TensorOptions opts{x.dtype(), x.device()};

  Tensor xb = x;
  if (!geo.direct) {
    NoGradGuard no_grad;  // the buffer is internal: the node below is the only record of x
    xb = zeros({geo.batch, geo.buffer_t, geo.channels}, opts);
    detail::copy_into(xb.slice(1, geo.pad_left, geo.pad_left + geo.t_in), x);
  }
  const Tensor w = weight.contiguous();
  Tensor out = Tensor::empty({geo.batch, geo.t_out, geo.filters}, opts);
  if (bias.defined()) detail::copy_into(out, bias);
  visit_floating(x.dtype(), "conv1d", [&]<class T>() {
    detail::conv1d_forward_gemm<T>(geo, xb.data<T>(), w.data<T>(), out.data<T>(), bias.defined(), x.device());
  });

  if (!autograd::should_record(x, weight, bias)) return out;
  const bool need_x = x.requires_grad(), need_w = weight.requires_grad(),
             need_b = bias.defined() && bias.requires_grad();
  const autograd::SavedTensor sx(need_w ? xb : Tensor()), sw(need_x ? w : Tensor());
  autograd::record("conv1d", {x, weight, bias}, {out}, [=](const autograd::TensorList& g) -> autograd::TensorList {
    const Tensor gy = g[0].contiguous();
    const detail::Conv1dGeometry& c = geo;
    Tensor gx, gw, gb;
    // Stride 1 (and K > 1): one padded copy of dY serves both GEMMs, and dX is a single GEMM.
    const bool full = c.stride == 1 && c.kernel > 1 && c.batch > 0 && c.t_out > 0;
    const Tensor padded = full && (need_x || need_w) ? detail::conv1d_padded_grid(c, gy, opts) : Tensor();
    visit_floating(gy.dtype(), "conv1d", [&]<class T>() {
      if (need_x && full) {
        const Tensor& wv = sw.get("conv1d");  // (K, C, F)
        Tensor w_flipped = Tensor::empty({c.kernel, c.filters, c.channels}, opts);
        for (std::int64_t k = 0; k < c.kernel; ++k)
          detail::copy_into(w_flipped.select(0, c.kernel - 1 - k), wv.select(0, k).t());
        Tensor gxb = Tensor::empty({c.batch, c.buffer_t, c.channels}, opts);
        detail::conv1d_input_grad_full<T>(c, padded.data<T>(), w_flipped.data<T>(), gxb.data<T>(), opts.device);
        gx = c.direct ? gxb : gxb.slice(1, c.pad_left, c.pad_left + c.t_in).contiguous();
      } else if (need_x) {
        Tensor gxb = zeros({c.batch, c.buffer_t, c.channels}, opts);
        detail::conv1d_input_grad<T>(c, gy.data<T>(), sw.get("conv1d").data<T>(), gxb.data<T>(), opts.device);
        gx = c.direct ? gxb : gxb.slice(1, c.pad_left, c.pad_left + c.t_in).contiguous();
      }
      if (need_w) {
        gw = zeros({c.kernel, c.channels, c.filters}, opts);
        if (full) {
          const T* grid = padded.data<T>() + (c.kernel - 1) * c.filters;
          detail::conv1d_weight_grad<T>(c, sx.get("conv1d").data<T>(), grid, gw.data<T>(), opts.device);
        } else if (c.batch > 0 && c.t_out > 0) {
          Tensor grid = gy;
          if (c.rows_per_batch != c.t_out) {
            grid = zeros({c.batch, c.rows_per_batch, c.filters}, opts);
            detail::copy_into(grid.slice(1, 0, c.t_out), gy);
          }
          detail::conv1d_weight_grad<T>(c, sx.get("conv1d").data<T>(), grid.data<T>(), gw.data<T>(), opts.device);
        }
      }
    });
    if (need_b) gb = sum(gy.reshape({-1, geo.filters}), 0);
    return {gx, gw, gb};
  });
  return out;
}

}  // namespace recsys
