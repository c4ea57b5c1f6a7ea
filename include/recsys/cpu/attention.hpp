// recsys/cpu/attention.hpp — fused scaled dot-product attention over (batch, heads, time, features) operands: forward and backward.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "recsys/core/parallel.hpp"
#include "recsys/core/random.hpp"
#include "recsys/cpu/cpu_features.hpp"
#include "recsys/cpu/gemm.hpp"
#include "recsys/cpu/lstm_math.hpp"
#include "recsys/cpu/philox_fill.hpp"

namespace recsys::cpu {

/// One (batch, heads, time, features) operand with unit stride along features: element (b, h, t, c)
/// lives at data[b·sb + h·sh + t·st + c]. Head-split views of a (batch, time, heads·features) tensor
/// (sh = features, st = heads·features) read in place, without a copy.
template <class P>
struct AttentionOperand {
  P* data = nullptr;
  std::int64_t sb = 0, sh = 0, st = 0;
  P* at(std::int64_t b, std::int64_t h, std::int64_t t = 0) const { return data + b * sb + h * sh + t * st; }
};

/// Everything the attention kernels read and write. Query row i of (b, h) attends to key j when
/// j <= i (if causal; top-left aligned when tq != tk, as PyTorch's is_causal) and key j of batch b is
/// not padded. Its weights are softmax(scale · q_i · k_j) over those keys, then (with dropout > 0)
/// multiplied by keep(b, h, i, j) / (1 - dropout), where keep is
///   philox_uniform<float>(seed, first_block, ((b·heads + h)·tq + i)·tk + j) >= float(dropout).
/// A row with no key left outputs zeros and gets zero gradients.
template <class T>
struct AttentionArgs {
  std::int64_t batch = 0, heads = 0, tq = 0, tk = 0, d = 0, dv = 0;
  T scale = 1;
  bool causal = false;
  const std::int32_t* key_padding = nullptr;  // (batch, tk) contiguous, nonzero = key ignored; or null
  float dropout = 0;                          // probability of dropping an attention weight
  std::uint64_t seed = 0, first_block = 0;
  AttentionOperand<const T> q, k, v;  // (b, h, tq, d), (b, h, tk, d), (b, h, tk, dv)
  // forward outputs
  AttentionOperand<T> out;    // (b, h, tq, dv)
  T* row_max = nullptr;       // (b, h, tq) contiguous: max score of the row, -inf when fully masked
  T* row_inv_sum = nullptr;   // (b, h, tq) contiguous: 1 / Σ exp(score - max), 0 when fully masked
  // backward: grad_out in, any of grad_q / grad_k / grad_v out (null data = not wanted)
  AttentionOperand<const T> grad_out;
  AttentionOperand<T> grad_q, grad_k, grad_v;
};

/// Query rows per block. A thread holds one block of scores (rows × keys) at a time, never the whole
/// (tq × tk) matrix; 64 rows keep a block of a few hundred keys in L2.
inline constexpr std::int64_t kAttentionBlockRows = 64;

namespace attention_detail {

template <class T>
[[gnu::always_inline]] inline T exp_of(T x) {
  if constexpr (std::is_same_v<T, float>) return vmath::exp(x);  // vectorizes; a few ulps
  else return std::exp(x);
}

/// Keys a query block [i0, i0 + rows) looks at: causal rows never see keys past their own index.
template <class T>
inline std::int64_t block_cols(const AttentionArgs<T>& a, std::int64_t i0, std::int64_t rows) {
  return a.causal ? std::min(a.tk, i0 + rows) : a.tk;
}
template <class T>
inline std::int64_t row_cols(const AttentionArgs<T>& a, std::int64_t qi, std::int64_t ncols) {
  return a.causal ? std::min(ncols, qi + 1) : ncols;
}

/// s (rows × ncols, row-major) = scale · Q[i0 : i0 + rows] · K[0 : ncols]ᵀ.
template <class T>
inline void scores(const AttentionArgs<T>& a, std::int64_t b, std::int64_t h, std::int64_t i0, std::int64_t rows,
                   std::int64_t ncols, T* s) {
  GemmArgs<T> p;
  p.trans_b = true;
  p.m = rows;
  p.n = ncols;
  p.k = a.d;
  p.alpha = a.scale;
  p.a = a.q.at(b, h, i0);
  p.lda = a.q.st;
  p.b = a.k.at(b, h);
  p.ldb = a.k.st;
  p.c = s;
  p.ldc = ncols;
  gemm(p);
}

/// C (m × n, ldc) = alpha · op(A) · op(B) + beta · C, a thin wrapper so the call sites read as maths.
template <class T>
inline void gemm_into(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, T alpha, const T* A,
                      std::int64_t lda, const T* B, std::int64_t ldb, T beta, T* C, std::int64_t ldc) {
  GemmArgs<T> p;
  p.trans_a = trans_a;
  p.trans_b = trans_b;
  p.m = m;
  p.n = n;
  p.k = k;
  p.alpha = alpha;
  p.a = A;
  p.lda = lda;
  p.b = B;
  p.ldb = ldb;
  p.beta = beta;
  p.c = C;
  p.ldc = ldc;
  gemm(p);
}

/// The masks of batch b as two arrays over keys: bias (0, or -inf where padded: the maximum skips
/// those keys) and keep (1 or 0: their weight is exactly 0, whatever exp(-inf) rounds to).
template <class T>
inline void padding_arrays(const std::int32_t* key_padding, std::int64_t b, std::int64_t tk, T* bias, T* keep) {
  const std::int32_t* m = key_padding + b * tk;
  for (std::int64_t j = 0; j < tk; ++j) {
    bias[j] = m[j] != 0 ? -std::numeric_limits<T>::infinity() : T(0);
    keep[j] = m[j] != 0 ? T(0) : T(1);
  }
}

/// Softmax of each row of a scores block in place, over its first lim(r) keys (0 past them). With
/// padding, bias/keep mask keys. Writes each row's max and 1 / sum to mx / inv; a row with no key
/// left becomes zeros with (-inf, 0).
template <class T, bool Padded>
[[gnu::always_inline]] inline void softmax_block_impl(T* s, std::int64_t rows, std::int64_t ncols, std::int64_t i0,
                                                      bool causal, const T* bias, const T* keep, T* mx, T* inv) {
  constexpr T kNegInf = -std::numeric_limits<T>::infinity();
  for (std::int64_t r = 0; r < rows; ++r) {
    T* row = s + r * ncols;
    const std::int64_t lim = causal ? std::min(ncols, i0 + r + 1) : ncols;
    T m = kNegInf;
    if constexpr (Padded) {
#pragma omp simd
      for (std::int64_t j = 0; j < lim; ++j) row[j] += bias[j];
    }
#pragma omp simd reduction(max : m)
    for (std::int64_t j = 0; j < lim; ++j) m = row[j] > m ? row[j] : m;
    if (m == kNegInf) {  // every key masked
      std::fill(row, row + ncols, T(0));
      mx[r] = kNegInf;
      inv[r] = T(0);
      continue;
    }
    T sum = 0;
    if constexpr (Padded) {
#pragma omp simd reduction(+ : sum)
      for (std::int64_t j = 0; j < lim; ++j) {
        const T e = exp_of(row[j] - m) * keep[j];
        row[j] = e;
        sum += e;
      }
    } else {
#pragma omp simd reduction(+ : sum)
      for (std::int64_t j = 0; j < lim; ++j) {
        const T e = exp_of(row[j] - m);
        row[j] = e;
        sum += e;
      }
    }
    const T is = T(1) / sum;
#pragma omp simd
    for (std::int64_t j = 0; j < lim; ++j) row[j] *= is;
    std::fill(row + lim, row + ncols, T(0));
    mx[r] = m;
    inv[r] = is;
  }
}

/// The probabilities of a block again, from its recomputed scores and the saved (max, 1 / sum), by the
/// same operations as softmax_block_impl.
template <class T, bool Padded>
[[gnu::always_inline]] inline void probs_block_impl(T* s, std::int64_t rows, std::int64_t ncols, std::int64_t i0,
                                                    bool causal, const T* bias, const T* keep, const T* mx,
                                                    const T* inv) {
  constexpr T kNegInf = -std::numeric_limits<T>::infinity();
  for (std::int64_t r = 0; r < rows; ++r) {
    T* row = s + r * ncols;
    const std::int64_t lim = causal ? std::min(ncols, i0 + r + 1) : ncols;
    const T m = mx[r], is = inv[r];
    if (m == kNegInf) {
      std::fill(row, row + ncols, T(0));
      continue;
    }
    if constexpr (Padded) {
#pragma omp simd
      for (std::int64_t j = 0; j < lim; ++j) row[j] = exp_of((row[j] + bias[j]) - m) * keep[j] * is;
    } else {
#pragma omp simd
      for (std::int64_t j = 0; j < lim; ++j) row[j] = exp_of(row[j] - m) * is;
    }
    std::fill(row + lim, row + ncols, T(0));
  }
}

template <class T>
[[gnu::always_inline]] inline void softmax_block(T* s, std::int64_t rows, std::int64_t ncols, std::int64_t i0,
                                                 bool causal, const T* bias, const T* keep, T* mx, T* inv) {
  if (bias != nullptr) softmax_block_impl<T, true>(s, rows, ncols, i0, causal, bias, keep, mx, inv);
  else softmax_block_impl<T, false>(s, rows, ncols, i0, causal, bias, keep, mx, inv);
}
template <class T>
[[gnu::always_inline]] inline void probs_block(T* s, std::int64_t rows, std::int64_t ncols, std::int64_t i0,
                                               bool causal, const T* bias, const T* keep, const T* mx, const T* inv) {
  if (bias != nullptr) probs_block_impl<T, true>(s, rows, ncols, i0, causal, bias, keep, mx, inv);
  else probs_block_impl<T, false>(s, rows, ncols, i0, causal, bias, keep, mx, inv);
}

/// dP → dS in place: dS = P ∘ (dP - rowsum(P ∘ dP)), the softmax gradient (times scale later, in the GEMMs).
template <class T>
[[gnu::always_inline]] inline void softmax_grad_block(const T* p, T* dp, std::int64_t rows, std::int64_t ncols) {
  for (std::int64_t r = 0; r < rows; ++r) {
    const T* pr = p + r * ncols;
    T* g = dp + r * ncols;
    T dot = 0;
#pragma omp simd reduction(+ : dot)
    for (std::int64_t j = 0; j < ncols; ++j) dot += pr[j] * g[j];
#pragma omp simd
    for (std::int64_t j = 0; j < ncols; ++j) g[j] = pr[j] * (g[j] - dot);
  }
}

// The row loops compiled for the baseline ISA and, for float on x86, AVX2 and AVX-512 (the library is
// built without -march); the choice is made once from simd_level(), so results never depend on threads.
template <class T>
struct RowKernels {
  void (*softmax)(T*, std::int64_t, std::int64_t, std::int64_t, bool, const T*, const T*, T*, T*);
  void (*probs)(T*, std::int64_t, std::int64_t, std::int64_t, bool, const T*, const T*, const T*, const T*);
  void (*softmax_grad)(const T*, T*, std::int64_t, std::int64_t);
};

template <class T>
void softmax_block_base(T* s, std::int64_t rows, std::int64_t ncols, std::int64_t i0, bool causal, const T* bias,
                        const T* keep, T* mx, T* inv) {
  softmax_block(s, rows, ncols, i0, causal, bias, keep, mx, inv);
}
template <class T>
void probs_block_base(T* s, std::int64_t rows, std::int64_t ncols, std::int64_t i0, bool causal, const T* bias,
                      const T* keep, const T* mx, const T* inv) {
  probs_block(s, rows, ncols, i0, causal, bias, keep, mx, inv);
}
template <class T>
void softmax_grad_block_base(const T* p, T* dp, std::int64_t rows, std::int64_t ncols) {
  softmax_grad_block(p, dp, rows, ncols);
}

#if RECSYS_X86_SIMD
RECSYS_TARGET_AVX2 inline void softmax_block_avx2(float* s, std::int64_t rows, std::int64_t ncols, std::int64_t i0,
                                                  bool causal, const float* bias, const float* keep, float* mx,
                                                  float* inv) {
  softmax_block(s, rows, ncols, i0, causal, bias, keep, mx, inv);
}
RECSYS_TARGET_AVX2 inline void probs_block_avx2(float* s, std::int64_t rows, std::int64_t ncols, std::int64_t i0,
                                                bool causal, const float* bias, const float* keep, const float* mx,
                                                const float* inv) {
  probs_block(s, rows, ncols, i0, causal, bias, keep, mx, inv);
}
RECSYS_TARGET_AVX2 inline void softmax_grad_block_avx2(const float* p, float* dp, std::int64_t rows,
                                                       std::int64_t ncols) {
  softmax_grad_block(p, dp, rows, ncols);
}
RECSYS_TARGET_AVX512 inline void softmax_block_avx512(float* s, std::int64_t rows, std::int64_t ncols,
                                                      std::int64_t i0, bool causal, const float* bias,
                                                      const float* keep, float* mx, float* inv) {
  softmax_block(s, rows, ncols, i0, causal, bias, keep, mx, inv);
}
RECSYS_TARGET_AVX512 inline void probs_block_avx512(float* s, std::int64_t rows, std::int64_t ncols, std::int64_t i0,
                                                    bool causal, const float* bias, const float* keep,
                                                    const float* mx, const float* inv) {
  probs_block(s, rows, ncols, i0, causal, bias, keep, mx, inv);
}
RECSYS_TARGET_AVX512 inline void softmax_grad_block_avx512(const float* p, float* dp, std::int64_t rows,
                                                           std::int64_t ncols) {
  softmax_grad_block(p, dp, rows, ncols);
}
#endif

template <class T>
RowKernels<T> row_kernels() {
#if RECSYS_X86_SIMD
  if constexpr (std::is_same_v<T, float>) {
    if (simd_level() == SimdLevel::avx512)
      return {&softmax_block_avx512, &probs_block_avx512, &softmax_grad_block_avx512};
    if (simd_level() == SimdLevel::avx2) return {&softmax_block_avx2, &probs_block_avx2, &softmax_grad_block_avx2};
  }
#endif
  return {&softmax_block_base<T>, &probs_block_base<T>, &softmax_grad_block_base<T>};
}

/// mask (rows × ncols) = keep ? 1 / (1 - dropout) : 0 for the block's weights (see AttentionArgs).
/// The block's rows are consecutive in the flat (b, h, i, j) numbering, so their random words are one
/// run, drawn by the vectorized philox_fill into `words` (rows · tk + 8 values).
template <class T>
inline void dropout_block(const AttentionArgs<T>& a, std::int64_t b, std::int64_t h, std::int64_t i0,
                          std::int64_t rows, std::int64_t ncols, std::uint32_t* words, T* mask) {
  const auto base = static_cast<std::uint64_t>(((b * a.heads + h) * a.tq + i0) * a.tk);
  const std::uint64_t skip = base % 4;  // words of the first Philox block that belong to earlier rows
  philox_fill(a.seed, a.first_block + base / 4, static_cast<std::int64_t>((skip + rows * a.tk + 3) / 4), words);
  const T scale = static_cast<T>(1.0 / (1.0 - static_cast<double>(a.dropout)));
  const float threshold = a.dropout;
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::uint32_t* w = words + skip + r * a.tk;
    T* row = mask + r * ncols;
#pragma omp simd
    for (std::int64_t j = 0; j < ncols; ++j) row[j] = u32_to_unit_float(w[j]) >= threshold ? scale : T(0);
  }
}

/// Per-thread scratch of the attention kernels, sized once per call.
template <class T>
struct AttentionScratch {
  std::vector<T> s, ds, mask, bias, keep;
  std::vector<std::uint32_t> words;  // random words of one block's dropout mask
  std::int64_t batch = -1;           // whose padding arrays bias/keep hold
  AttentionScratch(const AttentionArgs<T>& a, bool backward)
      : s(static_cast<std::size_t>(kAttentionBlockRows * a.tk)),
        ds(backward ? static_cast<std::size_t>(kAttentionBlockRows * a.tk) : 0),
        mask(a.dropout > 0 ? static_cast<std::size_t>(kAttentionBlockRows * a.tk) : 0),
        bias(a.key_padding != nullptr ? static_cast<std::size_t>(a.tk) : 0),
        keep(a.key_padding != nullptr ? static_cast<std::size_t>(a.tk) : 0),
        words(a.dropout > 0 ? static_cast<std::size_t>(kAttentionBlockRows * a.tk + 8) : 0) {}
  void padding_for(const AttentionArgs<T>& a, std::int64_t b) {
    if (a.key_padding == nullptr || b == batch) return;
    padding_arrays(a.key_padding, b, a.tk, bias.data(), keep.data());
    batch = b;
  }
  const T* bias_or_null() const { return bias.empty() ? nullptr : bias.data(); }
  const T* keep_or_null() const { return keep.empty() ? nullptr : keep.data(); }
};

/// Enough multiply-adds to be worth waking the other threads.
template <class T>
inline bool attention_parallel(const AttentionArgs<T>& a) {
  return a.batch * a.heads * a.tq * a.tk * (a.d + a.dv) >= 4 * kParallelGrain;
}

}  // namespace attention_detail

