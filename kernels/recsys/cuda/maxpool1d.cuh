// recsys/cuda/maxpool1d.cuh — max pooling over time on channels-last (B, T, C), with int32 argmax, and its gradient.
#pragma once

#include <cstdint>

#include "recsys/cuda/common.cuh"

namespace recsys::cuda {

/// One thread per output (b, t, c); consecutive threads take consecutive channels (coalesced).
template <class T>
__global__ void maxpool1d_forward_kernel(const T* x, std::int64_t batch, std::int64_t t_in, std::int64_t channels,
                                         std::int64_t pool, std::int64_t stride, std::int64_t t_out, T* out,
                                         std::int32_t* argmax) {
  const std::int64_t total = batch * t_out * channels;
  const std::int64_t step = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t e = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += step) {
    const std::int64_t c = e % channels, r = e / channels, b = r / t_out, t0 = r % t_out * stride;
    const T* w = x + (b * t_in + t0) * channels + c;
    T best = w[0];
    std::int64_t at = t0;
    for (std::int64_t j = 1; j < pool; ++j) {
      const T v = w[j * channels];
      if (v > best || (v != v && best == best)) {  // the CPU's rule: first maximum, first NaN
        best = v;
        at = t0 + j;
      }
    }
    out[e] = best;
    argmax[e] = static_cast<std::int32_t>(at);
  }
}

/// One thread per (b, c) walks the windows in order and adds each gradient at its argmax: the
/// CPU's order of additions, so overlapping windows (stride < pool) give the same bits.
template <class T>
__global__ void maxpool1d_backward_kernel(const T* gy, const std::int32_t* argmax, std::int64_t batch, std::int64_t t_in,
                                          std::int64_t channels, std::int64_t t_out, T* gx) {
  const std::int64_t total = batch * channels;
  const std::int64_t step = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t e = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += step) {
    const std::int64_t c = e % channels, b = e / channels;
    T* gxb = gx + b * t_in * channels + c;
    for (std::int64_t t = 0; t < t_out; ++t) {
      const std::int64_t o = (b * t_out + t) * channels + c;
      gxb[static_cast<std::int64_t>(argmax[o]) * channels] += gy[o];
    }
  }
}

/// The maxpool1d_forward_slot CUDA implementation.
template <class T>
void maxpool1d_forward(const T* x, std::int64_t batch, std::int64_t t_in, std::int64_t channels, std::int64_t pool,
                       std::int64_t stride, std::int64_t t_out, T* out, std::int32_t* argmax) {
  const std::int64_t total = batch * t_out * channels;
  if (total <= 0) return;
  maxpool1d_forward_kernel<T><<<grid_for(total), kBlock, 0, current_stream()>>>(x, batch, t_in, channels, pool, stride,
                                                                                 t_out, out, argmax);
  check_launch("maxpool1d");
}

/// The maxpool1d_backward_slot CUDA implementation.
template <class T>
void maxpool1d_backward(const T* gy, const std::int32_t* argmax, std::int64_t batch, std::int64_t t_in,
                        std::int64_t channels, std::int64_t t_out, T* gx) {
  const cudaStream_t s = current_stream();
  if (batch * t_in * channels <= 0) return;
  RECSYS_CUDA_CHECK(cudaMemsetAsync(gx, 0, static_cast<std::size_t>(batch * t_in * channels) * sizeof(T), s),
                    "maxpool1d_backward");
  maxpool1d_backward_kernel<T><<<grid_for(batch * channels), kBlock, 0, s>>>(gy, argmax, batch, t_in, channels, t_out, gx);
  check_launch("maxpool1d_backward");
}

/// The same, for the slot signature that also passes the pool size and stride (the per-(b, c) walk
/// over the windows needs neither, so both slot versions share one kernel).
template <class T>
void maxpool1d_backward(const T* gy, const std::int32_t* argmax, std::int64_t batch, std::int64_t t_in,
                        std::int64_t channels, std::int64_t /*pool*/, std::int64_t /*stride*/, std::int64_t t_out,
                        T* gx) {
  maxpool1d_backward<T>(gy, argmax, batch, t_in, channels, t_out, gx);
}

}  // namespace recsys::cuda
