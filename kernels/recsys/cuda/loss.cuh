// recsys/cuda/loss.cuh — elementwise losses (BCE, BCE with logits, MSE) and their gradients, and NLL gather/scatter.
#pragma once

#include <cstdint>

#include "recsys/cpu/loss.hpp"
#include "recsys/cuda/common.cuh"

namespace recsys::cuda {

// The formulas are cpu/loss.hpp's host-device loss_value / loss_derivative: one definition for both devices.
template <class T>
__global__ void loss_kernel(LossOp op, const T* a, const T* b, T* out, std::int64_t n, T eps) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    out[i] = loss_value(op, a[i], b[i], eps);
}

template <class T>
__global__ void loss_backward_kernel(LossOp op, const T* a, const T* b, const T* g, T* ga, std::int64_t n, T eps) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    ga[i] = g[i] * loss_derivative(op, a[i], b[i], eps);
}

template <class T, class I>
__global__ void nll_kernel(const T* logp, const I* target, T* out, std::int64_t rows, std::int64_t classes) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; r < rows; r += stride)
    out[r] = -logp[r * classes + static_cast<std::int64_t>(target[r])];
}

/// One thread per element of glogp: zero, or -g at the target (no separate memset pass).
template <class T, class I>
__global__ void nll_backward_kernel(const T* g, const I* target, T* glogp, std::int64_t rows, std::int64_t classes) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < rows * classes; i += stride) {
    const std::int64_t r = i / classes, c = i % classes;
    glogp[i] = c == static_cast<std::int64_t>(target[r]) ? -g[r] : T(0);
  }
}

/// The loss_slot CUDA implementation.
template <class T>
void loss(LossOp op, const T* a, const T* b, T* out, std::int64_t n, T eps) {
  if (n <= 0) return;
  loss_kernel<T><<<grid_for(n), kBlock, 0, current_stream()>>>(op, a, b, out, n, eps);
  check_launch("loss");
}

/// The loss_backward_slot CUDA implementation.
template <class T>
void loss_backward(LossOp op, const T* a, const T* b, const T* g, T* ga, std::int64_t n, T eps) {
  if (n <= 0) return;
  loss_backward_kernel<T><<<grid_for(n), kBlock, 0, current_stream()>>>(op, a, b, g, ga, n, eps);
  check_launch("loss_backward");
}

/// The nll_slot CUDA implementation (targets were validated on the host by the op).
template <class T, class I>
void nll(const T* logp, const I* target, T* out, std::int64_t rows, std::int64_t classes) {
  if (rows <= 0) return;
  nll_kernel<T, I><<<grid_for(rows), kBlock, 0, current_stream()>>>(logp, target, out, rows, classes);
  check_launch("nll");
}

/// The nll_backward_slot CUDA implementation.
template <class T, class I>
void nll_backward(const T* g, const I* target, T* glogp, std::int64_t rows, std::int64_t classes) {
  if (rows * classes <= 0) return;
  nll_backward_kernel<T, I><<<grid_for(rows * classes), kBlock, 0, current_stream()>>>(g, target, glogp, rows, classes);
  check_launch("nll_backward");
}

}  // namespace recsys::cuda
