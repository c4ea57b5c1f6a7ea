// recsys/cpu/dropout.hpp — the dropout mask, drawn from the counter-based Philox stream and applied in one pass.
#pragma once

#include <algorithm>
#include <cstdint>

#include "recsys/core/parallel.hpp"
#include "recsys/core/random.hpp"
#include "recsys/cpu/philox_fill.hpp"

namespace recsys::cpu {

/// y[i] = x[i] * (keep(i) ? scale : 0) for i < n, where keep(i) is
/// philox_uniform<float>(seed, first_block, i) >= threshold. Multiplying (rather than selecting)
/// lets a NaN through even where it is dropped, as PyTorch does. The same call with x = dy gives
/// the gradient, so the mask is regenerated in backward instead of being stored.
template <class T>
void dropout(const T* x, T* y, std::int64_t n, std::uint64_t seed, std::uint64_t first_block, float threshold,
             T scale) {
  // One Philox block yields the four words of elements 4·blk .. 4·blk + 3 (see philox_u32); a chunk
  // of blocks is drawn at once by philox_fill's vectorised loop (the same words, ~10× faster).
  constexpr std::int64_t kChunkBlocks = 256;
  const std::int64_t blocks = (n + 3) / 4, chunks = (blocks + kChunkBlocks - 1) / kChunkBlocks;
#pragma omp parallel for schedule(static) if (n >= kParallelGrain)
  for (std::int64_t c = 0; c < chunks; ++c) {
    std::uint32_t words[4 * kChunkBlocks];
    const std::int64_t b0 = c * kChunkBlocks, nb = std::min(kChunkBlocks, blocks - b0);
    philox_fill(seed, first_block + static_cast<std::uint64_t>(b0), nb, words);
    const std::int64_t i0 = b0 * 4, count = std::min<std::int64_t>(4 * nb, n - i0);
    for (std::int64_t j = 0; j < count; ++j) {
      const bool keep = u32_to_unit_float(words[j]) >= threshold;
      y[i0 + j] = x[i0 + j] * (keep ? scale : T(0));
    }
  }
}

}  // namespace recsys::cpu
