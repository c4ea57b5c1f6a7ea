// recsys/cpu/cholesky.hpp — Cholesky factorisation (A = L·Lᵀ) of a dense symmetric positive-definite row-major matrix in place, blocked over cpu::gemm; the SPD inverse from the factor; an unblocked reference.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "recsys/core/error.hpp"
#include "recsys/core/parallel.hpp"
#include "recsys/cpu/gemm.hpp"
#include "recsys/cpu/gemm_args.hpp"

// Every routine takes a row-major n×n matrix `a` with leading dimension lda >= n, reads only its
// lower triangle and leaves a lower-triangular result with zeros above the diagonal (the inverse
// is the exception: it is written whole, both triangles). float runs the trailing updates on the
// SIMD SGEMM kernels, double on the reference GEMM. Almost all the work is GEMM, whose results are
// bitwise identical for any thread count; the few loops of our own split rows over threads, never
// a sum, so the factor and the inverse are too.

namespace recsys::cpu {

/// Columns per block of the blocked routines: the GEMMs run with one dimension this wide, which
/// the SGEMM driver handles at full speed, while the panel work outside GEMM stays small.
inline constexpr std::int64_t kCholeskyBlock = 256;

namespace cholesky_detail {

/// Diagonal blocks at most this wide are factored (or inverted) by the unblocked loops; wider ones
/// by the blocked routine again, with this block size.
inline constexpr std::int64_t kInnerBlock = 32;
/// Panel solves recurse by halves down to this many columns, then substitute.
inline constexpr std::int64_t kSolveBase = 16;

/// C (m×n) = alpha · op(A) · op(B) + beta · C, all row-major (GemmArgs semantics, one matrix).
template <class T>
void mm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, T alpha, const T* a,
        std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c, std::int64_t ldc) {
  if (m <= 0 || n <= 0 || (k <= 0 && beta == T(1))) return;
  GemmArgs<T> p;
  p.trans_a = trans_a;
  p.trans_b = trans_b;
  p.m = m, p.n = n, p.k = k;
  p.alpha = alpha, p.beta = beta;
  p.a = a, p.lda = lda;
  p.b = b, p.ldb = ldb;
  p.c = c, p.ldc = ldc;
  gemm(p);
}

/// Whether a loop over `rows` rows of `work` multiply-adds each is worth a parallel region.
inline bool worth_threads(std::int64_t rows, std::int64_t work) { return rows > 1 && rows * work >= 4 * kParallelGrain; }

inline void check_args(const char* op, std::int64_t n, std::int64_t lda, const void* a) {
  RECSYS_CHECK(n >= 0, op, ": the size must be non-negative, got ", n);
  RECSYS_CHECK(lda >= n, op, ": the leading dimension ", lda, " is smaller than the size ", n);
  RECSYS_CHECK(n == 0 || a != nullptr, op, ": null matrix of size ", n);
}

[[noreturn]] inline void not_positive_definite(const char* op, std::int64_t n, std::int64_t pivot, double value) {
  RECSYS_FAIL(op, ": the matrix (", n, " × ", n, ") is not positive definite: pivot ", pivot, " is ", value);
}

/// Unblocked Cholesky–Banachiewicz on the kb×kb block at `a`: row by row, L_ij = (A_ij − Σ_p L_ip·L_jp) / L_jj.
/// `offset` (the block's first pivot in the whole matrix) and `n` (its size) are for the message.
template <class T>
void factor_unblocked(T* a, std::int64_t kb, std::int64_t ld, std::int64_t offset, std::int64_t n, const char* op) {
  for (std::int64_t i = 0; i < kb; ++i) {
    T* ri = a + i * ld;
    for (std::int64_t j = 0; j < i; ++j) {
      const T* rj = a + j * ld;
      T s = ri[j];
      for (std::int64_t p = 0; p < j; ++p) s -= ri[p] * rj[p];
      ri[j] = s / rj[j];
    }
    T d = ri[i];
    for (std::int64_t p = 0; p < i; ++p) d -= ri[p] * ri[p];
    if (!(d > T(0))) not_positive_definite(op, n, offset + i, static_cast<double>(d));
    ri[i] = std::sqrt(d);
  }
}

/// Solves X · Lᵀ = B in place for X (m×kb, x with ldx), L the kb×kb lower-triangular factor at l:
/// by halves (X₁·L₁₁ᵀ = B₁, then B₂ −= X₁·L₂₁ᵀ as a GEMM, then X₂·L₂₂ᵀ = B₂), substituting once a
/// half is kSolveBase columns or fewer.
template <class T>
void solve_lower_transposed(T* x, std::int64_t m, std::int64_t ldx, const T* l, std::int64_t kb, std::int64_t ldl) {
  if (m <= 0 || kb <= 0) return;
  if (kb > kSolveBase) {
    const std::int64_t h = (kb / 2 + 7) / 8 * 8;  // keep GEMM widths on a multiple of 8
    solve_lower_transposed(x, m, ldx, l, h, ldl);
    mm<T>(false, true, m, kb - h, h, T(-1), x, ldx, l + h * ldl, ldl, T(1), x + h, ldx);
    solve_lower_transposed(x + h, m, ldx, l + h * ldl + h, kb - h, ldl);
    return;
  }
  // Lᵀ's rows are L's columns: copied contiguous, each solved x_c updates the rest by one axpy.
  T lt[kSolveBase * kSolveBase];
  for (std::int64_t c = 0; c < kb; ++c)
    for (std::int64_t r = c; r < kb; ++r) lt[c * kb + r] = l[r * ldl + c];
#pragma omp parallel for schedule(static) if (worth_threads(m, kb * kb))
  for (std::int64_t r = 0; r < m; ++r) {
    T* xr = x + r * ldx;
    for (std::int64_t c = 0; c < kb; ++c) {
      const T v = xr[c] / lt[c * kb + c];
      xr[c] = v;
      for (std::int64_t q = c + 1; q < kb; ++q) xr[q] -= v * lt[c * kb + q];
    }
  }
}

/// Left-looking blocked Cholesky of the n×n matrix at `a`: for each block column, the GEMM
/// A[j:, j] −= L[j:, :j] · L[j, :j]ᵀ brings it up to date, its diagonal block is factored, and the
/// panel below solves X · L_jjᵀ = A[j+1:, j]. Leaves the strict upper triangle of the diagonal
/// blocks undefined (the caller zeroes it).
template <class T>
void factor_blocked(T* a, std::int64_t n, std::int64_t ld, std::int64_t nb, std::int64_t offset, std::int64_t full_n,
                    const char* op) {
  if (n <= nb) {
    if (n <= kInnerBlock || nb <= kInnerBlock) factor_unblocked(a, n, ld, offset, full_n, op);
    else factor_blocked(a, n, ld, kInnerBlock, offset, full_n, op);
    return;
  }
  for (std::int64_t j0 = 0; j0 < n; j0 += nb) {
    const std::int64_t kb = std::min(nb, n - j0), j1 = j0 + kb;
    T* col = a + j0 * ld + j0;  // A[j0:, j0:j1]
    mm<T>(false, true, n - j0, kb, j0, T(-1), a + j0 * ld, ld, a + j0 * ld, ld, T(1), col, ld);
    factor_blocked(col, kb, ld, kInnerBlock, offset + j0, full_n, op);
    solve_lower_transposed(a + j1 * ld + j0, n - j1, ld, col, kb, ld);
  }
}

/// Zeroes the strict upper triangle.
template <class T>
void zero_upper(T* a, std::int64_t n, std::int64_t ld) {
#pragma omp parallel for schedule(static) if (worth_threads(n, n / 2))
  for (std::int64_t i = 0; i < n; ++i) std::fill(a + i * ld + i + 1, a + i * ld + n, T(0));
}

/// Copies the strict lower triangle onto the upper one, in tiles so both sides stay in cache.
template <class T>
void mirror_lower(T* a, std::int64_t n, std::int64_t ld) {
  constexpr std::int64_t tile = 64;
  const std::int64_t tiles = (n + tile - 1) / tile;
#pragma omp parallel for schedule(dynamic, 1) if (worth_threads(tiles, n * tile))
  for (std::int64_t ti = 0; ti < tiles; ++ti)  // destination rows [ti·tile, +tile): the upper part
    for (std::int64_t tj = ti; tj < tiles; ++tj)
      for (std::int64_t i = ti * tile; i < std::min(n, (ti + 1) * tile); ++i)
        for (std::int64_t j = std::max(i + 1, tj * tile); j < std::min(n, (tj + 1) * tile); ++j)
          a[i * ld + j] = a[j * ld + i];
}

/// In place W = L⁻¹ for the kb×kb lower-triangular block at `a` (zeros above the diagonal stay):
/// row i of W is −(1/L_ii) · L[i, :i] · W[:i, :i], summed as axpys over the rows of W above.
template <class T>
void invert_lower_unblocked(T* a, std::int64_t kb, std::int64_t ld) {
  std::vector<T> row(static_cast<std::size_t>(kb));
  for (std::int64_t i = 0; i < kb; ++i) {
    T* ri = a + i * ld;
    std::fill(row.begin(), row.begin() + i, T(0));
    for (std::int64_t k = 0; k < i; ++k) {
      const T lik = ri[k];
      const T* wk = a + k * ld;
      for (std::int64_t j = 0; j <= k; ++j) row[static_cast<std::size_t>(j)] += lik * wk[j];
    }
    const T d = ri[i];
    for (std::int64_t j = 0; j < i; ++j) ri[j] = -row[static_cast<std::size_t>(j)] / d;
    ri[i] = T(1) / d;
  }
}

/// In place W = L⁻¹ for the n×n lower-triangular matrix at `a` (upper triangle zero), by block rows:
/// W_ii = L_ii⁻¹, then W[i, :i] = −W_ii · (L[i, :i] · W[:i, :i]), whose product runs one GEMM per
/// block column j over only the rows k >= j where W[k, j] can be non-zero.
template <class T>
void invert_lower_blocked(T* a, std::int64_t n, std::int64_t ld, std::int64_t nb) {
  if (n <= nb) {
    if (n <= kInnerBlock || nb <= kInnerBlock) invert_lower_unblocked(a, n, ld);
    else invert_lower_blocked(a, n, ld, kInnerBlock);
    return;
  }
  std::vector<T> t(static_cast<std::size_t>(nb * n));
  for (std::int64_t i0 = 0; i0 < n; i0 += nb) {
    const std::int64_t kb = std::min(nb, n - i0);
    T* diag = a + i0 * ld + i0;
    invert_lower_blocked(diag, kb, ld, kInnerBlock);
    if (i0 == 0) continue;
    T* row = a + i0 * ld;  // L[i, :i0], to become W[i, :i0]
    for (std::int64_t j0 = 0; j0 < i0; j0 += nb) {
      const std::int64_t jb = std::min(nb, i0 - j0);
      mm<T>(false, false, kb, jb, i0 - j0, T(1), row + j0, ld, a + j0 * ld + j0, ld, T(0), t.data() + j0, i0);
    }
    mm<T>(false, false, kb, i0, kb, T(-1), diag, ld, t.data(), i0, T(0), row, ld);
  }
}

/// In place P = Wᵀ·W (W lower-triangular, upper zero): block row j of P's lower triangle is
/// W[j:, j]ᵀ · W[j:, :j+1] (rows above j of those columns are zero), one GEMM each, written after
/// it is computed (later block rows read W only below their own). Fills the lower triangle and
/// the diagonal blocks.
template <class T>
void lower_gram_inplace(T* a, std::int64_t n, std::int64_t ld, std::int64_t nb) {
  std::vector<T> r(static_cast<std::size_t>(std::min(nb, n) * n));
  for (std::int64_t j0 = 0; j0 < n; j0 += nb) {
    const std::int64_t kb = std::min(nb, n - j0), j1 = j0 + kb;
    mm<T>(true, false, kb, j1, n - j0, T(1), a + j0 * ld + j0, ld, a + j0 * ld, ld, T(0), r.data(), j1);
    for (std::int64_t i = 0; i < kb; ++i) std::copy(r.data() + i * j1, r.data() + (i + 1) * j1, a + (j0 + i) * ld);
  }
}

}  // namespace cholesky_detail

