// recsys/cpu/softmax.hpp — softmax and log-softmax along the middle axis of a contiguous (outer, n, inner) block.
#pragma once

#include <cmath>
#include <cstdint>

#include "recsys/core/parallel.hpp"

namespace recsys::cpu {

/// y = softmax(x) (or log_softmax when `log`) over n, for each (outer, inner) pair. Subtracting the
/// maximum first keeps exp() from overflowing; each row is handled by one thread.
template <class T>
void softmax(bool log, const T* x, T* y, std::int64_t outer, std::int64_t n, std::int64_t inner) {
#pragma omp parallel for collapse(2) schedule(static) if (outer * n * inner >= kParallelGrain)
  for (std::int64_t o = 0; o < outer; ++o) {
    for (std::int64_t i = 0; i < inner; ++i) {
      const T* xr = x + o * n * inner + i;
      T* yr = y + o * n * inner + i;
      T m = xr[0];
      for (std::int64_t k = 1; k < n; ++k) m = xr[k * inner] > m ? xr[k * inner] : m;
      T total = 0;
      for (std::int64_t k = 0; k < n; ++k) total += std::exp(xr[k * inner] - m);
      if (log) {
        const T shift = m + std::log(total);
        for (std::int64_t k = 0; k < n; ++k) yr[k * inner] = xr[k * inner] - shift;
      } else {
        for (std::int64_t k = 0; k < n; ++k) yr[k * inner] = std::exp(xr[k * inner] - m) / total;
      }
    }
  }
}

/// Gradient from the forward output y: softmax gx = y * (gy - Σ gy·y); log_softmax gx = gy - exp(y) * Σ gy.
template <class T>
void softmax_backward(bool log, const T* y, const T* gy, T* gx, std::int64_t outer, std::int64_t n,
                      std::int64_t inner) {
#pragma omp parallel for collapse(2) schedule(static) if (outer * n * inner >= kParallelGrain)
  for (std::int64_t o = 0; o < outer; ++o) {
    for (std::int64_t i = 0; i < inner; ++i) {
      const std::int64_t base = o * n * inner + i;
      T dot = 0;
      for (std::int64_t k = 0; k < n; ++k) dot += log ? gy[base + k * inner] : gy[base + k * inner] * y[base + k * inner];
      for (std::int64_t k = 0; k < n; ++k) {
        const std::int64_t j = base + k * inner;
        gx[j] = log ? gy[j] - std::exp(y[j]) * dot : y[j] * (gy[j] - dot);
      }
    }
  }
}

}  // namespace recsys::cpu
