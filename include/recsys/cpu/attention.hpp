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
///   philox_uniform<float>(seed, first_block, ((b·heads + h)·tk + j)·tq + i) >= float(dropout)
/// (key-major numbering: the kernels hold scores transposed, see attention_forward).
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

/// Query rows per block. A thread holds one block of scores (keys × rows) at a time, never the whole
/// (tk × tq) matrix; 64 rows keep a block of a few hundred keys in L2.
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

// The scores of a block are held transposed, st (ncols × rows): key j's scores against the block's
// query rows are one contiguous run. Every softmax step is then a vertical operation across keys on
// vectors of rows — max, sum and the gradient's row dot product need no horizontal reduction (which
// GCC lowers to a 16-step chain per row, more than a 50-key row's work) — and the GEMMs read st as
// a transposed operand for free. Under the causal mask key j is seen by rows r >= j - i0 only.

/// What the row kernels need to know about a block.
struct BlockShape {
  std::int64_t rows, ncols, i0;
  bool causal;
  const std::int32_t* padding;  // this batch's key mask (ncols or more keys), or null
  /// First row of the block that sees key j.
  std::int64_t first_row(std::int64_t j) const { return causal && j > i0 ? j - i0 : 0; }
  bool padded(std::int64_t j) const { return padding != nullptr && padding[j] != 0; }
};

/// Softmax of each query row (column r of st) in place over the keys it sees, 0 elsewhere. Writes
/// each row's max and 1 / sum to mx / inv: (-inf, 0) for a row with no key left, whose weights are 0.
/// `work` holds 2·rows values.
template <class T>
[[gnu::always_inline]] inline void softmax_block(T* st, const BlockShape& g, T* mx, T* inv, T* work) {
  constexpr T kNegInf = -std::numeric_limits<T>::infinity();
  const std::int64_t rows = g.rows;
  T* shift = work;        // the max, or 0 for a fully masked row (so exp never sees -inf - -inf)
  T* sum = work + rows;
  for (std::int64_t r = 0; r < rows; ++r) {
    mx[r] = kNegInf;
    sum[r] = T(0);
  }
  for (std::int64_t j = 0; j < g.ncols; ++j) {
    if (g.padded(j)) continue;
    const T* s = st + j * rows;
#pragma omp simd
    for (std::int64_t r = g.first_row(j); r < rows; ++r) mx[r] = s[r] > mx[r] ? s[r] : mx[r];
  }
#pragma omp simd
  for (std::int64_t r = 0; r < rows; ++r) shift[r] = mx[r] == kNegInf ? T(0) : mx[r];
  for (std::int64_t j = 0; j < g.ncols; ++j) {
    T* s = st + j * rows;
    if (g.padded(j)) {
      std::fill(s, s + rows, T(0));
      continue;
    }
    const std::int64_t r0 = g.first_row(j);
    std::fill(s, s + r0, T(0));
#pragma omp simd
    for (std::int64_t r = r0; r < rows; ++r) {
      const T e = exp_of(s[r] - shift[r]);
      s[r] = e;
      sum[r] += e;
    }
  }
#pragma omp simd
  for (std::int64_t r = 0; r < rows; ++r) inv[r] = mx[r] == kNegInf ? T(0) : T(1) / sum[r];
  for (std::int64_t j = 0; j < g.ncols; ++j) {
    T* s = st + j * rows;
#pragma omp simd
    for (std::int64_t r = 0; r < rows; ++r) s[r] *= inv[r];
  }
}

/// The probabilities of a block again, from its recomputed scores and the saved (max, 1 / sum), by
/// the same operations as softmax_block. `work` holds rows values.
template <class T>
[[gnu::always_inline]] inline void probs_block(T* st, const BlockShape& g, const T* mx, const T* inv, T* work) {
  constexpr T kNegInf = -std::numeric_limits<T>::infinity();
  const std::int64_t rows = g.rows;
  T* shift = work;
#pragma omp simd
  for (std::int64_t r = 0; r < rows; ++r) shift[r] = mx[r] == kNegInf ? T(0) : mx[r];
  for (std::int64_t j = 0; j < g.ncols; ++j) {
    T* s = st + j * rows;
    if (g.padded(j)) {
      std::fill(s, s + rows, T(0));
      continue;
    }
    const std::int64_t r0 = g.first_row(j);
    std::fill(s, s + r0, T(0));
#pragma omp simd
    for (std::int64_t r = r0; r < rows; ++r) s[r] = exp_of(s[r] - shift[r]) * inv[r];
  }
}

