// recsys/cpu/reduce.hpp — sum and max over the middle axis of a contiguous (outer, n, inner) block.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "recsys/core/parallel.hpp"

namespace recsys {

enum class ReduceOp : std::uint8_t { sum, max };

namespace cpu {

/// Elements summed per block. Sums are formed block by block and then combined in block order,
/// so the rounding is fixed by the data alone, never by how many threads shared the work.
inline constexpr std::int64_t kSumBlock = 4096;

/// Sum of n contiguous values with 8 independent accumulators (fixed order: reproducible and fast).
template <class T>
T sum_block(const T* x, std::int64_t n) {
  T acc[8] = {};
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; ++l) acc[l] += x[i + l];
  for (int l = 0; i < n; ++i, ++l) acc[l] += x[i];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/// Sum of n contiguous values: blocks of kSumBlock, combined in order; parallel over blocks if asked.
template <class T>
T sum_contiguous(const T* x, std::int64_t n, bool parallel) {
  const std::int64_t blocks = (n + kSumBlock - 1) / kSumBlock;
  if (blocks <= 1) return sum_block(x, n);
  std::vector<T> partial(static_cast<std::size_t>(blocks));
#pragma omp parallel for schedule(static) if (parallel)
  for (std::int64_t b = 0; b < blocks; ++b)
    partial[static_cast<std::size_t>(b)] = sum_block(x + b * kSumBlock, std::min(kSumBlock, n - b * kSumBlock));
  T total = 0;
  for (T p : partial) total += p;
  return total;
}

/// x: (outer, n, inner) contiguous. out: (outer, inner). For max, argmax (if not null) receives the
/// index along n of the first maximum (NaN counts as the maximum, so it propagates).
template <class T>
void reduce(ReduceOp op, const T* x, std::int64_t outer, std::int64_t n, std::int64_t inner, T* out,
            std::int64_t* argmax) {
  const bool big = outer * n * inner >= kParallelGrain;
  if (op == ReduceOp::sum && inner == 1) {
    if (outer == 1) {
      out[0] = sum_contiguous(x, n, big);
      return;
    }
#pragma omp parallel for schedule(static) if (big)
    for (std::int64_t o = 0; o < outer; ++o) out[o] = sum_contiguous(x + o * n, n, false);
    return;
  }
#pragma omp parallel for schedule(static) if (big && outer > 1)
  for (std::int64_t o = 0; o < outer; ++o) {
    const T* xo = x + o * n * inner;
    T* oo = out + o * inner;
    std::int64_t* ao = argmax ? argmax + o * inner : nullptr;
    if (op == ReduceOp::sum) {
      std::fill(oo, oo + inner, T(0));
      for (std::int64_t k = 0; k < n; ++k)
        for (std::int64_t i = 0; i < inner; ++i) oo[i] += xo[k * inner + i];
    } else {
      for (std::int64_t i = 0; i < inner; ++i) {
        T best = xo[i];
        std::int64_t best_k = 0;
        for (std::int64_t k = 1; k < n && best == best; ++k) {
          const T v = xo[k * inner + i];
          if (v > best || v != v) {
            best = v;
            best_k = k;
          }
        }
        oo[i] = best;
        if (ao) ao[i] = best_k;
      }
    }
  }
}

/// Gradient of max: gx (outer, n, inner) is zero except gx[o, argmax[o, i], i] = g[o, i].
template <class T>
void max_backward(const T* g, const std::int64_t* argmax, std::int64_t outer, std::int64_t n, std::int64_t inner,
                  T* gx) {
  std::fill(gx, gx + outer * n * inner, T(0));
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::int64_t i = 0; i < inner; ++i) gx[(o * n + argmax[o * inner + i]) * inner + i] = g[o * inner + i];
}

}  // namespace cpu
}  // namespace recsys
