// recsys/cpu/loss.hpp — elementwise loss terms and their gradients, and the gather/scatter of negative log-likelihood.
#pragma once

#include <cmath>
#include <cstdint>

#include "recsys/core/config.hpp"
#include "recsys/core/parallel.hpp"

namespace recsys {

/// Elementwise losses l(a, b): a is the prediction (probability, logit or value), b the target.
enum class LossOp : std::uint8_t {
  bce,         // -(b log a + (1-b) log(1-a)), a clipped to [eps, 1-eps] like Keras
  bce_logits,  // the same on sigmoid(a), computed stably from the logit
  mse,         // (a - b)^2
};

/// l(a, b) for one element.
template <class T>
RECSYS_HOST_DEVICE inline T loss_value(LossOp op, T a, T b, T eps) {
  switch (op) {
    case LossOp::bce: {
      const T p = a < eps ? eps : (a > T(1) - eps ? T(1) - eps : a);
      return -(b * std::log(p) + (T(1) - b) * std::log(T(1) - p));
    }
    case LossOp::bce_logits:  // max(a, 0) - a b + log(1 + e^{-|a|})
      return (a > T(0) ? a : T(0)) - a * b + std::log1p(std::exp(-std::fabs(a)));
    case LossOp::mse:
      return (a - b) * (a - b);
  }
  return T(0);
}

/// ∂l/∂a for one element (clipped bce: zero outside [eps, 1-eps], as the clip's gradient is).
template <class T>
RECSYS_HOST_DEVICE inline T loss_derivative(LossOp op, T a, T b, T eps) {
  switch (op) {
    case LossOp::bce:
      if (a < eps || a > T(1) - eps) return T(0);
      return (a - b) / (a * (T(1) - a));
    case LossOp::bce_logits: {
      const T s = a >= T(0) ? T(1) / (T(1) + std::exp(-a)) : std::exp(a) / (T(1) + std::exp(a));
      return s - b;
    }
    case LossOp::mse:
      return T(2) * (a - b);
  }
  return T(0);
}

namespace cpu {

/// out[i] = l(a[i], b[i]).
template <class T>
void loss(LossOp op, const T* a, const T* b, T* out, std::int64_t n, T eps) {
#pragma omp parallel for schedule(static) if (n >= kParallelGrain)
  for (std::int64_t i = 0; i < n; ++i) out[i] = loss_value(op, a[i], b[i], eps);
}

/// ga[i] = g[i] * ∂l/∂a (a[i], b[i]).
template <class T>
void loss_backward(LossOp op, const T* a, const T* b, const T* g, T* ga, std::int64_t n, T eps) {
#pragma omp parallel for schedule(static) if (n >= kParallelGrain)
  for (std::int64_t i = 0; i < n; ++i) ga[i] = g[i] * loss_derivative(op, a[i], b[i], eps);
}

/// out[r] = -logp[r, target[r]] for r < rows; logp is (rows, classes) contiguous, targets already validated.
template <class T, class I>
void nll(const T* logp, const I* target, T* out, std::int64_t rows, std::int64_t classes) {
  for (std::int64_t r = 0; r < rows; ++r) out[r] = -logp[r * classes + static_cast<std::int64_t>(target[r])];
}

/// glogp = 0 except glogp[r, target[r]] = -g[r].
template <class T, class I>
void nll_backward(const T* g, const I* target, T* glogp, std::int64_t rows, std::int64_t classes) {
  for (std::int64_t i = 0; i < rows * classes; ++i) glogp[i] = T(0);
  for (std::int64_t r = 0; r < rows; ++r) glogp[r * classes + static_cast<std::int64_t>(target[r])] = -g[r];
}

}  // namespace cpu
}  // namespace recsys