/// dPᵀ → dSᵀ in place: dS = P ∘ (dP - rowsum(P ∘ dP)), the softmax gradient (scale comes in the
/// GEMMs). `work` holds rows values.
template <class T>
[[gnu::always_inline]] inline void softmax_grad_block(const T* pt, T* dpt, std::int64_t rows, std::int64_t ncols,
                                                      T* work) {
  T* dot = work;
  for (std::int64_t r = 0; r < rows; ++r) dot[r] = T(0);
  for (std::int64_t j = 0; j < ncols; ++j) {
    const T* p = pt + j * rows;
    const T* g = dpt + j * rows;
#pragma omp simd
    for (std::int64_t r = 0; r < rows; ++r) dot[r] += p[r] * g[r];
  }
  for (std::int64_t j = 0; j < ncols; ++j) {
    const T* p = pt + j * rows;
    T* g = dpt + j * rows;
#pragma omp simd
    for (std::int64_t r = 0; r < rows; ++r) g[r] = p[r] * (g[r] - dot[r]);
  }
}

// The block loops compiled for the baseline ISA and, for float on x86, AVX2 and AVX-512 (the library
// is built without -march); the choice is made once from simd_level(), so results never depend on
// the thread count.
template <class T>
struct RowKernels {
  void (*softmax)(T*, const BlockShape&, T*, T*, T*);
  void (*probs)(T*, const BlockShape&, const T*, const T*, T*);
  void (*softmax_grad)(const T*, T*, std::int64_t, std::int64_t, T*);
};

template <class T>
void softmax_block_base(T* st, const BlockShape& g, T* mx, T* inv, T* work) {
  softmax_block(st, g, mx, inv, work);
}
template <class T>
void probs_block_base(T* st, const BlockShape& g, const T* mx, const T* inv, T* work) {
  probs_block(st, g, mx, inv, work);
}
template <class T>
void softmax_grad_block_base(const T* pt, T* dpt, std::int64_t rows, std::int64_t ncols, T* work) {
  softmax_grad_block(pt, dpt, rows, ncols, work);
}

