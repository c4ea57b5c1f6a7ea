// recsys/cpu/maxpool1d.hpp — max pooling over time on channels-last (B, T, C) arrays, and its gradient.
#pragma once

#include <algorithm>
#include <cstdint>

#include "recsys/core/parallel.hpp"

namespace recsys::cpu {

/// One output row: o[c], a[c] = max and first argmax over the window's `pool` rows of `channels`.
/// The inner loop runs over channels with a branch-free update (bitwise | and &, unconditional
/// stores, restrict pointers) so it vectorizes: the branchy version mispredicts on half of all
/// random inputs and measured 15x slower.
template <class T>
inline void maxpool1d_row(const T* __restrict window, std::int64_t channels, std::int64_t pool, std::int32_t t0,
                          T* __restrict o, std::int32_t* __restrict a) {
  for (std::int64_t c = 0; c < channels; ++c) {
    o[c] = window[c];
    a[c] = t0;
  }
  for (std::int64_t j = 1; j < pool; ++j) {
    const T* row = window + j * channels;
    const std::int32_t t = t0 + static_cast<std::int32_t>(j);
    for (std::int64_t c = 0; c < channels; ++c) {
      const T v = row[c], best = o[c];
      const bool take = (v > best) | ((v != v) & (best == best));  // bitwise: no branches
      o[c] = take ? v : best;
      a[c] = take ? t : a[c];
    }
  }
}

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
    maxpool1d_row(x + (b * t_in + t0) * channels, channels, pool, static_cast<std::int32_t>(t0), out + r * channels,
                  argmax + r * channels);
  }
}

/// Adds g[c] to gx_row[c] where the window's argmax a[c] is time step t: a select instead of a
/// scatter, so it vectorizes (adding 0 elsewhere leaves every value unchanged).
template <class T>
inline void maxpool1d_route(const T* __restrict g, const std::int32_t* __restrict a, std::int32_t t,
                            std::int64_t channels, T* __restrict gx_row) {
  for (std::int64_t c = 0; c < channels; ++c) {
    const T v = g[c];  // loaded unconditionally: a conditional load would keep the loop scalar
    gx_row[c] += a[c] == t ? v : T(0);
  }
}

/// gx (batch, t_in, C) = 0, then gx[b, argmax[b, t, c], c] += gy[b, t, c]. Overlapping windows
/// (stride < pool) can send several gradients to one element: each batch element is summed by one
/// thread in window order, so the result never depends on the thread count.
template <class T>
void maxpool1d_backward(const T* gy, const std::int32_t* argmax, std::int64_t batch, std::int64_t t_in,
                        std::int64_t channels, std::int64_t pool, std::int64_t stride, std::int64_t t_out, T* gx) {
#pragma omp parallel for schedule(static) if (batch * t_in * channels >= kParallelGrain)
  for (std::int64_t b = 0; b < batch; ++b) {
    T* gxb = gx + b * t_in * channels;
    std::fill(gxb, gxb + t_in * channels, T(0));
    for (std::int64_t t = 0; t < t_out; ++t) {
      const std::int64_t row = (b * t_out + t) * channels;
      for (std::int64_t j = 0; j < pool; ++j) {
        const std::int64_t ti = t * stride + j;
        maxpool1d_route(gy + row, argmax + row, static_cast<std::int32_t>(ti), channels, gxb + ti * channels);
      }
    }
  }
}

}  // namespace recsys::cpu
