// recsys/cpu/embedding_conv1d_scatter.hpp — the gradient side of cpu/embedding_conv1d.hpp: scatter-adds of the convolution's (or the pooled) gradient into the per-vocabulary table's gradient.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "recsys/core/parallel.hpp"
#include "recsys/cpu/cpu_features.hpp"
#include "recsys/cpu/embedding_conv1d.hpp"

namespace recsys::cpu {
namespace embedding_conv1d_detail {

/// Asks for the cache lines of p[c0, c1) ahead of use (a hint; no effect on results).
template <class T>
[[gnu::always_inline]] inline void prefetch_columns(const T* p, std::int64_t c0, std::int64_t c1) {
  const char* first = reinterpret_cast<const char*>(p + c0);
  const char* last = reinterpret_cast<const char*>(p + c1);
  for (const char* line = first; line < last; line += 64) __builtin_prefetch(line, 0, 3);
}

/// How many rows ahead the scatters prefetch the gradient rows they stream: between two of those
/// rows they touch K·F random table elements, which hides the stream from the hardware prefetcher
/// (measured: half of the pooled scatter's time waited on those loads).
inline constexpr std::int64_t kScatterPrefetchRows = 4;

/// One thread's share of a scatter: table rows (vocabulary ids) [v0, v1) in columns [c0, c1), and
/// the bias sum's columns [b0, b1). Every share walks all positions in order, so each element sums
/// its terms in position order however the work is cut (see embedding_conv1d_scatter).
struct ScatterPart {
  std::int64_t v0 = 0, v1 = 0, c0 = 0, c1 = 0, b0 = 0, b1 = 0;
};

/// One share of the pooled scatter (see embedding_conv1d_scatter_pooled). A null `winner` routes
/// every gradient (the plain scatter: windows of one step, no ReLU).
template <class Id, class T>
[[gnu::always_inline]] inline void scatter_pooled_part(const EmbeddingConv1dShape& g, const EmbeddingConv1dPool& pool,
                                                       const Id* ids, const T* grad_pooled, const std::uint8_t* winner,
                                                       T* grad_table, T* grad_bias, const ScatterPart& part) {
  const std::int64_t F = g.filters, KF = g.kernel * g.filters, rows = g.batch * pool.t_out;
  const std::int64_t c0 = part.c0, c1 = part.c1;
  const bool table = grad_table != nullptr && part.v0 < part.v1 && c0 < c1;
  const bool bias = grad_bias != nullptr && part.b0 < part.b1;
  if (table)
    for (std::int64_t v = part.v0 * g.kernel; v < part.v1 * g.kernel; ++v)
      std::fill(grad_table + v * F + c0, grad_table + v * F + c1, T(0));
  if (bias) std::fill(grad_bias + part.b0, grad_bias + part.b1, T(0));
  const std::int64_t p0 = bias ? std::min(c0, part.b0) : c0, p1 = bias ? std::max(c1, part.b1) : c1;
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int64_t b = r / pool.t_out, t0 = (r - b * pool.t_out) * pool.stride;
    const Id* row_ids = ids + b * g.t_in;
    const T* __restrict src = grad_pooled + r * F;
    const std::uint8_t* __restrict win = winner != nullptr ? winner + r * F : nullptr;
    if (r + kScatterPrefetchRows < rows) {
      prefetch_columns(src + kScatterPrefetchRows * F, p0, p1);
      if (win != nullptr) prefetch_columns(win + kScatterPrefetchRows * F, p0, p1);
    }
    if (bias) {
      if (win == nullptr) {
#pragma omp simd
        for (std::int64_t c = part.b0; c < part.b1; ++c) grad_bias[c] += src[c];
      } else {
#pragma omp simd
        for (std::int64_t c = part.b0; c < part.b1; ++c) grad_bias[c] += win[c] != kNoWinner ? src[c] : T(0);
      }
    }
    if (!table) continue;
    for (std::int64_t j = 0; j < pool.size; ++j) {
      const auto step = static_cast<std::uint8_t>(j);
      for (std::int64_t k = 0; k < g.kernel; ++k) {
        const std::int64_t i = (t0 + j) * g.stride + k - g.pad_left;
        if (i < 0 || i >= g.t_in) continue;
        const auto id = static_cast<std::int64_t>(row_ids[i]);
        if (id < part.v0 || id >= part.v1) continue;
        T* __restrict dst = grad_table + id * KF + k * F;
        if (win == nullptr) {
#pragma omp simd
          for (std::int64_t c = c0; c < c1; ++c) dst[c] += src[c];
        } else {
#pragma omp simd
          for (std::int64_t c = c0; c < c1; ++c) dst[c] += win[c] == step ? src[c] : T(0);
        }
      }
    }
  }
}

template <class Id, class T>
using ScatterPooledFn = void (*)(const EmbeddingConv1dShape&, const EmbeddingConv1dPool&, const Id*, const T*,
                                 const std::uint8_t*, T*, T*, const ScatterPart&);

// Compiled for the baseline ISA and, for float on x86, for AVX2 and AVX-512 (as the gathers are).
template <class Id, class T>
void scatter_pooled_base(const EmbeddingConv1dShape& g, const EmbeddingConv1dPool& pool, const Id* ids,
                         const T* grad_pooled, const std::uint8_t* winner, T* grad_table, T* grad_bias,
                         const ScatterPart& part) {
  scatter_pooled_part(g, pool, ids, grad_pooled, winner, grad_table, grad_bias, part);
}
#if RECSYS_X86_SIMD
template <class Id>
RECSYS_TARGET_AVX2 void scatter_pooled_avx2(const EmbeddingConv1dShape& g, const EmbeddingConv1dPool& pool,
                                            const Id* ids, const float* grad_pooled, const std::uint8_t* winner,
                                            float* grad_table, float* grad_bias, const ScatterPart& part) {
  scatter_pooled_part(g, pool, ids, grad_pooled, winner, grad_table, grad_bias, part);
}
template <class Id>
RECSYS_TARGET_AVX512 void scatter_pooled_avx512(const EmbeddingConv1dShape& g, const EmbeddingConv1dPool& pool,
                                                const Id* ids, const float* grad_pooled, const std::uint8_t* winner,
                                                float* grad_table, float* grad_bias, const ScatterPart& part) {
  scatter_pooled_part(g, pool, ids, grad_pooled, winner, grad_table, grad_bias, part);
}
#endif

template <class Id, class T>
ScatterPooledFn<Id, T> scatter_pooled_kernel() {
#if RECSYS_X86_SIMD
  if constexpr (std::is_same_v<T, float>) {
    if (simd_level() == SimdLevel::avx512) return &scatter_pooled_avx512<Id>;
    if (simd_level() == SimdLevel::avx2) return &scatter_pooled_avx2<Id>;
  }
#endif
  return &scatter_pooled_base<Id, T>;
}

/// Cuts a scatter into one ScatterPart per thread and runs kernel(part) for each. Threads own
/// disjoint ranges of vocabulary ids — whole table rows, so no two cores write the same stretch of
/// the table (when they split the columns of every row instead, each core ran slower than one core
/// alone doing all of it, most likely as lines moved between the cores' caches) — with about the same
/// number of id occurrences in each range. When one id alone is more than a thread's share
/// (padding in mostly short sequences), no cut by ids balances, and the threads split the columns
/// (blocks of 16, a cache line of floats). The bias sum's columns are split either way.
template <class Id, class Kernel>
void for_scatter_parts(const EmbeddingConv1dShape& g, const Id* ids, bool parallel, const Kernel& kernel) {
  const std::int64_t V = g.vocab, F = g.filters;
  const std::int64_t threads = parallel ? num_threads() : 1;
  if (threads <= 1) {
    kernel(ScatterPart{0, V, 0, F, 0, F});
    return;
  }
  const std::int64_t width = std::max<std::int64_t>(16, ((F + threads - 1) / threads + 15) / 16 * 16);
  // Reused between calls: the training step allocates nothing once it runs steadily.
  thread_local std::vector<std::int64_t> counts;
  thread_local std::vector<ScatterPart> parts;
  counts.assign(static_cast<std::size_t>(V), 0);
  parts.assign(static_cast<std::size_t>(threads), ScatterPart{});
  const std::int64_t n = g.batch * g.t_in;
  for (std::int64_t i = 0; i < n; ++i) ++counts[static_cast<std::size_t>(ids[i])];
  const std::int64_t most = *std::max_element(counts.begin(), counts.end());
  const bool by_ids = most * threads <= n;
  std::int64_t v = 0, seen = 0;
  for (std::int64_t p = 0; p < threads; ++p) {
    ScatterPart& part = parts[static_cast<std::size_t>(p)];
    part.b0 = std::min(F, p * width);
    part.b1 = std::min(F, (p + 1) * width);
    if (by_ids) {
      part.v0 = v;
      const std::int64_t goal = n * (p + 1) / threads;
      while (v < V && (p == threads - 1 || seen + counts[static_cast<std::size_t>(v)] <= goal))
        seen += counts[static_cast<std::size_t>(v++)];
      part.v1 = v;
      part.c0 = 0;
      part.c1 = F;
    } else {
      part.v0 = 0;
      part.v1 = V;
      part.c0 = part.b0;
      part.c1 = part.b1;
    }
  }
  const ScatterPart* shares = parts.data();
#pragma omp parallel for schedule(static)
  for (std::int64_t p = 0; p < threads; ++p) kernel(shares[p]);
}

}  // namespace embedding_conv1d_detail

