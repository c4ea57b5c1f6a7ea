// recsys/cuda/reduce.cuh — sum and max/argmax over the middle axis of (outer, n, inner), in an order fixed by the shape alone.
#pragma once

#include <cstdint>

#include "recsys/cpu/reduce.hpp"
#include "recsys/cuda/common.cuh"
#include "recsys/cuda/memory.cuh"

namespace recsys::cuda {

/// Running maximum with the CPU's rules: the first NaN wins (NaN propagates), else the largest
/// value, ties going to the smaller index. A total order, so any combining tree gives one answer.
template <class T>
struct ArgMax {
  T value;
  std::int64_t index;
  __device__ void offer(T v, std::int64_t i) {
    const bool vn = v != v, bn = value != value;
    const bool take = (vn || bn) ? (vn && (!bn || i < index)) : (v > value || (v == value && i < index));
    if (take) {
      value = v;
      index = i;
    }
  }
};

template <class T>
__device__ inline ArgMax<T> warp_argmax(ArgMax<T> a) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    const T v = __shfl_xor_sync(0xffffffffu, a.value, offset);
    const long long i = __shfl_xor_sync(0xffffffffu, static_cast<long long>(a.index), offset);
    a.offer(v, i);
  }
  return a;
}

/// Rows of a flat array: row r is x[r*chunk, min((r+1)*chunk, total)). One block per row; each
/// thread walks its strided share, then a fixed butterfly combines the threads.
template <ReduceOp Op, class T>
__global__ void reduce_rows_kernel(const T* x, std::int64_t rows, std::int64_t chunk, std::int64_t total, T* out,
                                   std::int64_t* argmax, bool global_index) {
  __shared__ T scratch[32];
  __shared__ long long scratch_i[32];
  for (std::int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const std::int64_t begin = r * chunk, end = begin + chunk < total ? begin + chunk : total;
    if constexpr (Op == ReduceOp::sum) {
      T acc = 0;
      for (std::int64_t k = begin + threadIdx.x; k < end; k += blockDim.x) acc += x[k];
      acc = block_sum(acc, scratch);
      if (threadIdx.x == 0) out[r] = acc;
    } else {
      ArgMax<T> best{x[begin], begin};
      for (std::int64_t k = begin + threadIdx.x; k < end; k += blockDim.x) best.offer(x[k], k);
      best = warp_argmax(best);
      const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
      __syncthreads();
      if (lane == 0) {
        scratch[warp] = best.value;
        scratch_i[warp] = best.index;
      }
      __syncthreads();
      if (threadIdx.x == 0) {
        for (int w = 1; w < static_cast<int>(blockDim.x >> 5); ++w) best.offer(scratch[w], scratch_i[w]);
        out[r] = best.value;
        if (argmax) argmax[r] = global_index ? best.index : best.index - begin;
      }
    }
  }
}

/// Second pass of a chunked max: combines (value, index) partials into one.
template <class T>
__global__ void argmax_partials_kernel(const T* values, const std::int64_t* indices, std::int64_t count, T* out,
                                       std::int64_t* argmax) {
  __shared__ T scratch[32];
  __shared__ long long scratch_i[32];
  ArgMax<T> best{values[0], indices[0]};
  for (std::int64_t k = threadIdx.x; k < count; k += blockDim.x) best.offer(values[k], indices[k]);
  best = warp_argmax(best);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) {
    scratch[warp] = best.value;
    scratch_i[warp] = best.index;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    for (int w = 1; w < static_cast<int>(blockDim.x >> 5); ++w) best.offer(scratch[w], scratch_i[w]);
    out[0] = best.value;
    if (argmax) argmax[0] = best.index;
  }
}

/// inner > 1: a 32×8 block covers 32 neighbouring columns (coalesced reads); its 8 rows of threads
/// split n, and thread row 0 adds the 8 partial results in order.
template <ReduceOp Op, class T>
__global__ void reduce_cols_kernel(const T* x, std::int64_t outer, std::int64_t n, std::int64_t inner, T* out,
                                   std::int64_t* argmax) {
  __shared__ T part[8][33];
  __shared__ long long part_i[8][33];
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * 32 + threadIdx.x;
  for (std::int64_t o = blockIdx.y; o < outer; o += gridDim.y) {
    const T* xo = x + o * n * inner;
    if constexpr (Op == ReduceOp::sum) {
      T acc = 0;
      if (i < inner)
        for (std::int64_t k = threadIdx.y; k < n; k += 8) acc += xo[k * inner + i];
      part[threadIdx.y][threadIdx.x] = acc;
      __syncthreads();
      if (threadIdx.y == 0 && i < inner) {
        T total = part[0][threadIdx.x];
        for (int r = 1; r < 8; ++r) total += part[r][threadIdx.x];
        out[o * inner + i] = total;
      }
    } else {
      ArgMax<T> best{i < inner ? xo[i] : T(0), 0};
      if (i < inner)
        for (std::int64_t k = threadIdx.y; k < n; k += 8) best.offer(xo[k * inner + i], k);
      part[threadIdx.y][threadIdx.x] = best.value;
      part_i[threadIdx.y][threadIdx.x] = best.index;
      __syncthreads();
      if (threadIdx.y == 0 && i < inner) {
        for (int r = 1; r < 8; ++r) best.offer(part[r][threadIdx.x], part_i[r][threadIdx.x]);
        out[o * inner + i] = best.value;
        if (argmax) argmax[o * inner + i] = best.index;
      }
    }
    __syncthreads();  // part[] is reused by the next o
  }
}

