// recsys/cuda/dropout.cuh — dropout with the CPU's Philox stream: the same seed gives the same mask on both devices.
#pragma once

#include <cstdint>

#include "recsys/core/random.hpp"
#include "recsys/cuda/common.cuh"

namespace recsys::cuda {

/// One thread per Philox block of four elements, exactly as cpu::dropout draws them.
template <class T>
__global__ void dropout_kernel(const T* x, T* y, std::int64_t n, std::uint64_t seed, std::uint64_t first_block,
                               float threshold, T scale) {
  const std::int64_t blocks = (n + 3) / 4;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t blk = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; blk < blocks; blk += stride) {
    const Philox4 r = philox_block(seed, first_block + static_cast<std::uint64_t>(blk));
    const std::int64_t i0 = blk * 4;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      if (i0 + j >= n) break;
      const bool keep = u32_to_unit_float(r.v[j]) >= threshold;
      y[i0 + j] = x[i0 + j] * (keep ? scale : T(0));
    }
  }
}

/// The dropout_slot CUDA implementation (x and y may alias).
template <class T>
void dropout(const T* x, T* y, std::int64_t n, std::uint64_t seed, std::uint64_t first_block, float threshold, T scale) {
  if (n <= 0) return;
  dropout_kernel<T><<<grid_for((n + 3) / 4), kBlock, 0, current_stream()>>>(x, y, n, seed, first_block, threshold, scale);
  check_launch("dropout");
}

}  // namespace recsys::cuda
