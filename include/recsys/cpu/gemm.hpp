// recsys/cpu/gemm.hpp — row-major (batched) GEMM: the entry point cpu::gemm, its SIMD dispatch and the reference kernel.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "recsys/core/parallel.hpp"
#include "recsys/cpu/cpu_features.hpp"
#include "recsys/cpu/gemm_args.hpp"
#include "recsys/cpu/gemm_avx2.hpp"
#include "recsys/cpu/gemm_avx512.hpp"
#include "recsys/cpu/gemm_driver.hpp"
#include "recsys/cpu/gemm_tile.hpp"

namespace recsys::cpu {

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

namespace gemm_detail {

/// The kernel set every SGEMM uses, chosen once at start-up. A program-wide variable rather than a
/// per-file choice: translation units that nvcc compiles cannot build the SIMD kernels, but they
/// run the same gemm as the rest of the program.
inline const SgemmKernels* best_sgemm_kernels = nullptr;

#if RECSYS_X86_SIMD
inline const bool simd_sgemm_selected = [] {
  switch (simd_level()) {
    case SimdLevel::avx512: best_sgemm_kernels = &avx512_sgemm_kernels(); break;
    case SimdLevel::avx2: best_sgemm_kernels = &avx2_sgemm_kernels(); break;
    default: best_sgemm_kernels = &portable_sgemm_kernels(); break;
  }
  return true;
}();
#endif

}  // namespace gemm_detail

/// The SGEMM kernel set cpu::gemm<float> uses (the best this CPU supports, see simd_level()).
inline const SgemmKernels& sgemm_kernels() {
  const SgemmKernels* best = gemm_detail::best_sgemm_kernels;
  return best != nullptr ? *best : portable_sgemm_kernels();
}

/// The CPU GEMM entry point used by ops (the kernel slot's CPU implementation). float runs the
/// packed SIMD kernels; double (used for gradchecks) runs the reference kernel.
template <class T>
void gemm(const GemmArgs<T>& p) {
  if (p.m <= 0 || p.n <= 0 || p.batch <= 0) return;
  if constexpr (std::is_same_v<T, float>) {
    sgemm(sgemm_kernels(), p);
  } else {
    gemm_reference(p);
  }
}

}  // namespace recsys::cpu
