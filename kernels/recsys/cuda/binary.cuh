// recsys/cuda/binary.cuh — add/sub/mul/div with broadcasting: a vectorized path for dense and scalar operands, an indexed one for the rest.
#pragma once

#include <cstdint>

#include "recsys/cpu/binary.hpp"
#include "recsys/cuda/common.cuh"

namespace recsys::cuda {

template <BinaryOp Op, class T>
__device__ inline T binary_value(T a, T b) {
  if constexpr (Op == BinaryOp::add) return a + b;
  if constexpr (Op == BinaryOp::sub) return a - b;
  if constexpr (Op == BinaryOp::mul) return a * b;
  if constexpr (Op == BinaryOp::div) return a / b;
}

/// Which operand is a single broadcast value on the dense path.
enum class Dense : std::uint8_t { both, a_scalar, b_scalar };

/// out[i] = a[i] (op) b[i] for contiguous operands (or one of them a scalar). a or b may alias out:
/// each element is read and written by the same thread.
template <BinaryOp Op, class T, Dense D, bool Vec>
__global__ void binary_dense_kernel(const T* a, const T* b, T* out, std::int64_t n) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  const std::int64_t tid = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  auto at_a = [&](std::int64_t i) { return D == Dense::a_scalar ? a[0] : a[i]; };
  auto at_b = [&](std::int64_t i) { return D == Dense::b_scalar ? b[0] : b[i]; };
  std::int64_t done = 0;
  if constexpr (Vec) {
    using P = Pack<T>;
    const std::int64_t packs = n / P::kSize;
    for (std::int64_t i = tid; i < packs; i += stride) {
      P x, y;
      if constexpr (D == Dense::a_scalar) {
        for (int j = 0; j < P::kSize; ++j) x.v[j] = a[0];
      } else {
        x = reinterpret_cast<const P*>(a)[i];
      }
      if constexpr (D == Dense::b_scalar) {
        for (int j = 0; j < P::kSize; ++j) y.v[j] = b[0];
      } else {
        y = reinterpret_cast<const P*>(b)[i];
      }
#pragma unroll
      for (int j = 0; j < P::kSize; ++j) x.v[j] = binary_value<Op>(x.v[j], y.v[j]);
      reinterpret_cast<P*>(out)[i] = x;
    }
    done = packs * P::kSize;
  }
  for (std::int64_t i = done + tid; i < n; i += stride) out[i] = binary_value<Op>(at_a(i), at_b(i));
}

/// The general case: every operand strided (broadcast strides are 0), offsets from the linear index.
template <BinaryOp Op, class T, class Index>
__global__ void binary_strided_kernel(const T* a, const T* b, T* out, StridedGeometry<3> g, std::int64_t n) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    std::int64_t off[3];
    strided_offsets<Index>(g, static_cast<Index>(i), off);
    out[off[0]] = binary_value<Op>(a[off[1]], b[off[2]]);
  }
}

template <BinaryOp Op, class T>
void launch_binary(const T* a, Shape a_strides, const T* b, Shape b_strides, T* out, Shape out_strides, Shape shape) {
  const std::int64_t n = shape.numel();
  const StridedGeometry<3> g = make_geometry<3>(shape, {out_strides, a_strides, b_strides});
  const cudaStream_t s = current_stream();
  if (g.rank == 1 && g.strides[0][0] == 1) {
    const std::int64_t sa = g.strides[1][0], sb = g.strides[2][0];
    const bool vec = aligned16({a, b, out});
    const unsigned grid = grid_for(vec ? n / Pack<T>::kSize + 1 : n);
    auto run = [&]<Dense D>() {
      if (vec)
        binary_dense_kernel<Op, T, D, true><<<grid, kBlock, 0, s>>>(a, b, out, n);
      else
        binary_dense_kernel<Op, T, D, false><<<grid, kBlock, 0, s>>>(a, b, out, n);
    };
    if (sa == 1 && sb == 1) return run.template operator()<Dense::both>();
    if (sa == 1 && sb == 0) return run.template operator()<Dense::b_scalar>();
    if (sa == 0 && sb == 1) return run.template operator()<Dense::a_scalar>();
  }
  if (n <= std::numeric_limits<std::uint32_t>::max())
    binary_strided_kernel<Op, T, std::uint32_t><<<grid_for(n), kBlock, 0, s>>>(a, b, out, g, n);
  else
    binary_strided_kernel<Op, T, std::uint64_t><<<grid_for(n), kBlock, 0, s>>>(a, b, out, g, n);
}

/// The binary_slot CUDA implementation (same signature as cpu::binary).
template <class T>
void binary(BinaryOp op, const T* a, Shape a_strides, const T* b, Shape b_strides, T* out, Shape out_strides,
            Shape shape) {
  if (shape.numel() == 0) return;
  switch (op) {
    case BinaryOp::add: launch_binary<BinaryOp::add>(a, a_strides, b, b_strides, out, out_strides, shape); break;
    case BinaryOp::sub: launch_binary<BinaryOp::sub>(a, a_strides, b, b_strides, out, out_strides, shape); break;
    case BinaryOp::mul: launch_binary<BinaryOp::mul>(a, a_strides, b, b_strides, out, out_strides, shape); break;
    case BinaryOp::div: launch_binary<BinaryOp::div>(a, a_strides, b, b_strides, out, out_strides, shape); break;
  }
  check_launch("binary");
}

}  // namespace recsys::cuda
