// recsys/cpu/gemm_avx2.hpp — AVX2+FMA SGEMM: the 6×16 register-blocked micro-kernel (packing is the generic one).
#pragma once

#include "recsys/cpu/cpu_features.hpp"

#if RECSYS_X86_SIMD
#include <immintrin.h>

#include <cstdint>

#include "recsys/cpu/gemm_tile.hpp"

namespace recsys::cpu {

/// 6 rows × 16 columns: 12 ymm accumulators, 2 for the B row and 1 for the broadcast A value out of 16.
struct Avx2Sgemm {
  static constexpr int kMr = 6, kNr = 16;

  /// All-ones in the lanes below n (n may be <= 0 or > 8): the mask form vmaskmov wants.
  RECSYS_TARGET_AVX2 static __m256i lanes(std::int64_t n) {
    const int count = n < 0 ? 0 : n > 8 ? 8 : static_cast<int>(n);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }

  template <int R, bool kRowA>
  RECSYS_TARGET_AVX2 static void tile(const SgemmTile& t) {
    float* c = t.c;
    const std::int64_t ldc = t.ldc, kc = t.kc, lda = t.a_ld, ldb = t.b_ld;
#pragma GCC unroll 6
    for (int i = 0; i < R; ++i) {  // C is needed only after the k loop: start fetching it now
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 15), _MM_HINT_T0);
    }
    __m256 acc0[R], acc1[R];
#pragma GCC unroll 6
    for (int i = 0; i < R; ++i) acc0[i] = acc1[i] = _mm256_setzero_ps();
    const float* a = t.a;
    const float* b = t.b;
    for (std::int64_t k = 0; k < kc; ++k) {
      const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
      b += ldb;
#pragma GCC unroll 6
      for (int i = 0; i < R; ++i) {
        const __m256 av = _mm256_broadcast_ss(kRowA ? a + i * lda : a + i);
        acc0[i] = _mm256_fmadd_ps(av, b0, acc0[i]);
        acc1[i] = _mm256_fmadd_ps(av, b1, acc1[i]);
      }
      a += kRowA ? 1 : lda;
    }
    const int cols = t.cols;
    const __m256i m0 = lanes(cols), m1 = lanes(cols - 8);
    const __m256 alpha = _mm256_set1_ps(t.alpha), beta = _mm256_set1_ps(t.beta);
    const bool read_c = t.read_c;
#pragma GCC unroll 6
    for (int i = 0; i < R; ++i, c += ldc) {
      __m256 r0, r1;
      if (read_c) {
        r0 = _mm256_fmadd_ps(acc0[i], alpha, _mm256_mul_ps(beta, _mm256_maskload_ps(c, m0)));
        r1 = _mm256_fmadd_ps(acc1[i], alpha, _mm256_mul_ps(beta, _mm256_maskload_ps(c + 8, m1)));
      } else {
        r0 = _mm256_mul_ps(acc0[i], alpha);
        r1 = _mm256_mul_ps(acc1[i], alpha);
      }
      if (cols == kNr) {  // vmaskmov stores are slow on some cores: use it only on the edge
        _mm256_storeu_ps(c, r0);
        _mm256_storeu_ps(c + 8, r1);
      } else {
        _mm256_maskstore_ps(c, m0, r0);
        _mm256_maskstore_ps(c + 8, m1, r1);
      }
    }
  }
};

/// The AVX2+FMA kernel set; call only when simd_level() is at least SimdLevel::avx2.
inline const SgemmKernels& avx2_sgemm_kernels() {
  static const SgemmKernels kernels{
      "avx2",
      Avx2Sgemm::kMr,
      Avx2Sgemm::kNr,
      sgemm_tile_table<Avx2Sgemm, false>(std::make_integer_sequence<int, Avx2Sgemm::kMr>{}),
      sgemm_tile_table<Avx2Sgemm, true>(std::make_integer_sequence<int, Avx2Sgemm::kMr>{}),
      &sgemm_pack_a_generic<Avx2Sgemm::kMr>,
      &sgemm_pack_b_generic<Avx2Sgemm::kNr>};
  return kernels;
}

}  // namespace recsys::cpu

#endif  // RECSYS_X86_SIMD
