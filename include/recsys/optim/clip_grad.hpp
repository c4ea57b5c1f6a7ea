// recsys/optim/clip_grad.hpp — gradient clipping by global L2 norm (deterministic for any thread count).
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "recsys/core/dispatch.hpp"
#include "recsys/core/tensor.hpp"
#include "recsys/optim/kernels.hpp"

namespace recsys::optim {

/// sum(x^2) over n contiguous elements, accumulated in double in a fixed order.
template <class T>
inline KernelSlot<double(const T*, std::int64_t)> sum_squares_slot{"sum_squares", &cpu::sum_squares<T>};
/// x *= s over n contiguous elements.
template <class T>
inline KernelSlot<void(T*, std::int64_t, T)> scale_inplace_slot{"scale_inplace", &cpu::scale_inplace<T>};

/// The L2 norm of all the gradients of `params` taken together (parameters without a gradient are skipped).
inline double grad_norm(const std::vector<Tensor>& params) {
  NoGradGuard no_grad;
  double total = 0;  // summed in parameter order: the same bits for any thread count
  for (const Tensor& p : params) {
    RECSYS_CHECK(p.defined(), "clip_grad_norm: a parameter is an undefined tensor");
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    const Tensor gc = g.contiguous();
    visit_floating(gc.dtype(), "clip_grad_norm", [&]<class T>() {
      total += sum_squares_slot<T>(gc.device(), gc.data<T>(), gc.numel());
    });
  }
  return std::sqrt(total);
}

/// Scales the gradients in place so their global L2 norm is at most max_norm, as PyTorch's
/// clip_grad_norm_: coefficient min(1, max_norm / (norm + 1e-6)). Returns the norm before clipping.
/// A non-finite norm (an overflowed or NaN gradient) is an error when error_if_nonfinite is set;
/// otherwise, as in PyTorch, the gradients are scaled by the resulting coefficient (0 for an
/// infinite norm, NaN for a NaN one).
inline double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, bool error_if_nonfinite = false) {
  RECSYS_CHECK(max_norm >= 0 && std::isfinite(max_norm), "clip_grad_norm: max_norm must be finite and >= 0, got ",
               max_norm);
  const double norm = grad_norm(params);
  RECSYS_CHECK(!error_if_nonfinite || std::isfinite(norm), "clip_grad_norm: the total gradient norm is ", norm,
               "; a gradient holds inf or NaN");
  const double coef = max_norm / (norm + 1e-6);
  if (coef >= 1.0) return norm;  // PyTorch clamps the coefficient to 1: scaling by one changes nothing
  NoGradGuard no_grad;
  for (const Tensor& p : params) {
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    RECSYS_CHECK(g.is_contiguous(), "clip_grad_norm: gradients must be contiguous to be scaled in place, got strides ",
                 g.strides());
    visit_floating(g.dtype(), "clip_grad_norm", [&]<class T>() {
      scale_inplace_slot<T>(g.device(), g.data<T>(), g.numel(), static_cast<T>(coef));
    });
    g.impl()->storage->bump_version();
  }
  return norm;
}

}  // namespace recsys::optim
