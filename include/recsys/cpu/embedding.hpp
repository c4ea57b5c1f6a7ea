// recsys/cpu/embedding.hpp — embedding lookup (row gather) and its gradient (deterministic row scatter-add).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "recsys/core/parallel.hpp"

namespace recsys::cpu {

/// out[i, :] = weight[ids[i], :] for i < n; weight: (vocab, dim), out: (n, dim), both contiguous.
/// Returns the position of the first id outside [0, vocab), or -1 when all are valid; the rows of
/// invalid ids are zeroed so the output is never left uninitialized.
template <class Id, class T>
std::int64_t embedding_forward(const Id* ids, std::int64_t n, const T* weight, std::int64_t vocab, std::int64_t dim,
                               T* out) {
  std::int64_t first_bad = n;  // min over positions: exact, so any thread split finds the same one
#pragma omp parallel for schedule(static) reduction(min : first_bad) if (n * dim >= kParallelGrain)
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t id = static_cast<std::int64_t>(ids[i]);
    T* row = out + i * dim;
    if (id < 0 || id >= vocab) {
      std::fill(row, row + dim, T(0));
      first_bad = std::min(first_bad, i);
    } else {
      std::memcpy(row, weight + id * dim, static_cast<std::size_t>(dim) * sizeof(T));
    }
  }
  return first_bad == n ? -1 : first_bad;
}

/// grad_weight (vocab, dim) = Σ_i [ids[i] == v] grad_out[i, :], with row `padding_idx` (if >= 0)
/// left at zero and ids outside [0, vocab) skipped. Threads split the columns, never the positions:
/// each element sums its contributions in position order whatever the thread count, and a hot id
/// (padding, a stop word) spreads over all threads instead of landing on one.
template <class Id, class T>
void embedding_backward(const Id* ids, std::int64_t n, const T* grad_out, std::int64_t vocab, std::int64_t dim,
                        std::int64_t padding_idx, T* grad_weight) {
  std::fill(grad_weight, grad_weight + vocab * dim, T(0));
  const bool parallel = n * dim >= kParallelGrain;
  // One column block per thread (a multiple of 16 columns, a 64-byte line of floats): the block
  // width changes which thread adds an element, never the order of its additions.
  const std::int64_t threads = parallel ? num_threads() : 1;
  const std::int64_t width = std::max<std::int64_t>(16, ((dim + threads - 1) / threads + 15) / 16 * 16);
  const std::int64_t blocks = (dim + width - 1) / width;
#pragma omp parallel for schedule(static) if (parallel && blocks > 1)
  for (std::int64_t blk = 0; blk < blocks; ++blk) {
    const std::int64_t c0 = blk * width, c1 = std::min(dim, c0 + width);
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t id = static_cast<std::int64_t>(ids[i]);
      if (id < 0 || id >= vocab || id == padding_idx) continue;
      T* dst = grad_weight + id * dim;
      const T* src = grad_out + i * dim;
#pragma omp simd
      for (std::int64_t c = c0; c < c1; ++c) dst[c] += src[c];
    }
  }
}

}  // namespace recsys::cpu
