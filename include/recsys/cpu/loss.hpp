// recsys/cpu/loss.hpp — elementwise loss terms and their gradients, the gather/scatter of negative log-likelihood, and fused softmax cross-entropy.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "recsys/core/config.hpp"
#include "recsys/core/parallel.hpp"
#include "recsys/cpu/lstm_math.hpp"

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

/// Softmax cross-entropy of logits (rows, classes) against class targets, fused: per row the
/// log-sum-exp (kept for the backward) and loss[r] = lse[r] - x[r, target[r]]. One pass less over
/// the logits than log_softmax + nll, and no (rows, classes) log-probabilities: for a full softmax
/// over a catalogue those are the largest tensors of a training step. One thread per row.
template <class T, class I>
void cross_entropy(const T* x, const I* target, T* loss, T* lse, std::int64_t rows, std::int64_t classes) {
#pragma omp parallel for schedule(static) if (rows * classes >= kParallelGrain)
  for (std::int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * classes;
    T m = xr[0];
    for (std::int64_t c = 1; c < classes; ++c) m = xr[c] > m ? xr[c] : m;
    T total = 0;
    if constexpr (std::is_same_v<T, float>) {
#pragma omp simd reduction(+ : total)
      for (std::int64_t c = 0; c < classes; ++c) total += vmath::exp(xr[c] - m);
    } else {
      for (std::int64_t c = 0; c < classes; ++c) total += std::exp(xr[c] - m);
    }
    lse[r] = m + std::log(total);
    loss[r] = lse[r] - xr[static_cast<std::int64_t>(target[r])];
  }
}

/// gx[r, c] = g[r] · (softmax(x)[r, c] - [c == target[r]]), from the saved log-sum-exp.
template <class T, class I>
void cross_entropy_backward(const T* x, const I* target, const T* lse, const T* g, T* gx, std::int64_t rows,
                            std::int64_t classes) {
#pragma omp parallel for schedule(static) if (rows * classes >= kParallelGrain)
  for (std::int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * classes;
    T* gr = gx + r * classes;
    const T shift = lse[r], scale = g[r];
    if constexpr (std::is_same_v<T, float>) {
#pragma omp simd
      for (std::int64_t c = 0; c < classes; ++c) gr[c] = scale * vmath::exp(xr[c] - shift);
    } else {
      for (std::int64_t c = 0; c < classes; ++c) gr[c] = scale * std::exp(xr[c] - shift);
    }
    gr[static_cast<std::int64_t>(target[r])] -= scale;
  }
}

}  // namespace cpu
}  // namespace recsys