/// gx[o, argmax[o, i], i] = g[o, i] (gx zeroed first).
template <class T>
__global__ void max_backward_kernel(const T* g, const std::int64_t* argmax, std::int64_t outer, std::int64_t n,
                                    std::int64_t inner, T* gx) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t j = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < outer * inner;
       j += stride) {
    const std::int64_t o = j / inner, i = j % inner;
    gx[(o * n + argmax[j]) * inner + i] = g[j];
  }
}

/// Elements one block reduces when a single long row is split (fixed, so the sum's rounding is too).
inline constexpr std::int64_t kReduceChunk = 32768;

/// The reduce_slot CUDA implementation (same signature and tie/NaN rules as cpu::reduce).
template <class T>
void reduce(ReduceOp op, const T* x, std::int64_t outer, std::int64_t n, std::int64_t inner, T* out,
            std::int64_t* argmax) {
  if (outer * inner == 0) return;
  const cudaStream_t s = current_stream();
  if (n == 0) {  // sum of nothing (max of nothing is refused by the op)
    RECSYS_CUDA_CHECK(cudaMemsetAsync(out, 0, static_cast<std::size_t>(outer * inner) * sizeof(T), s), "reduce");
    return;
  }
  auto launch = [&]<ReduceOp Op>() {
    if (inner > 1) {
      const dim3 grid(static_cast<unsigned>((inner + 31) / 32), static_cast<unsigned>(std::min<std::int64_t>(outer, 65535)));
      reduce_cols_kernel<Op, T><<<grid, dim3(32, 8), 0, s>>>(x, outer, n, inner, out, argmax);
    } else if (outer > 1 || n <= kReduceChunk) {
      const unsigned grid = static_cast<unsigned>(std::min<std::int64_t>(outer, 65535));
      reduce_rows_kernel<Op, T><<<grid, row_block(n), 0, s>>>(x, outer, n, outer * n, out, argmax, false);
    } else {  // one long row: fixed chunks, then their partial results
      const std::int64_t chunks = (n + kReduceChunk - 1) / kReduceChunk;
      DeviceScratch values(static_cast<std::size_t>(chunks) * sizeof(T));
      DeviceScratch indices(static_cast<std::size_t>(chunks) * sizeof(std::int64_t));
      T* pv = values.as<T>();
      auto* pi = indices.as<std::int64_t>();
      const unsigned grid = static_cast<unsigned>(std::min<std::int64_t>(chunks, 65535));
      reduce_rows_kernel<Op, T><<<grid, 256, 0, s>>>(x, chunks, kReduceChunk, n, pv, Op == ReduceOp::max ? pi : nullptr,
                                                     true);
      if constexpr (Op == ReduceOp::sum)
        reduce_rows_kernel<Op, T><<<1, row_block(chunks), 0, s>>>(pv, 1, chunks, chunks, out, nullptr, false);
      else
        argmax_partials_kernel<T><<<1, row_block(chunks), 0, s>>>(pv, pi, chunks, out, argmax);
    }
  };
  if (op == ReduceOp::sum)
    launch.template operator()<ReduceOp::sum>();
  else
    launch.template operator()<ReduceOp::max>();
  check_launch("reduce");
}

/// The max_backward_slot CUDA implementation.
template <class T>
void max_backward(const T* g, const std::int64_t* argmax, std::int64_t outer, std::int64_t n, std::int64_t inner,
                  T* gx) {
  const cudaStream_t s = current_stream();
  const std::int64_t total = outer * n * inner;
  if (total == 0) return;
  RECSYS_CUDA_CHECK(cudaMemsetAsync(gx, 0, static_cast<std::size_t>(total) * sizeof(T), s), "max_backward");
  max_backward_kernel<T><<<grid_for(outer * inner), kBlock, 0, s>>>(g, argmax, outer, n, inner, gx);
  check_launch("max_backward");
}

}  // namespace recsys::cuda