#if RECSYS_X86_SIMD
RECSYS_TARGET_AVX2 inline void softmax_block_avx2(float* st, const BlockShape& g, float* mx, float* inv, float* work) {
  softmax_block(st, g, mx, inv, work);
}
RECSYS_TARGET_AVX2 inline void probs_block_avx2(float* st, const BlockShape& g, const float* mx, const float* inv,
                                                float* work) {
  probs_block(st, g, mx, inv, work);
}
RECSYS_TARGET_AVX2 inline void softmax_grad_block_avx2(const float* pt, float* dpt, std::int64_t rows,
                                                       std::int64_t ncols, float* work) {
  softmax_grad_block(pt, dpt, rows, ncols, work);
}
RECSYS_TARGET_AVX512 inline void softmax_block_avx512(float* st, const BlockShape& g, float* mx, float* inv,
                                                      float* work) {
  softmax_block(st, g, mx, inv, work);
}
RECSYS_TARGET_AVX512 inline void probs_block_avx512(float* st, const BlockShape& g, const float* mx, const float* inv,
                                                    float* work) {
  probs_block(st, g, mx, inv, work);
}
RECSYS_TARGET_AVX512 inline void softmax_grad_block_avx512(const float* pt, float* dpt, std::int64_t rows,
                                                           std::int64_t ncols, float* work) {
  softmax_grad_block(pt, dpt, rows, ncols, work);
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

/// st (ncols × rows) = scale · K[0 : ncols] · Q[i0 : i0 + rows]ᵀ: the block's scores, transposed.
template <class T>
inline void scores_t(const AttentionArgs<T>& a, std::int64_t b, std::int64_t h, std::int64_t i0, std::int64_t rows,
                     std::int64_t ncols, T* st) {
  gemm_into(false, true, ncols, rows, a.d, a.scale, a.k.at(b, h), a.k.st, a.q.at(b, h, i0), a.q.st, T(0), st, rows);
}

/// mask (ncols × rows, like st) = keep ? 1 / (1 - dropout) : 0 for the block's weights (see
/// AttentionArgs). Key j's words for the block are one run of the key-major numbering; when the block
/// holds every query row the runs of all keys join into one, drawn by a single (vectorized)
/// philox_fill. `words` holds ncols · tq + 8 values.
template <class T>
inline void dropout_block(const AttentionArgs<T>& a, std::int64_t b, std::int64_t h, std::int64_t i0,
                          std::int64_t rows, std::int64_t ncols, std::uint32_t* words, T* mask) {
  const T scale = static_cast<T>(1.0 / (1.0 - static_cast<double>(a.dropout)));
  const float threshold = a.dropout;
  const auto key_base = [&](std::int64_t j) { return static_cast<std::uint64_t>(((b * a.heads + h) * a.tk + j) * a.tq + i0); };
  auto convert = [&](const std::uint32_t* w, T* m) {
#pragma omp simd
    for (std::int64_t r = 0; r < rows; ++r) m[r] = u32_to_unit_float(w[r]) >= threshold ? scale : T(0);
  };
  if (rows == a.tq) {  // keys' runs are adjacent: one draw of ncols · rows words
    const std::uint64_t base = key_base(0), skip = base % 4;
    philox_fill(a.seed, a.first_block + base / 4, static_cast<std::int64_t>((skip + ncols * rows + 3) / 4), words);
    for (std::int64_t j = 0; j < ncols; ++j) convert(words + skip + j * rows, mask + j * rows);
    return;
  }
  for (std::int64_t j = 0; j < ncols; ++j) {
    const std::uint64_t base = key_base(j), skip = base % 4;
    philox_fill(a.seed, a.first_block + base / 4, static_cast<std::int64_t>((skip + rows + 3) / 4), words);
    convert(words + skip, mask + j * rows);
  }
}

/// Per-thread scratch of the attention kernels, sized once per call.
template <class T>
struct AttentionScratch {
  std::vector<T> st, ds, mask, work;
  std::vector<std::uint32_t> words;  // random words of one block's dropout mask
  AttentionScratch(const AttentionArgs<T>& a, bool backward)
      : st(static_cast<std::size_t>(kAttentionBlockRows * a.tk)),
        ds(backward ? static_cast<std::size_t>(kAttentionBlockRows * a.tk) : 0),
        mask(a.dropout > 0 ? static_cast<std::size_t>(kAttentionBlockRows * a.tk) : 0),
        work(static_cast<std::size_t>(2 * kAttentionBlockRows)),
        words(a.dropout > 0 ? static_cast<std::size_t>(kAttentionBlockRows * a.tk + 8) : 0) {}
};

/// Enough multiply-adds to be worth waking the other threads.
template <class T>
inline bool attention_parallel(const AttentionArgs<T>& a) {
  return a.batch * a.heads * a.tq * a.tk * (a.d + a.dv) >= 4 * kParallelGrain;
}

template <class T>
inline BlockShape block_shape(const AttentionArgs<T>& a, std::int64_t b, std::int64_t i0, std::int64_t rows) {
  return {rows, block_cols(a, i0, rows), i0, a.causal, a.key_padding != nullptr ? a.key_padding + b * a.tk : nullptr};
}

}  // namespace attention_detail

/// out = softmax(scale · q kᵀ + masks) · v, and each row's (max, 1 / sum) for the backward pass.
/// Threads share out (batch, head, query block) items; each item computes its scores block with one
/// GEMM (transposed: keys × rows), the masked softmax in place, and its output rows with a second
/// GEMM. No item depends on another, so results are bitwise identical for any thread count.
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
      const BlockShape g = block_shape(a, b, i0, rows);
      const std::int64_t stat = (b * a.heads + h) * a.tq + i0, n = g.ncols * rows;
      T* st = w.st.data();
      scores_t(a, b, h, i0, rows, g.ncols, st);  // st: (ncols, rows)
      rk.softmax(st, g, a.row_max + stat, a.row_inv_sum + stat, w.work.data());
      if (a.dropout > 0) {
        T* mask = w.mask.data();
        dropout_block(a, b, h, i0, rows, g.ncols, w.words.data(), mask);
        for (std::int64_t e = 0; e < n; ++e) st[e] *= mask[e];
      }
      // out[i0 : i0 + rows] (rows, dv) = P · V[0 : ncols] = stᵀ · V; ncols = 0 writes zeros
      gemm_into(true, false, rows, a.dv, g.ncols, T(1), st, rows, a.v.at(b, h), a.v.st, T(0), a.out.at(b, h, i0),
                a.out.st);
    }
  }
}