/// The adjoint of the training gather_maxpool, for windows that do not overlap (pool.stride >=
/// pool.size): each pooled gradient goes to the one convolution step that won its window (winner),
/// then through the taps as embedding_conv1d_scatter sends it. The pooling's and the ReLU's backward
/// and the (batch, t_out, F) convolution gradient are never formed, yet every grad_table element sums
/// the same terms in the same position order (steps that get nothing add nothing instead of +0,
/// which changes no bits), so grad_table equals the scatter of maxpool1d's and relu's gradients bit
/// for bit. grad_bias (may be null) receives Σ of the routed gradients, in position order, as sum()
/// over dim 0 of that convolution gradient adds them. grad_table may be null when only the bias learns.
/// A null winner routes every gradient (embedding_conv1d_scatter).
template <class Id, class T>
void embedding_conv1d_scatter_pooled(const EmbeddingConv1dShape& g, const EmbeddingConv1dPool& pool, const Id* ids,
                                     const T* grad_pooled, const std::uint8_t* winner, T* grad_table, T* grad_bias) {
  const auto kernel = embedding_conv1d_detail::scatter_pooled_kernel<Id, T>();
  embedding_conv1d_detail::for_scatter_parts(
      g, ids, g.batch * pool.t_out * pool.size * g.kernel * g.filters >= kParallelGrain,
      [&](const embedding_conv1d_detail::ScatterPart& part) {
        kernel(g, pool, ids, grad_pooled, winner, grad_table, grad_bias, part);
      });
}

/// The gather's adjoint: grad_table[v, k, :] = Σ over output steps (b, t) whose tap k reads id v of
/// grad_out[b, t, :]. Threads split the work (for_scatter_parts) but never the positions: every
/// thread walks all positions in order and adds into its own part of the table, so each element
/// sums its terms in position order whatever the thread count (bitwise reproducible) and there are
/// no racing adds. grad_out is read in order; the random reads and writes land in grad_table
/// (vocab·K·F, cache-sized for real vocabularies).
/// It is the pooled scatter with windows of one step and every gradient routed, as the plain gather
/// is the pooled one.
template <class Id, class T>
void embedding_conv1d_scatter(const EmbeddingConv1dShape& g, const Id* ids, const T* grad_out, T* grad_table) {
  EmbeddingConv1dPool one_step;
  one_step.t_out = g.t_out;
  embedding_conv1d_scatter_pooled<Id, T>(g, one_step, ids, grad_out, nullptr, grad_table, nullptr);
}

}  // namespace recsys::cpu