/// Plain unblocked Cholesky (Cholesky–Banachiewicz, one row at a time), for tests: a → L in place
/// (upper triangle zeroed). Same contract and messages as cholesky().
template <class T>
void cholesky_reference(T* a, std::int64_t n, std::int64_t lda) {
  cholesky_detail::check_args("cholesky_reference", n, lda, a);
  cholesky_detail::factor_unblocked(a, n, lda, 0, n, "cholesky_reference");
  cholesky_detail::zero_upper(a, n, lda);
}

/// Factors the SPD matrix a = L·Lᵀ in place: reads a's lower triangle and leaves L there, zeros above
/// the diagonal. Blocked left-looking, `block` columns at a time (the trailing GEMMs carry ~all
/// the work). Throws "cholesky: the matrix (n × n) is not positive definite: pivot j is d" at the
/// first pivot d = A_jj − Σ L_jp² that is not positive (a is then partly overwritten).
template <class T>
void cholesky(T* a, std::int64_t n, std::int64_t lda, std::int64_t block = kCholeskyBlock) {
  cholesky_detail::check_args("cholesky", n, lda, a);
  RECSYS_CHECK(block > 0, "cholesky: the block size must be positive, got ", block);
  cholesky_detail::factor_blocked(a, n, lda, block, 0, n, "cholesky");
  cholesky_detail::zero_upper(a, n, lda);
}

