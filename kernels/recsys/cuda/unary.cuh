// recsys/cuda/unary.cuh — elementwise math (neg exp log sqrt abs relu sigmoid tanh pow clamp) and its gradient, 128-bit vectorized.
#pragma once

#include <cstdint>

#include "recsys/cpu/unary.hpp"
#include "recsys/cuda/common.cuh"

namespace recsys::cuda {

/// y = op(x) over n elements; Vec: every pointer 16-byte aligned, so whole Packs are moved at once.
/// The formulas are cpu/unary.hpp's own (host-device functions), so both devices agree to rounding.
template <UnaryOp Op, class T, bool Vec>
__global__ void unary_kernel(const T* x, T* y, std::int64_t n, T p0, T p1) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  const std::int64_t tid = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  std::int64_t done = 0;
  if constexpr (Vec) {
    using P = Pack<T>;
    const std::int64_t packs = n / P::kSize;
    for (std::int64_t i = tid; i < packs; i += stride) {
      P v = reinterpret_cast<const P*>(x)[i];
#pragma unroll
      for (int j = 0; j < P::kSize; ++j) v.v[j] = unary_value<Op>(v.v[j], p0, p1);
      reinterpret_cast<P*>(y)[i] = v;
    }
    done = packs * P::kSize;
  }
  for (std::int64_t i = done + tid; i < n; i += stride) y[i] = unary_value<Op>(x[i], p0, p1);
}

/// gx = gy * op'(x, y).
template <UnaryOp Op, class T, bool Vec>
__global__ void unary_backward_kernel(const T* x, const T* y, const T* gy,
                                      T* gx, std::int64_t n, T p0, T p1) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  const std::int64_t tid = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  std::int64_t done = 0;
  if constexpr (Vec) {
    using P = Pack<T>;
    const std::int64_t packs = n / P::kSize;
    for (std::int64_t i = tid; i < packs; i += stride) {
      const P xv = reinterpret_cast<const P*>(x)[i], yv = reinterpret_cast<const P*>(y)[i];
      P g = reinterpret_cast<const P*>(gy)[i];
#pragma unroll
      for (int j = 0; j < P::kSize; ++j) g.v[j] *= unary_derivative<Op>(xv.v[j], yv.v[j], p0, p1);
      reinterpret_cast<P*>(gx)[i] = g;
    }
    done = packs * P::kSize;
  }
  for (std::int64_t i = done + tid; i < n; i += stride) gx[i] = gy[i] * unary_derivative<Op>(x[i], y[i], p0, p1);
}

/// The unary_slot CUDA implementation (same signature as cpu::unary).
template <class T>
void unary(UnaryOp op, const T* x, T* y, std::int64_t n, T p0, T p1) {
  if (n <= 0) return;
  const bool vec = aligned16({x, y});
  const unsigned grid = grid_for(vec ? n / Pack<T>::kSize + 1 : n);
  visit_unary(op, [&]<UnaryOp Op>() {
    if (vec)
      unary_kernel<Op, T, true><<<grid, kBlock, 0, current_stream()>>>(x, y, n, p0, p1);
    else
      unary_kernel<Op, T, false><<<grid, kBlock, 0, current_stream()>>>(x, y, n, p0, p1);
  });
  check_launch("unary");
}

/// The unary_backward_slot CUDA implementation.
template <class T>
void unary_backward(UnaryOp op, const T* x, const T* y, const T* gy, T* gx, std::int64_t n, T p0, T p1) {
  if (n <= 0) return;
  const bool vec = aligned16({x, y, gy, gx});
  const unsigned grid = grid_for(vec ? n / Pack<T>::kSize + 1 : n);
  visit_unary(op, [&]<UnaryOp Op>() {
    if (vec)
      unary_backward_kernel<Op, T, true><<<grid, kBlock, 0, current_stream()>>>(x, y, gy, gx, n, p0, p1);
    else
      unary_backward_kernel<Op, T, false><<<grid, kBlock, 0, current_stream()>>>(x, y, gy, gx, n, p0, p1);
  });
  check_launch("unary_backward");
}

}  // namespace recsys::cuda