/// Gradients of attention_forward. The probabilities are recomputed block by block from the saved
/// row max and 1 / sum (never stored: that would be batch·heads·tq·tk values). dk and dv sum over
/// every query block of a (batch, head), so one thread owns a (batch, head) and adds its blocks in
/// order: threads share out (batch, head) pairs, and the result does not depend on their number.
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
      // dk and dv accumulate over the query blocks: start from zero.
      for (std::int64_t t = 0; t < a.tk; ++t) {
        if (a.grad_k.data != nullptr) std::fill(a.grad_k.at(b, h, t), a.grad_k.at(b, h, t) + a.d, T(0));
        if (a.grad_v.data != nullptr) std::fill(a.grad_v.at(b, h, t), a.grad_v.at(b, h, t) + a.dv, T(0));
      }
      for (std::int64_t blk = 0; blk < blocks; ++blk) {
        const std::int64_t i0 = blk * kAttentionBlockRows, rows = std::min(kAttentionBlockRows, a.tq - i0);
        const BlockShape g = block_shape(a, b, i0, rows);
        const std::int64_t ncols = g.ncols, n = ncols * rows;
        if (ncols == 0) {  // no keys: the block's outputs were constant zeros
          if (a.grad_q.data != nullptr)
            for (std::int64_t r = 0; r < rows; ++r)
              std::fill(a.grad_q.at(b, h, i0 + r), a.grad_q.at(b, h, i0 + r) + a.d, T(0));
          continue;
        }
        const std::int64_t stat = (b * a.heads + h) * a.tq + i0;
        T* pt = w.st.data();
        T* ds = w.ds.data();
        T* mask = a.dropout > 0 ? w.mask.data() : nullptr;
        scores_t(a, b, h, i0, rows, ncols, pt);
        rk.probs(pt, g, a.row_max + stat, a.row_inv_sum + stat, w.work.data());  // pt: Pᵀ (ncols, rows)
        if (mask != nullptr) dropout_block(a, b, h, i0, rows, ncols, w.words.data(), mask);
        const T* dout = a.grad_out.at(b, h, i0);
        if (a.grad_v.data != nullptr) {
          // dV[0 : ncols] += Pdᵀ · dO, with Pd = P ∘ mask the weights the forward pass used
          const T* pd = pt;
          if (mask != nullptr) {
            for (std::int64_t e = 0; e < n; ++e) ds[e] = pt[e] * mask[e];
            pd = ds;
          }
          gemm_into(false, false, ncols, a.dv, rows, T(1), pd, rows, dout, a.grad_out.st, T(1), a.grad_v.at(b, h),
                    a.grad_v.st);
        }
        if (!want_s) continue;
        // dPᵀ (ncols, rows) = V[0 : ncols] · dOᵀ, through the dropout mask
        gemm_into(false, true, ncols, rows, a.dv, T(1), a.v.at(b, h), a.v.st, dout, a.grad_out.st, T(0), ds, rows);
        if (mask != nullptr)
          for (std::int64_t e = 0; e < n; ++e) ds[e] *= mask[e];
        rk.softmax_grad(pt, ds, rows, ncols, w.work.data());  // ds: dSᵀ / scale
        if (a.grad_q.data != nullptr)  // dQ[i0 : i0 + rows] = scale · dS · K[0 : ncols]
          gemm_into(true, false, rows, a.d, ncols, a.scale, ds, rows, a.k.at(b, h), a.k.st, T(0),
                    a.grad_q.at(b, h, i0), a.grad_q.st);
        if (a.grad_k.data != nullptr)  // dK[0 : ncols] += scale · dSᵀ · Q[i0 : i0 + rows]
          gemm_into(false, false, ncols, a.d, rows, a.scale, ds, rows, a.q.at(b, h, i0), a.q.st, T(1),
                    a.grad_k.at(b, h), a.grad_k.st);
      }
    }
  }
}

}  // namespace recsys::cpu
