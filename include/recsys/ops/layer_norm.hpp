// recsys/ops/layer_norm.hpp — layer_norm over the last dimension (PyTorch semantics: biased variance, optional affine).
#pragma once

#include <cmath>
#include <cstdint>

#include "recsys/autograd/function.hpp"
#include "recsys/core/dispatch.hpp"
#include "recsys/core/tensor.hpp"
#include "recsys/cpu/layer_norm.hpp"
#include "recsys/ops/checks.hpp"

namespace recsys {

// The CUDA kernels of these slots belong to the GPU issue; until then they are CPU-only.
/// (x, weight, bias, y, mean, rstd, rows, n, eps) over a contiguous (rows, n) block; weight/bias may be null.
template <class T>
inline KernelSlot<void(const T*, const T*, const T*, T*, T*, T*, std::int64_t, std::int64_t, T)> layer_norm_slot{
    "layer_norm", &cpu::layer_norm_forward<T>};
/// (x, weight, mean, rstd, gy, gx, gweight, gbias, rows, n); any of the three gradients may be null.
template <class T>
inline KernelSlot<void(const T*, const T*, const T*, const T*, const T*, T*, T*, T*, std::int64_t, std::int64_t)>
    layer_norm_backward_slot{"layer_norm_backward", &cpu::layer_norm_backward<T>};

namespace detail {

inline void check_layer_norm_args(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  check_floating("layer_norm", "input", x);
  check_same("layer_norm", {{"input", &x}, {"weight", &weight}, {"bias", &bias}});
  RECSYS_CHECK(x.dim() >= 1, "layer_norm: input must have at least 1 dimension, got shape ", x.shape());
  const std::int64_t n = x.size(-1);
  RECSYS_CHECK(!weight.defined() || (weight.dim() == 1 && weight.size(0) == n), "layer_norm: input has shape ",
               x.shape(), " but weight has shape ", weight.shape(), "; expected [", n, "] (the input's last dimension)");
  RECSYS_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == n), "layer_norm: input has shape ", x.shape(),
               " but bias has shape ", bias.shape(), "; expected [", n, "] (the input's last dimension)");
  RECSYS_CHECK(eps >= 0 && std::isfinite(eps), "layer_norm: eps must be finite and non-negative, got ", eps);
}

}  // namespace detail

/// Normalises each vector along the last dimension to zero mean and unit (biased) variance, then
/// scales by `weight` and shifts by `bias` (both (n); either may be undefined):
///   y = (x - mean) / sqrt(var + eps) * weight + bias.
/// The backward pass reuses the per-row mean and 1/sqrt(var + eps) saved by the forward one.
inline Tensor layer_norm(const Tensor& x, const Tensor& weight = {}, const Tensor& bias = {}, double eps = 1e-5) {
  detail::check_layer_norm_args(x, weight, bias, eps);
  const std::int64_t n = x.size(-1), rows = n == 0 ? 0 : x.numel() / n;
  const Tensor xc = x.contiguous(), wc = weight.defined() ? weight.contiguous() : Tensor(),
               bc = bias.defined() ? bias.contiguous() : Tensor();
  Tensor y = Tensor::empty(x.shape(), {x.dtype(), x.device()});
  Tensor mean = Tensor::empty({rows}, {x.dtype(), x.device()}), rstd = Tensor::empty({rows}, {x.dtype(), x.device()});
  if (x.numel() > 0) {
    visit_floating(x.dtype(), "layer_norm", [&]<class T>() {
      layer_norm_slot<T>(x.device(), xc.data<T>(), wc.defined() ? wc.data<T>() : nullptr,
                         bc.defined() ? bc.data<T>() : nullptr, y.data<T>(), mean.data<T>(), rstd.data<T>(), rows, n,
                         static_cast<T>(eps));
    });
  }
  if (!autograd::should_record(x, weight, bias)) return y;
  const bool need_x = x.requires_grad(), need_w = weight.defined() && weight.requires_grad(),
             need_b = bias.defined() && bias.requires_grad();
  const autograd::SavedTensor sx(xc), sw(wc), smean(mean), srstd(rstd);
  autograd::record("layer_norm", {x, weight, bias}, {y}, [=](const autograd::TensorList& g) -> autograd::TensorList {
    const Tensor& xv = sx.get("layer_norm");
    const Tensor& wv = sw.get("layer_norm");
    const Tensor gy = g[0].contiguous();
    const TensorOptions opts{xv.dtype(), xv.device()};
    Tensor gx = need_x ? Tensor::empty(xv.shape(), opts) : Tensor();
    Tensor gw = need_w ? Tensor::empty({n}, opts) : Tensor(), gb = need_b ? Tensor::empty({n}, opts) : Tensor();
    if (rows == 0) {  // empty input: no rows contribute to the parameter gradients
      if (gw.defined()) gw.zero_();
      if (gb.defined()) gb.zero_();
      return {gx, gw, gb};
    }
    visit_floating(xv.dtype(), "layer_norm", [&]<class T>() {
      layer_norm_backward_slot<T>(xv.device(), xv.data<T>(), wv.defined() ? wv.data<T>() : nullptr,
                                  smean.get("layer_norm").data<T>(), srstd.get("layer_norm").data<T>(), gy.data<T>(),
                                  need_x ? gx.data<T>() : nullptr, need_w ? gw.data<T>() : nullptr,
                                  need_b ? gb.data<T>() : nullptr, rows, n);
    });
    return {gx, gw, gb};
  });
  return y;
}

}  // namespace recsys
