// recsys/cpu/gemm.hpp — row-major (batched) GEMM: the argument block and the portable cache-blocked kernel.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "recsys/core/parallel.hpp"

namespace recsys {

/// C[b] = alpha * op(A[b]) · op(B[b]) + beta * C[b] for b < batch, all row-major. op(A) is m×k
/// (A is k×m when trans_a), op(B) is k×n (B is n×k when trans_b). Leading dimensions and batch
/// strides are in elements; a batch stride of 0 reuses one matrix for every batch. beta == 0
/// never reads C (it may hold NaN).
template <class T>
struct GemmArgs {
  bool trans_a = false, trans_b = false;
  std::int64_t m = 0, n = 0, k = 0;
  T alpha = 1;
  const T* a = nullptr;
  std::int64_t lda = 0, stride_a = 0;
  const T* b = nullptr;
  std::int64_t ldb = 0, stride_b = 0;
  T beta = 0;
  T* c = nullptr;
  std::int64_t ldc = 0, stride_c = 0;
  std::int64_t batch = 1;
};

namespace cpu {

/// The portable reference kernel: packs cache-sized blocks of A and B, then runs a simple loop the
/// compiler vectorizes. Threads split C into tiles; each tile is owned by one thread and its K
/// blocks are added in a fixed order, so results are bitwise identical for any thread count.
template <class T>
void gemm_reference(const GemmArgs<T>& p) {
  constexpr std::int64_t MC = 64, NC = 256, KC = 256;
  const std::int64_t tiles_m = (p.m + MC - 1) / MC, tiles_n = (p.n + NC - 1) / NC;
  const std::int64_t tiles = p.batch * tiles_m * tiles_n;
  const bool parallel = p.batch * p.m * p.n * std::max<std::int64_t>(p.k, 1) >= 4 * kParallelGrain;
#pragma omp parallel if (parallel)
  {
    std::vector<T> a_pack(static_cast<std::size_t>(MC * KC)), b_pack(static_cast<std::size_t>(KC * NC)),
        acc(static_cast<std::size_t>(MC * NC));
#pragma omp for schedule(static)
    for (std::int64_t tile = 0; tile < tiles; ++tile) {
      const std::int64_t bi = tile / (tiles_m * tiles_n);
      const std::int64_t i0 = (tile / tiles_n) % tiles_m * MC, j0 = tile % tiles_n * NC;
      const std::int64_t mb = std::min(MC, p.m - i0), nb = std::min(NC, p.n - j0);
      const T* A = p.a + bi * p.stride_a;
      const T* B = p.b + bi * p.stride_b;
      T* C = p.c + bi * p.stride_c;
      std::fill(acc.begin(), acc.end(), T(0));
      for (std::int64_t k0 = 0; k0 < p.k; k0 += KC) {
        const std::int64_t kb = std::min(KC, p.k - k0);
        for (std::int64_t i = 0; i < mb; ++i)  // a_pack[i][kk] = op(A)[i0+i][k0+kk]
          for (std::int64_t kk = 0; kk < kb; ++kk)
            a_pack[static_cast<std::size_t>(i * KC + kk)] =
                p.trans_a ? A[(k0 + kk) * p.lda + i0 + i] : A[(i0 + i) * p.lda + k0 + kk];
        for (std::int64_t kk = 0; kk < kb; ++kk)  // b_pack[kk][j] = op(B)[k0+kk][j0+j]
          for (std::int64_t j = 0; j < nb; ++j)
            b_pack[static_cast<std::size_t>(kk * NC + j)] =
                p.trans_b ? B[(j0 + j) * p.ldb + k0 + kk] : B[(k0 + kk) * p.ldb + j0 + j];
        for (std::int64_t i = 0; i < mb; ++i) {
          T* row = acc.data() + i * NC;
          for (std::int64_t kk = 0; kk < kb; ++kk) {
            const T av = a_pack[static_cast<std::size_t>(i * KC + kk)];
            const T* brow = b_pack.data() + kk * NC;
            for (std::int64_t j = 0; j < nb; ++j) row[j] += av * brow[j];
          }
        }
      }
      for (std::int64_t i = 0; i < mb; ++i) {
        T* crow = C + (i0 + i) * p.ldc + j0;
        const T* row = acc.data() + i * NC;
        if (p.beta == T(0)) {
          for (std::int64_t j = 0; j < nb; ++j) crow[j] = p.alpha * row[j];
        } else {
          for (std::int64_t j = 0; j < nb; ++j) crow[j] = p.alpha * row[j] + p.beta * crow[j];
        }
      }
    }
  }
}

/// The CPU GEMM entry point used by ops (the kernel slot's CPU implementation).
template <class T>
void gemm(const GemmArgs<T>& p) {
  if (p.m <= 0 || p.n <= 0 || p.batch <= 0) return;
  gemm_reference(p);
}

}  // namespace cpu
}  // namespace recsys
