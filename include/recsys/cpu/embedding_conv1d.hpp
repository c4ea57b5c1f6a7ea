// recsys/cpu/embedding_conv1d.hpp — conv1d over an embedding lookup, per vocabulary row: the id check, the weight permute and the tap gather-add, pooled or not (the gradient side: embedding_conv1d_scatter.hpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "recsys/core/parallel.hpp"
#include "recsys/cpu/cpu_features.hpp"

#if RECSYS_X86_SIMD
#include <immintrin.h>
#endif

namespace recsys::cpu {

/// The position of the first id outside [0, vocab), or -1 when all are valid. A min reduction, so
/// any thread split reports the same position.
template <class Id>
std::int64_t embedding_conv1d_first_bad_id(const Id* ids, std::int64_t n, std::int64_t vocab) {
  std::int64_t first_bad = n;
#pragma omp parallel for schedule(static) reduction(min : first_bad) if (n >= kParallelGrain)
  for (std::int64_t i = 0; i < n; ++i) {
    const auto id = static_cast<std::int64_t>(ids[i]);
    if (id < 0 || id >= vocab) first_bad = std::min(first_bad, i);
  }
  return first_bad == n ? -1 : first_bad;
}

/// w: (K, C, F) → w_cat: (C, K·F), w_cat[c, k·F + f] = w[k, c, f]: all taps side by side, so the
/// per-row products of every tap are one GEMM (E · w_cat) and the table gradient another (G · w_catᵀ).
template <class T>
void embedding_conv1d_permute_weight(const T* __restrict w, std::int64_t kernel, std::int64_t channels,
                                     std::int64_t filters, T* __restrict w_cat) {
  for (std::int64_t c = 0; c < channels; ++c)
    for (std::int64_t k = 0; k < kernel; ++k)
      std::copy(w + (k * channels + c) * filters, w + (k * channels + c + 1) * filters,
                w_cat + (c * kernel + k) * filters);
}

/// Sizes of one call: ids (batch, t_in); output (batch, t_out, filters); tap k of output step t
/// reads input step t·stride + k - pad_left, and a step outside [0, t_in) is zero padding.
struct EmbeddingConv1dShape {
  std::int64_t batch = 0, t_in = 0, t_out = 0, kernel = 0, filters = 0, stride = 1, pad_left = 0, vocab = 0;
};

/// The max pooling (and ReLU before it) that embedding_conv1d_gather_maxpool applies on the fly:
/// pooled row q covers convolution steps [q·stride, q·stride + size).
struct EmbeddingConv1dPool {
  std::int64_t size = 1, stride = 1, t_out = 0;
  bool relu = false;
};

/// What the training form of the pooled gather records per pooled element: the offset j in
/// [0, size) of the window step that won (maxpool1d's argmax rule), or kNoWinner when the ReLU
/// passes no gradient (the pooled value is not > 0). One byte, so windows are at most 254 steps.
inline constexpr std::uint8_t kNoWinner = 255;

namespace embedding_conv1d_detail {

/// One output row of the convolution: y = bias + Σ_k table[row_ids[t·stride + k - pad], k, :].
template <class Id, class T>
[[gnu::always_inline]] inline void gather_row(const EmbeddingConv1dShape& g, const Id* row_ids, std::int64_t t,
                                              const T* table, const T* bias, T* __restrict y) {
  const std::int64_t F = g.filters, KF = g.kernel * g.filters;
  if (bias != nullptr) {
    std::copy(bias, bias + F, y);
  } else {
    std::fill(y, y + F, T(0));
  }
  // Tap by tap over a row that stays in L1; summing all taps in registers per element measured
  // slower (GCC turns the pointer table into gathers).
  for (std::int64_t k = 0; k < g.kernel; ++k) {
    const std::int64_t j = t * g.stride + k - g.pad_left;
    if (j < 0 || j >= g.t_in) continue;
    const T* __restrict src = table + static_cast<std::int64_t>(row_ids[j]) * KF + k * F;
#pragma omp simd
    for (std::int64_t f = 0; f < F; ++f) y[f] += src[f];
  }
}

/// Output rows [r0, r1) of the gather (see embedding_conv1d_gather).
template <class Id, class T>
[[gnu::always_inline]] inline void gather_rows(const EmbeddingConv1dShape& g, const Id* ids, const T* table,
                                               const T* bias, T* out, std::int64_t r0, std::int64_t r1) {
  for (std::int64_t r = r0; r < r1; ++r) {
    const std::int64_t b = r / g.t_out, t = r - b * g.t_out;
    gather_row(g, ids + b * g.t_in, t, table, bias, out + r * g.filters);
  }
}

/// ReLU in place when `relu`: x > 0 ? x : 0, exactly as the relu op computes it.
template <class T>
[[gnu::always_inline]] inline void relu_row(T* __restrict y, std::int64_t n, bool relu) {
  if (!relu) return;
#pragma omp simd
  for (std::int64_t f = 0; f < n; ++f) y[f] = y[f] > T(0) ? y[f] : T(0);
}

/// Pooled rows [r0, r1) (see embedding_conv1d_gather_maxpool); `scratch` holds one row of F values;
/// `winner` (null for inference) receives the winning window offsets (see kNoWinner).
template <class Id, class T>
[[gnu::always_inline]] inline void gather_pool_rows(const EmbeddingConv1dShape& g, const EmbeddingConv1dPool& pool,
                                                    const Id* ids, const T* table, const T* bias, T* out,
                                                    T* __restrict scratch, std::uint8_t* winner, std::int64_t r0,
                                                    std::int64_t r1) {
  const std::int64_t F = g.filters;
  for (std::int64_t r = r0; r < r1; ++r) {
    const std::int64_t b = r / pool.t_out, t0 = (r - b * pool.t_out) * pool.stride;
    const Id* row_ids = ids + b * g.t_in;
    T* __restrict o = out + r * F;
    std::uint8_t* __restrict win = winner != nullptr ? winner + r * F : nullptr;
    gather_row(g, row_ids, t0, table, bias, o);
    relu_row(o, F, pool.relu);
    if (win != nullptr) std::fill(win, win + F, std::uint8_t(0));
    for (std::int64_t j = 1; j < pool.size; ++j) {
      gather_row(g, row_ids, t0 + j, table, bias, scratch);
      relu_row(scratch, F, pool.relu);
      // maxpool1d_row's rule: the larger value, and the first NaN wins.
      if (win == nullptr) {
#pragma omp simd
        for (std::int64_t f = 0; f < F; ++f) {
          const T v = scratch[f], best = o[f];
          o[f] = (v > best) | ((v != v) & (best == best)) ? v : best;
        }
      } else {
        const auto step = static_cast<std::uint8_t>(j);
#pragma omp simd
        for (std::int64_t f = 0; f < F; ++f) {
          const T v = scratch[f], best = o[f];
          const bool take = (v > best) | ((v != v) & (best == best));
          o[f] = take ? v : best;
          win[f] = take ? step : win[f];
        }
      }
    }
    if (win != nullptr && pool.relu)  // relu'(z) = 0 where the pooled value is not positive
      for (std::int64_t f = 0; f < F; ++f) win[f] = o[f] > T(0) ? win[f] : kNoWinner;
  }
}

template <class Id, class T>
using GatherFn = void (*)(const EmbeddingConv1dShape&, const Id*, const T*, const T*, T*, std::int64_t, std::int64_t);
template <class Id, class T>
using GatherPoolFn = void (*)(const EmbeddingConv1dShape&, const EmbeddingConv1dPool&, const Id*, const T*, const T*,
                              T*, T*, std::uint8_t*, std::int64_t, std::int64_t);
// The loops compiled for the build's baseline ISA and, for float on x86, for AVX2 and AVX-512, picked
// at run time (as cpu/lstm.hpp does): the library needs no -march flag, yet rows of 128 floats move
// 8 or 16 lanes at a time. Only additions happen here, so every ISA gives the same bits.
template <class Id, class T>
void gather_base(const EmbeddingConv1dShape& g, const Id* ids, const T* table, const T* bias, T* out, std::int64_t r0,
                 std::int64_t r1) {
  gather_rows(g, ids, table, bias, out, r0, r1);
}
template <class Id, class T>
void gather_pool_base(const EmbeddingConv1dShape& g, const EmbeddingConv1dPool& pool, const Id* ids, const T* table,
                      const T* bias, T* out, T* scratch, std::uint8_t* winner, std::int64_t r0, std::int64_t r1) {
  gather_pool_rows(g, pool, ids, table, bias, out, scratch, winner, r0, r1);
}
#if RECSYS_X86_SIMD
template <class Id>
RECSYS_TARGET_AVX2 void gather_avx2(const EmbeddingConv1dShape& g, const Id* ids, const float* table,
                                    const float* bias, float* out, std::int64_t r0, std::int64_t r1) {
  gather_rows(g, ids, table, bias, out, r0, r1);
}
template <class Id>
RECSYS_TARGET_AVX2 void gather_pool_avx2(const EmbeddingConv1dShape& g, const EmbeddingConv1dPool& pool, const Id* ids,
                                         const float* table, const float* bias, float* out, float* scratch,
                                         std::uint8_t* winner, std::int64_t r0, std::int64_t r1) {
  gather_pool_rows(g, pool, ids, table, bias, out, scratch, winner, r0, r1);
}
/// Columns [c0, c0 + 16·NV) of pooled row r, summed, activated and pooled in NV zmm registers: the
/// portable loop moves every partial sum through memory (bias copy, one pass per tap, the ReLU, the
/// max), which made it load/store-bound. Same operations in the same order, so the same bits. With
/// Winners, the winning window offsets (a byte per column) ride along in xmm registers.
template <int NV, bool Winners, class Id>
RECSYS_TARGET_AVX512 inline void gather_pool_block_avx512(const EmbeddingConv1dShape& g, const EmbeddingConv1dPool& pool,
                                                          const Id* row_ids, std::int64_t t0, const float* table,
                                                          const float* bias, float* o, std::uint8_t* win,
                                                          std::int64_t c0) {
  const std::int64_t KF = g.kernel * g.filters;
  const __m512 zero = _mm512_setzero_ps();
  __m512 best[NV], acc[NV];
  __m128i step[NV];
  for (int v = 0; v < NV; ++v) {
    best[v] = zero;  // every window has a first step; this only quiets -Wmaybe-uninitialized
    step[v] = _mm_setzero_si128();
  }
  for (std::int64_t j = 0; j < pool.size; ++j) {
    for (int v = 0; v < NV; ++v) acc[v] = bias != nullptr ? _mm512_loadu_ps(bias + c0 + 16 * v) : zero;
    for (std::int64_t k = 0; k < g.kernel; ++k) {
      const std::int64_t i = (t0 + j) * g.stride + k - g.pad_left;
      if (i < 0 || i >= g.t_in) continue;
      const float* src = table + static_cast<std::int64_t>(row_ids[i]) * KF + k * g.filters + c0;
      for (int v = 0; v < NV; ++v) acc[v] = _mm512_add_ps(acc[v], _mm512_loadu_ps(src + 16 * v));
    }
    if (pool.relu)  // x > 0 ? x : 0, as the relu op (NaN and -0 become +0)
      for (int v = 0; v < NV; ++v) acc[v] = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(acc[v], zero, _CMP_GT_OQ), acc[v]);
    for (int v = 0; v < NV; ++v) {
      if (j == 0) {
        best[v] = acc[v];
      } else {  // maxpool1d_row's rule: take the larger value, or a NaN over a number
        const __mmask16 take = _mm512_cmp_ps_mask(acc[v], best[v], _CMP_GT_OQ) |
                               (_mm512_cmp_ps_mask(acc[v], acc[v], _CMP_UNORD_Q) &
                                _mm512_cmp_ps_mask(best[v], best[v], _CMP_ORD_Q));
        best[v] = _mm512_mask_mov_ps(best[v], take, acc[v]);
        if constexpr (Winners) step[v] = _mm_mask_mov_epi8(step[v], take, _mm_set1_epi8(static_cast<char>(j)));
      }
    }
  }
  for (int v = 0; v < NV; ++v) _mm512_storeu_ps(o + c0 + 16 * v, best[v]);
  if constexpr (Winners) {
    for (int v = 0; v < NV; ++v) {
      if (pool.relu)  // relu'(z) = 0 where the pooled value is not positive
        step[v] = _mm_mask_mov_epi8(step[v], _mm512_cmp_ps_mask(best[v], zero, _CMP_LE_OQ),
                                    _mm_set1_epi8(static_cast<char>(kNoWinner)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(win + c0 + 16 * v), step[v]);
    }
  }
}

inline constexpr std::int64_t kPrefetchRows = 2;

/// One pooled row, all F columns: blocks of 128 columns, then the tail in one smaller block.
template <bool Winners, class Id>
RECSYS_TARGET_AVX512 inline void gather_pool_row_avx512(const EmbeddingConv1dShape& g, const EmbeddingConv1dPool& pool,
                                                        const Id* row_ids, std::int64_t t0, const float* table,
                                                        const float* bias, float* o, std::uint8_t* win) {
  const std::int64_t F = g.filters;
  std::int64_t c0 = 0;
  for (; c0 + 128 <= F; c0 += 128) gather_pool_block_avx512<8, Winners>(g, pool, row_ids, t0, table, bias, o, win, c0);
  switch ((F - c0) / 16) {  // the last columns, fewer than 128
    case 1: gather_pool_block_avx512<1, Winners>(g, pool, row_ids, t0, table, bias, o, win, c0); break;
    case 2: gather_pool_block_avx512<2, Winners>(g, pool, row_ids, t0, table, bias, o, win, c0); break;
    case 3: gather_pool_block_avx512<3, Winners>(g, pool, row_ids, t0, table, bias, o, win, c0); break;
    case 4: gather_pool_block_avx512<4, Winners>(g, pool, row_ids, t0, table, bias, o, win, c0); break;
    case 5: gather_pool_block_avx512<5, Winners>(g, pool, row_ids, t0, table, bias, o, win, c0); break;
    case 6: gather_pool_block_avx512<6, Winners>(g, pool, row_ids, t0, table, bias, o, win, c0); break;
    case 7: gather_pool_block_avx512<7, Winners>(g, pool, row_ids, t0, table, bias, o, win, c0); break;
    default: break;
  }
}

template <class Id>
RECSYS_TARGET_AVX512 void gather_pool_avx512(const EmbeddingConv1dShape& g, const EmbeddingConv1dPool& pool,
                                             const Id* ids, const float* table, const float* bias, float* out,
                                             float* scratch, std::uint8_t* winner, std::int64_t r0, std::int64_t r1) {
  const std::int64_t F = g.filters;
  if (F % 16 != 0) return gather_pool_rows(g, pool, ids, table, bias, out, scratch, winner, r0, r1);
  const std::int64_t KF = g.kernel * F;
  for (std::int64_t r = r0; r < r1; ++r) {
    const std::int64_t b = r / pool.t_out, t0 = (r - b * pool.t_out) * pool.stride;
    const Id* row_ids = ids + b * g.t_in;
    // The table rows of the window kPrefetchRows ahead: the table is larger than L2 and its rows are
    // read in id order, so without this each row costs an L3 round trip.
    if (r + kPrefetchRows < r1) {
      const std::int64_t rb = (r + kPrefetchRows) / pool.t_out, rt = (r + kPrefetchRows - rb * pool.t_out) * pool.stride;
      for (std::int64_t t = rt; t < rt + pool.size; ++t)
        for (std::int64_t k = 0; k < g.kernel; ++k) {
          const std::int64_t i = t * g.stride + k - g.pad_left;
          if (i < 0 || i >= g.t_in) continue;
          const char* src = reinterpret_cast<const char*>(table + static_cast<std::int64_t>(ids[rb * g.t_in + i]) * KF + k * F);
          for (std::int64_t byte = 0; byte < F * 4; byte += 64) _mm_prefetch(src + byte, _MM_HINT_T0);
        }
    }
    if (winner != nullptr)
      gather_pool_row_avx512<true>(g, pool, row_ids, t0, table, bias, out + r * F, winner + r * F);
    else
      gather_pool_row_avx512<false>(g, pool, row_ids, t0, table, bias, out + r * F, nullptr);
  }
}
/// The plain gather is the pooled one with windows of one step and no activation.
template <class Id>
RECSYS_TARGET_AVX512 void gather_avx512(const EmbeddingConv1dShape& g, const Id* ids, const float* table,
                                        const float* bias, float* out, std::int64_t r0, std::int64_t r1) {
  if (g.filters % 16 != 0) return gather_rows(g, ids, table, bias, out, r0, r1);
  EmbeddingConv1dPool one_step;
  one_step.t_out = g.t_out;
  gather_pool_avx512<Id>(g, one_step, ids, table, bias, out, nullptr, nullptr, r0, r1);
}
#endif

template <class Id, class T>
GatherFn<Id, T> gather_kernel() {
#if RECSYS_X86_SIMD
  if constexpr (std::is_same_v<T, float>) {
    if (simd_level() == SimdLevel::avx512) return &gather_avx512<Id>;
    if (simd_level() == SimdLevel::avx2) return &gather_avx2<Id>;
  }
#endif
  return &gather_base<Id, T>;
}
template <class Id, class T>
GatherPoolFn<Id, T> gather_pool_kernel() {
#if RECSYS_X86_SIMD
  if constexpr (std::is_same_v<T, float>) {
    if (simd_level() == SimdLevel::avx512) return &gather_pool_avx512<Id>;
    if (simd_level() == SimdLevel::avx2) return &gather_pool_avx2<Id>;
  }
#endif
  return &gather_pool_base<Id, T>;
}
}  // namespace embedding_conv1d_detail

/// out[b, t, :] = bias + Σ_k table[ids[b, t·s + k - pad], k, :]; table: (vocab, K, F) holds E · W_k for
/// every row; bias may be null. Threads split the output rows, and each row adds its taps in order
/// k = 0, 1, ..., so the result does not depend on the thread count. ids must be in range.
template <class Id, class T>
void embedding_conv1d_gather(const EmbeddingConv1dShape& g, const Id* ids, const T* table, const T* bias,
                             T* out) {
  const std::int64_t rows = g.batch * g.t_out;
  const auto kernel = embedding_conv1d_detail::gather_kernel<Id, T>();
  const bool parallel = rows * g.kernel * g.filters >= kParallelGrain;
  const std::int64_t chunks = parallel ? num_threads() : 1;
#pragma omp parallel for schedule(static) if (parallel && chunks > 1)
  for (std::int64_t i = 0; i < chunks; ++i) kernel(g, ids, table, bias, out, rows * i / chunks, rows * (i + 1) / chunks);
}

/// The gather followed by the pooling in one pass: out[b, q, :] is the maximum over the window's
/// convolution rows of relu(row) (or the row itself), with maxpool1d's rule (first NaN wins), so the
/// result has the bits of maxpool1d(relu(gather)). The convolution output never reaches memory.
/// scratch: one row of F values per thread (num_threads() · F). winner: null for inference; for
/// training, (batch, pool.t_out, F) bytes that embedding_conv1d_scatter_pooled routes gradients by.
template <class Id, class T>
void embedding_conv1d_gather_maxpool(const EmbeddingConv1dShape& g, const EmbeddingConv1dPool& pool, const Id* ids,
                                     const T* table, const T* bias, T* out, T* scratch,
                                     std::uint8_t* winner = nullptr) {
  const std::int64_t rows = g.batch * pool.t_out;
  const auto kernel = embedding_conv1d_detail::gather_pool_kernel<Id, T>();
  const bool parallel = rows * pool.size * g.kernel * g.filters >= kParallelGrain;
  const std::int64_t chunks = parallel ? num_threads() : 1;
#pragma omp parallel for schedule(static) if (parallel && chunks > 1)
  for (std::int64_t i = 0; i < chunks; ++i)
    kernel(g, pool, ids, table, bias, out, scratch + i * g.filters, winner, rows * i / chunks, rows * (i + 1) / chunks);
}

}  // namespace recsys::cpu
