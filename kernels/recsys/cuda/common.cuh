// recsys/cuda/common.cuh — what every kernel file shares: launch checks, grid sizing, 16-byte packs, strided indexing, warp reductions.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>

#include "recsys/core/shape.hpp"
#include "recsys/cpu/strided.hpp"
#include "recsys/cuda/runtime.cuh"

namespace recsys::cuda {

/// Threads per block for simple elementwise kernels.
inline constexpr int kBlock = 256;

/// Reports a failed launch (bad configuration, no kernel image for this GPU) as a recsys::Error.
inline void check_launch(const char* op) {
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) [[unlikely]]
    RECSYS_FAIL(op, ": CUDA kernel launch failed: ", cudaGetErrorName(err), " (", cudaGetErrorString(err), ")");
}

/// Blocks for a grid-stride loop over `work` items: enough to fill the GPU, never more than needed.
/// Grid-stride kernels give the same result for any grid size, so this may depend on the device.
inline unsigned grid_for(std::int64_t work, int block = kBlock) {
  const std::int64_t needed = (work + block - 1) / block;
  const std::int64_t cap = static_cast<std::int64_t>(multiprocessor_count()) * 16;
  return static_cast<unsigned>(std::max<std::int64_t>(1, std::min(needed, cap)));
}

/// 16 bytes of T, loaded and stored with one 128-bit instruction when the address is aligned.
template <class T>
struct alignas(16) Pack {
  static constexpr int kSize = 16 / static_cast<int>(sizeof(T));
  T v[kSize];
};

/// True when every pointer is 16-byte aligned (so Pack loads are legal at element offsets that are multiples of kSize).
inline bool aligned16(std::initializer_list<const void*> ptrs) {
  for (const void* p : ptrs)
    if (reinterpret_cast<std::uintptr_t>(p) % 16 != 0) return false;
  return true;
}

/// Geometry of a strided loop with N operands, passed by value to kernels. Built from
/// cpu::collapse, so contiguous runs are merged and the rank is as small as it can be.
template <int N>
struct StridedGeometry {
  int rank = 0;
  std::int64_t shape[Shape::kMaxDims] = {};
  std::int64_t strides[N][Shape::kMaxDims] = {};
};

template <int N>
StridedGeometry<N> make_geometry(const Shape& shape, const std::array<Shape, N>& strides) {
  const cpu::StridedLoop<N> loop = cpu::collapse<N>(shape, strides);
  StridedGeometry<N> g;
  g.rank = loop.shape.size();
  for (int d = 0; d < g.rank; ++d) {
    g.shape[d] = loop.shape[d];
    for (int k = 0; k < N; ++k) g.strides[k][d] = loop.strides[k][d];
  }
  return g;
}

/// Element offsets of the linear (row-major) index `i` in each operand. Index is uint32_t when the
/// loop is small enough: 64-bit division is several times slower on the GPU.
template <class Index, int N>
__device__ inline void strided_offsets(const StridedGeometry<N>& g, Index i, std::int64_t (&off)[N]) {
  for (int k = 0; k < N; ++k) off[k] = 0;
  for (int d = g.rank - 1; d >= 0; --d) {
    const Index size = static_cast<Index>(g.shape[d]);
    const Index q = i / size;
    const std::int64_t r = static_cast<std::int64_t>(i - q * size);
    for (int k = 0; k < N; ++k) off[k] += r * g.strides[k][d];
    i = q;
  }
}

/// Sum over a warp by a fixed butterfly: the order of additions never changes, so results are reproducible.
template <class T>
__device__ inline T warp_sum(T v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

template <class T>
__device__ inline T warp_max(T v) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    const T o = __shfl_xor_sync(0xffffffffu, v, offset);
    v = o > v ? o : v;
  }
  return v;
}

/// Sum over a block (blockDim.x a multiple of 32, at most 1024): warp butterflies, then warp 0
/// adds the warp totals in warp order. Every thread gets the total. `scratch` holds 32 values.
template <class T>
__device__ inline T block_sum(T v, T* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  v = warp_sum(v);
  __syncthreads();  // scratch may still be read from a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  T total = lane < warps ? scratch[lane] : T(0);
  if (warp == 0) {
    total = warp_sum(total);
    if (lane == 0) scratch[0] = total;
  }
  __syncthreads();
  return scratch[0];
}

/// Maximum over a block; same shape as block_sum.
template <class T>
__device__ inline T block_max(T v, T* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  if (warp == 0) {
    T m = lane < warps ? scratch[lane] : scratch[0];
    m = warp_max(m);
    if (lane == 0) scratch[0] = m;
  }
  __syncthreads();
  return scratch[0];
}

/// Threads for a block that reduces one row of n elements: a power of two in [32, 256], fixed by n alone.
inline int row_block(std::int64_t n) {
  int t = 32;
  while (t < 256 && t < n) t <<= 1;
  return t;
}

}  // namespace recsys::cuda
