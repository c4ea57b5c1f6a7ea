// recsys/cpu/layer_norm.hpp — layer normalisation over the last axis of a contiguous (rows, n) block: forward and backward.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "recsys/core/parallel.hpp"

namespace recsys::cpu {

/// Rows per partial sum of the weight and bias gradients. A constant, not a share per thread, so
/// the sums are added in the same order whatever the thread count (bitwise reproducible).
inline constexpr std::int64_t kLayerNormChunkRows = 64;

// Row kernels are plain functions taking their pointers as arguments: inside the OpenMP body the
// compiler then sees no aliasing through a closure and vectorizes the inner loops.

/// One row: mean, then the biased variance from the deviations (two passes: no cancellation).
template <class T>
inline void layer_norm_row(const T* x, const T* w, const T* b, T* y, T* mean, T* rstd, std::int64_t n, T eps) {
  T s = 0;
#pragma omp simd reduction(+ : s)
  for (std::int64_t j = 0; j < n; ++j) s += x[j];
  const T mu = s / static_cast<T>(n);
  T ss = 0;
#pragma omp simd reduction(+ : ss)
  for (std::int64_t j = 0; j < n; ++j) {
    const T dev = x[j] - mu;
    ss += dev * dev;
  }
  const T rs = T(1) / std::sqrt(ss / static_cast<T>(n) + eps);
  *mean = mu;
  *rstd = rs;
  if (w != nullptr && b != nullptr) {
#pragma omp simd
    for (std::int64_t j = 0; j < n; ++j) y[j] = (x[j] - mu) * rs * w[j] + b[j];
  } else if (w != nullptr) {
#pragma omp simd
    for (std::int64_t j = 0; j < n; ++j) y[j] = (x[j] - mu) * rs * w[j];
  } else if (b != nullptr) {
#pragma omp simd
    for (std::int64_t j = 0; j < n; ++j) y[j] = (x[j] - mu) * rs + b[j];
  } else {
#pragma omp simd
    for (std::int64_t j = 0; j < n; ++j) y[j] = (x[j] - mu) * rs;
  }
}

/// y = (x - mean) · rstd · w + b for each of `rows` rows of n values, rstd = 1 / sqrt(var + eps)
/// with the biased variance (PyTorch's layer_norm). w and b may be null (no affine part). mean and
/// rstd (one per row) are saved for the backward pass.
template <class T>
void layer_norm_forward(const T* x, const T* w, const T* b, T* y, T* mean, T* rstd, std::int64_t rows, std::int64_t n,
                        T eps) {
#pragma omp parallel for schedule(static) if (rows * n >= kParallelGrain)
  for (std::int64_t r = 0; r < rows; ++r) layer_norm_row(x + r * n, w, b, y + r * n, mean + r, rstd + r, n, eps);
}

/// gx for one row: with xh = (x - mean)·rstd and g = gy·w, gx = rstd · (g - mean(g) - xh · mean(g·xh)).
template <class T>
inline void layer_norm_backward_row(const T* x, const T* w, T mu, T rs, const T* gy, T* gx, std::int64_t n) {
  T sg = 0, sgx = 0;
  if (w != nullptr) {
#pragma omp simd reduction(+ : sg, sgx)
    for (std::int64_t j = 0; j < n; ++j) {
      const T g = gy[j] * w[j];
      sg += g;
      sgx += g * ((x[j] - mu) * rs);
    }
  } else {
#pragma omp simd reduction(+ : sg, sgx)
    for (std::int64_t j = 0; j < n; ++j) {
      sg += gy[j];
      sgx += gy[j] * ((x[j] - mu) * rs);
    }
  }
  const T a = sg / static_cast<T>(n), c = sgx / static_cast<T>(n);
  if (w != nullptr) {
#pragma omp simd
    for (std::int64_t j = 0; j < n; ++j) gx[j] = rs * (gy[j] * w[j] - a - (x[j] - mu) * rs * c);
  } else {
#pragma omp simd
    for (std::int64_t j = 0; j < n; ++j) gx[j] = rs * (gy[j] - a - (x[j] - mu) * rs * c);
  }
}

/// Adds one row's share of the weight and bias gradients: gw += gy·xh, gb += gy (either may be null).
template <class T>
inline void layer_norm_param_grad_row(const T* x, T mu, T rs, const T* gy, T* gw, T* gb, std::int64_t n) {
  if (gw != nullptr) {
#pragma omp simd
    for (std::int64_t j = 0; j < n; ++j) gw[j] += gy[j] * ((x[j] - mu) * rs);
  }
  if (gb != nullptr) {
#pragma omp simd
    for (std::int64_t j = 0; j < n; ++j) gb[j] += gy[j];
  }
}

/// Gradients of layer_norm_forward from its saved mean and rstd. gx, gw, gb may each be null (not
/// wanted); gw and gb are (n) and written, not accumulated. Rows run in parallel; the parameter
/// gradients are summed per fixed chunk of rows, then over chunks in order.
template <class T>
void layer_norm_backward(const T* x, const T* w, const T* mean, const T* rstd, const T* gy, T* gx, T* gw, T* gb,
                         std::int64_t rows, std::int64_t n) {
  const std::int64_t chunks = (rows + kLayerNormChunkRows - 1) / kLayerNormChunkRows;
  const bool params = gw != nullptr || gb != nullptr;
  // partial[c] holds chunk c's (gw, gb): 2n values.
  std::vector<T> partial(params ? static_cast<std::size_t>(chunks * 2 * n) : 0, T(0));
#pragma omp parallel for schedule(static) if (rows * n >= kParallelGrain)
  for (std::int64_t c = 0; c < chunks; ++c) {
    const std::int64_t r0 = c * kLayerNormChunkRows, r1 = std::min(rows, r0 + kLayerNormChunkRows);
    T* pw = params && gw != nullptr ? partial.data() + c * 2 * n : nullptr;
    T* pb = params && gb != nullptr ? partial.data() + c * 2 * n + n : nullptr;
    for (std::int64_t r = r0; r < r1; ++r) {
      if (gx != nullptr) layer_norm_backward_row(x + r * n, w, mean[r], rstd[r], gy + r * n, gx + r * n, n);
      if (params) layer_norm_param_grad_row(x + r * n, mean[r], rstd[r], gy + r * n, pw, pb, n);
    }
  }
  if (!params) return;
  if (gw != nullptr) std::fill(gw, gw + n, T(0));
  if (gb != nullptr) std::fill(gb, gb + n, T(0));
  for (std::int64_t c = 0; c < chunks; ++c) {
    const T* p = partial.data() + c * 2 * n;
    if (gw != nullptr)
      for (std::int64_t j = 0; j < n; ++j) gw[j] += p[j];
    if (gb != nullptr)
      for (std::int64_t j = 0; j < n; ++j) gb[j] += p[n + j];
  }
}

}  // namespace recsys::cpu