/// out = softmax(scale · q kᵀ + masks) · v, and each row's (max, 1 / sum) for the backward pass.
/// Threads share out (batch, head, query block) items; each item computes its scores block with one
/// GEMM, the masked softmax in place, and its output rows with a second GEMM. No item depends on
/// another, so results are bitwise identical for any thread count.
template <class T>
void attention_forward(const AttentionArgs<T>& a) {
  using namespace attention_detail;
  const std::int64_t blocks = (a.tq + kAttentionBlockRows - 1) / kAttentionBlockRows;
  const std::int64_t items = a.batch * a.heads * blocks;
  const RowKernels<T> rk = row_kernels<T>();
#pragma omp parallel if (attention_parallel(a))
  {
    AttentionScratch<T> w(a, false);
#pragma omp for schedule(static)
    for (std::int64_t item = 0; item < items; ++item) {
      const std::int64_t b = item / (a.heads * blocks), h = item / blocks % a.heads;
      const std::int64_t i0 = item % blocks * kAttentionBlockRows, rows = std::min(kAttentionBlockRows, a.tq - i0);
      const std::int64_t ncols = block_cols(a, i0, rows);
      const std::int64_t stat = (b * a.heads + h) * a.tq + i0;
      w.padding_for(a, b);
      T* s = w.s.data();
      scores(a, b, h, i0, rows, ncols, s);  // s: (rows, ncols)
      rk.softmax(s, rows, ncols, i0, a.causal, w.bias_or_null(), w.keep_or_null(), a.row_max + stat,
                 a.row_inv_sum + stat);
      if (a.dropout > 0) {
        dropout_block(a, b, h, i0, rows, ncols, w.words.data(), w.mask.data());
        for (std::int64_t e = 0; e < rows * ncols; ++e) s[e] *= w.mask[static_cast<std::size_t>(e)];
      }
      // out[i0 : i0 + rows] (rows, dv) = P (rows, ncols) · V[0 : ncols] (ncols, dv); ncols = 0 writes zeros
      gemm_into(false, false, rows, a.dv, ncols, T(1), s, ncols, a.v.at(b, h), a.v.st, T(0), a.out.at(b, h, i0),
                a.out.st);
    }
  }
}