/// A⁻¹ from the factor L of A = L·Lᵀ (in `a`, as cholesky() leaves it; the upper triangle is
/// ignored): W = L⁻¹ in place, then A⁻¹ = Wᵀ·W, written whole (both triangles, exactly symmetric).
/// About n³/2 multiply-adds, nearly all in GEMM.
template <class T>
void cholesky_inverse(T* a, std::int64_t n, std::int64_t lda, std::int64_t block = kCholeskyBlock) {
  cholesky_detail::check_args("cholesky_inverse", n, lda, a);
  RECSYS_CHECK(block > 0, "cholesky_inverse: the block size must be positive, got ", block);
  for (std::int64_t i = 0; i < n; ++i)
    RECSYS_CHECK(a[i * lda + i] != T(0) && std::isfinite(static_cast<double>(a[i * lda + i])),
                 "cholesky_inverse: the factor (", n, " × ", n, ") has diagonal entry ", i, " = ",
                 static_cast<double>(a[i * lda + i]), " (not a Cholesky factor)");
  cholesky_detail::zero_upper(a, n, lda);
  cholesky_detail::invert_lower_blocked(a, n, lda, block);
  cholesky_detail::lower_gram_inplace(a, n, lda, block);
  cholesky_detail::mirror_lower(a, n, lda);
}

/// The inverse of the SPD matrix `a` in place (its lower triangle read, the whole inverse written):
/// cholesky() then cholesky_inverse(). Throws as cholesky() does when a is not positive definite.
template <class T>
void spd_inverse(T* a, std::int64_t n, std::int64_t lda, std::int64_t block = kCholeskyBlock) {
  cholesky(a, n, lda, block);
  cholesky_inverse(a, n, lda, block);
}

}  // namespace recsys::cpu
