// recsys/cuda/copy.cuh — strided copy with dtype conversion and broadcasting, and strided fill.
#pragma once

#include <cstdint>

#include "recsys/cuda/common.cuh"

namespace recsys::cuda {

/// dst = Dst(src) for contiguous operands (the common contiguous() / to(dtype) case).
template <class Src, class Dst>
__global__ void copy_dense_kernel(const Src* src, Dst* dst, std::int64_t n) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    dst[i] = static_cast<Dst>(src[i]);
}

/// Any strides: each thread finds its element's offsets from the linear index (operand 0 is dst).
template <class Src, class Dst, class Index>
__global__ void copy_strided_kernel(const Src* src, Dst* dst, StridedGeometry<2> g, std::int64_t n) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    std::int64_t off[2];
    strided_offsets<Index>(g, static_cast<Index>(i), off);
    dst[off[0]] = static_cast<Dst>(src[off[1]]);
  }
}

template <class T, class Index>
__global__ void fill_kernel(T* dst, StridedGeometry<1> g, std::int64_t n, T value) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    std::int64_t off[1];
    strided_offsets<Index>(g, static_cast<Index>(i), off);
    dst[off[0]] = value;
  }
}

/// The copy_slot CUDA implementation (same signature as cpu::copy_strided).
template <class Src, class Dst>
void copy_strided(const Src* src, Shape src_strides, Dst* dst, Shape dst_strides, Shape shape) {
  const std::int64_t n = shape.numel();
  if (n == 0) return;
  const StridedGeometry<2> g = make_geometry<2>(shape, {dst_strides, src_strides});
  const cudaStream_t s = current_stream();
  if (g.rank == 1 && g.strides[0][0] == 1 && g.strides[1][0] == 1) {
    if constexpr (std::is_same_v<Src, Dst>) {
      RECSYS_CUDA_CHECK(cudaMemcpyAsync(dst, src, static_cast<std::size_t>(n) * sizeof(Dst), cudaMemcpyDeviceToDevice, s),
                        "copy");
      return;
    }
    copy_dense_kernel<Src, Dst><<<grid_for(n), kBlock, 0, s>>>(src, dst, n);
  } else if (n <= std::numeric_limits<std::uint32_t>::max()) {
    copy_strided_kernel<Src, Dst, std::uint32_t><<<grid_for(n), kBlock, 0, s>>>(src, dst, g, n);
  } else {
    copy_strided_kernel<Src, Dst, std::uint64_t><<<grid_for(n), kBlock, 0, s>>>(src, dst, g, n);
  }
  check_launch("copy");
}

/// The fill_slot CUDA implementation.
template <class T>
void fill_strided(T* dst, Shape strides, Shape shape, T value) {
  const std::int64_t n = shape.numel();
  if (n == 0) return;
  const StridedGeometry<1> g = make_geometry<1>(shape, {strides});
  const cudaStream_t s = current_stream();
  if (n <= std::numeric_limits<std::uint32_t>::max())
    fill_kernel<T, std::uint32_t><<<grid_for(n), kBlock, 0, s>>>(dst, g, n, value);
  else
    fill_kernel<T, std::uint64_t><<<grid_for(n), kBlock, 0, s>>>(dst, g, n, value);
  check_launch("fill");
}

}  // namespace recsys::cuda