/// Gradients of attention_forward. The probabilities are recomputed block by block from the saved
/// row max and 1 / sum (never stored: that would be batch·heads·tq·tk values). dk and dv sum over every query block of a (batch, head), so one thread owns a (batch, head)
/// and adds its blocks in order: threads share out (batch, head) pairs, and the result does not
/// depend on their number.
template <class T>
void attention_backward(const AttentionArgs<T>& a) {
  using namespace attention_detail;
  const std::int64_t blocks = (a.tq + kAttentionBlockRows - 1) / kAttentionBlockRows;
  const std::int64_t pairs = a.batch * a.heads;
  const bool want_s = a.grad_q.data != nullptr || a.grad_k.data != nullptr;
  const RowKernels<T> rk = row_kernels<T>();
#pragma omp parallel if (attention_parallel(a))
  {
    AttentionScratch<T> w(a, true);
#pragma omp for schedule(static)
    for (std::int64_t pair = 0; pair < pairs; ++pair) {
      const std::int64_t b = pair / a.heads, h = pair % a.heads;
      w.padding_for(a, b);
      // dk and dv accumulate over the query blocks: start from zero.
      for (std::int64_t t = 0; t < a.tk; ++t) {
        if (a.grad_k.data != nullptr) std::fill(a.grad_k.at(b, h, t), a.grad_k.at(b, h, t) + a.d, T(0));
        if (a.grad_v.data != nullptr) std::fill(a.grad_v.at(b, h, t), a.grad_v.at(b, h, t) + a.dv, T(0));
      }
      for (std::int64_t blk = 0; blk < blocks; ++blk) {
        const std::int64_t i0 = blk * kAttentionBlockRows, rows = std::min(kAttentionBlockRows, a.tq - i0);
        const std::int64_t ncols = block_cols(a, i0, rows);
        if (ncols == 0) continue;  // no keys: every gradient of this block is zero
        const std::int64_t stat = (b * a.heads + h) * a.tq + i0;
        T* p = w.s.data();
        T* ds = w.ds.data();
        T* mask = a.dropout > 0 ? w.mask.data() : nullptr;
        scores(a, b, h, i0, rows, ncols, p);
        rk.probs(p, rows, ncols, i0, a.causal, w.bias_or_null(), w.keep_or_null(), a.row_max + stat,
                 a.row_inv_sum + stat);  // p: P (rows, ncols), before dropout
        if (mask != nullptr) dropout_block(a, b, h, i0, rows, ncols, w.words.data(), mask);
        const T* dout = a.grad_out.at(b, h, i0);
        if (a.grad_v.data != nullptr) {
          // dV[0 : ncols] += Pdᵀ · dO, with Pd = P ∘ mask the weights the forward pass used
          const T* pd = p;
          if (mask != nullptr) {
            for (std::int64_t e = 0; e < rows * ncols; ++e) ds[e] = p[e] * mask[e];
            pd = ds;
          }
          gemm_into(true, false, ncols, a.dv, rows, T(1), pd, ncols, dout, a.grad_out.st, T(1), a.grad_v.at(b, h),
                    a.grad_v.st);
        }
        if (!want_s) continue;
        // dP (rows, ncols) = dO · V[0 : ncols]ᵀ, through the dropout mask
        gemm_into(false, true, rows, ncols, a.dv, T(1), dout, a.grad_out.st, a.v.at(b, h), a.v.st, T(0), ds, ncols);
        if (mask != nullptr)
          for (std::int64_t e = 0; e < rows * ncols; ++e) ds[e] *= mask[e];
        rk.softmax_grad(p, ds, rows, ncols);  // ds: dS / scale
        if (a.grad_q.data != nullptr)  // dQ[i0 : i0 + rows] = scale · dS · K[0 : ncols]
          gemm_into(false, false, rows, a.d, ncols, a.scale, ds, ncols, a.k.at(b, h), a.k.st, T(0),
                    a.grad_q.at(b, h, i0), a.grad_q.st);
        if (a.grad_k.data != nullptr)  // dK[0 : ncols] += scale · dSᵀ · Q[i0 : i0 + rows]
          gemm_into(true, false, ncols, a.d, rows, a.scale, ds, ncols, a.q.at(b, h, i0), a.q.st, T(1),
                    a.grad_k.at(b, h), a.grad_k.st);
      }
      // Blocks skipped above (no keys) still owe their dq rows.
      if (a.grad_q.data != nullptr)
        for (std::int64_t blk = 0; blk < blocks; ++blk) {
          const std::int64_t i0 = blk * kAttentionBlockRows, rows = std::min(kAttentionBlockRows, a.tq - i0);
          if (block_cols(a, i0, rows) != 0) continue;
          for (std::int64_t r = 0; r < rows; ++r)
            std::fill(a.grad_q.at(b, h, i0 + r), a.grad_q.at(b, h, i0 + r) + a.d, T(0));
        }
    }
  }
}

}  // namespace recsys::cpu
