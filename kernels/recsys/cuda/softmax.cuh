// recsys/cuda/softmax.cuh — softmax and log-softmax over the middle axis of (outer, n, inner), forward and backward.
#pragma once

#include <cmath>
#include <cstdint>

#include "recsys/cuda/common.cuh"

namespace recsys::cuda {

/// inner == 1: one block per row (the usual case, classes last). Max, sum of exp, write: the same
/// three passes as the CPU, with the block reductions in a fixed order.
template <class T>
__global__ void softmax_rows_kernel(bool log, const T* x, T* y, std::int64_t rows, std::int64_t n) {
  __shared__ T scratch[32];
  for (std::int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * n;
    T* yr = y + r * n;
    T m = xr[0];
    for (std::int64_t k = threadIdx.x; k < n; k += blockDim.x) m = xr[k] > m ? xr[k] : m;
    m = block_max(m, scratch);
    T total = 0;
    for (std::int64_t k = threadIdx.x; k < n; k += blockDim.x) total += std::exp(xr[k] - m);
    total = block_sum(total, scratch);
    if (log) {
      const T shift = m + std::log(total);
      for (std::int64_t k = threadIdx.x; k < n; k += blockDim.x) yr[k] = xr[k] - shift;
    } else {
      for (std::int64_t k = threadIdx.x; k < n; k += blockDim.x) yr[k] = std::exp(xr[k] - m) / total;
    }
  }
}

/// inner > 1: one thread per (outer, inner) column, walking n with stride inner (coalesced across threads).
template <class T>
__global__ void softmax_cols_kernel(bool log, const T* x, T* y, std::int64_t outer, std::int64_t n, std::int64_t inner) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t j = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < outer * inner; j += stride) {
    const std::int64_t base = (j / inner) * n * inner + j % inner;
    T m = x[base];
    for (std::int64_t k = 1; k < n; ++k) m = x[base + k * inner] > m ? x[base + k * inner] : m;
    T total = 0;
    for (std::int64_t k = 0; k < n; ++k) total += std::exp(x[base + k * inner] - m);
    const T shift = m + std::log(total);
    for (std::int64_t k = 0; k < n; ++k) {
      const std::int64_t i = base + k * inner;
      y[i] = log ? x[i] - shift : std::exp(x[i] - m) / total;
    }
  }
}

/// softmax: gx = y (gy - Σ gy y); log_softmax: gx = gy - std::exp(y) Σ gy.
template <class T>
__global__ void softmax_backward_rows_kernel(bool log, const T* y, const T* gy, T* gx, std::int64_t rows, std::int64_t n) {
  __shared__ T scratch[32];
  for (std::int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const std::int64_t base = r * n;
    T dot = 0;
    for (std::int64_t k = threadIdx.x; k < n; k += blockDim.x) dot += log ? gy[base + k] : gy[base + k] * y[base + k];
    dot = block_sum(dot, scratch);
    for (std::int64_t k = threadIdx.x; k < n; k += blockDim.x) {
      const std::int64_t i = base + k;
      gx[i] = log ? gy[i] - std::exp(y[i]) * dot : y[i] * (gy[i] - dot);
    }
  }
}

template <class T>
__global__ void softmax_backward_cols_kernel(bool log, const T* y, const T* gy, T* gx, std::int64_t outer, std::int64_t n,
                                             std::int64_t inner) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t j = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < outer * inner; j += stride) {
    const std::int64_t base = (j / inner) * n * inner + j % inner;
    T dot = 0;
    for (std::int64_t k = 0; k < n; ++k) {
      const std::int64_t i = base + k * inner;
      dot += log ? gy[i] : gy[i] * y[i];
    }
    for (std::int64_t k = 0; k < n; ++k) {
      const std::int64_t i = base + k * inner;
      gx[i] = log ? gy[i] - std::exp(y[i]) * dot : y[i] * (gy[i] - dot);
    }
  }
}

/// The softmax_slot CUDA implementation (same signature as cpu::softmax).
template <class T>
void softmax(bool log, const T* x, T* y, std::int64_t outer, std::int64_t n, std::int64_t inner) {
  if (outer * n * inner == 0) return;
  const cudaStream_t s = current_stream();
  if (inner == 1)
    softmax_rows_kernel<T><<<static_cast<unsigned>(std::min<std::int64_t>(outer, 65535)), row_block(n), 0, s>>>(log, x, y, outer, n);
  else
    softmax_cols_kernel<T><<<grid_for(outer * inner), kBlock, 0, s>>>(log, x, y, outer, n, inner);
  check_launch("softmax");
}

/// The softmax_backward_slot CUDA implementation.
template <class T>
void softmax_backward(bool log, const T* y, const T* gy, T* gx, std::int64_t outer, std::int64_t n, std::int64_t inner) {
  if (outer * n * inner == 0) return;
  const cudaStream_t s = current_stream();
  if (inner == 1)
    softmax_backward_rows_kernel<T>
        <<<static_cast<unsigned>(std::min<std::int64_t>(outer, 65535)), row_block(n), 0, s>>>(log, y, gy, gx, outer, n);
  else
    softmax_backward_cols_kernel<T><<<grid_for(outer * inner), kBlock, 0, s>>>(log, y, gy, gx, outer, n, inner);
  check_launch("softmax_backward");
}

}  // namespace recsys::cuda
