// recsys/cpu/maxpool1d.hpp — max pooling over time on channels-last (B, T, C) arrays, and its gradient.
#pragma once

#include <algorithm>
#include <cstdint>

#include "recsys/core/parallel.hpp"

namespace recsys::cpu {

/// x: (batch, t_in, C) → out, argmax: (batch, t_out, C); window t covers time steps
/// [t·stride, t·stride + pool). argmax holds the time index in x of the first maximum; a NaN
/// counts as the maximum (the first one wins), so NaN propagates as in PyTorch.
template <class T>
void maxpool1d_forward(const T* x, std::int64_t batch, std::int64_t t_in, std::int64_t channels, std::int64_t pool,
                       std::int64_t stride, std::int64_t t_out, T* out, std::int32_t* argmax) {
  const std::int64_t rows = batch * t_out;
#pragma omp parallel for schedule(static) if (rows * pool * channels >= kParallelGrain)
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int64_t b = r / t_out, t0 = r % t_out * stride;
    const T* window = x + (b * t_in + t0) * channels;
    T* o = out + r * channels;
    std::int32_t* a = argmax + r * channels;
    for (std::int64_t c = 0; c < channels; ++c) {
      o[c] = window[c];
      a[c] = static_cast<std::int32_t>(t0);
    }
    for (std::int64_t j = 1; j < pool; ++j) {
      const T* row = window + j * channels;
      for (std::int64_t c = 0; c < channels; ++c) {
        const T v = row[c];
        if (v > o[c] || (v != v && o[c] == o[c])) {
          o[c] = v;
          a[c] = static_cast<std::int32_t>(t0 + j);
        }
      }
    }
  }
}

/// gx (batch, t_in, C) = 0, then gx[b, argmax[b, t, c], c] += gy[b, t, c]. Overlapping windows
/// (stride < pool) can send several gradients to one element: each batch element is summed by one
/// thread in window order, so the result never depends on the thread count.
template <class T>
void maxpool1d_backward(const T* gy, const std::int32_t* argmax, std::int64_t batch, std::int64_t t_in,
                        std::int64_t channels, std::int64_t t_out, T* gx) {
#pragma omp parallel for schedule(static) if (batch * t_in * channels >= kParallelGrain)
  for (std::int64_t b = 0; b < batch; ++b) {
    T* gxb = gx + b * t_in * channels;
    std::fill(gxb, gxb + t_in * channels, T(0));
    for (std::int64_t t = 0; t < t_out; ++t) {
      const T* g = gy + (b * t_out + t) * channels;
      const std::int32_t* a = argmax + (b * t_out + t) * channels;
      for (std::int64_t c = 0; c < channels; ++c) gxb[a[c] * channels + c] += g[c];
    }
  }
}

}  // namespace recsys::cpu
