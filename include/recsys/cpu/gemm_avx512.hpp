// recsys/cpu/gemm_avx512.hpp — AVX-512 SGEMM: the 12×32 register-blocked micro-kernel and its packing routines.
#pragma once

#include "recsys/cpu/cpu_features.hpp"

#if RECSYS_X86_SIMD
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "recsys/cpu/gemm_tile.hpp"

// GCC 12 flags the deliberately undefined pass-through operand inside its own shuffle intrinsics
// wherever they are inlined.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace recsys::cpu {

/// 12 rows × 32 columns: 24 zmm accumulators, 2 for the B row and 1 for the broadcast A value out
/// of 32 registers. Two FMA pipes with 4-cycle latency need 8 independent chains; 24 leave room,
/// and each k step loads 2 B vectors for 24 FMAs.
struct Avx512Sgemm {
  static constexpr int kMr = 12, kNr = 32;
  /// Strips packed side by side when the source rows run across strips. One strip at a time walks
  /// down a column, a new page per row; all of them at once scatters writes over too many streams.
  /// Eight 32-column strips (1 KiB of each row) measured twice as fast as either.
  static constexpr std::int64_t kPackGroup = 8;

  /// The first n of 16 lanes (n may be <= 0 or > 16).
  RECSYS_TARGET_AVX512 static __mmask16 lanes(std::int64_t n) {
    return n >= 16 ? static_cast<__mmask16>(0xFFFF) : n <= 0 ? static_cast<__mmask16>(0)
                                                               : static_cast<__mmask16>((1u << n) - 1);
  }

  template <int R, bool kRowA>
  RECSYS_TARGET_AVX512 static void tile(const SgemmTile& t) {
    float* c = t.c;
    const std::int64_t ldc = t.ldc, kc = t.kc, lda = t.a_ld, ldb = t.b_ld;
#pragma GCC unroll 12
    for (int i = 0; i < R; ++i) {  // C is needed only after the k loop: start fetching it now
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 31), _MM_HINT_T0);
    }
    __m512 acc0[R], acc1[R];
#pragma GCC unroll 12
    for (int i = 0; i < R; ++i) acc0[i] = acc1[i] = _mm512_setzero_ps();
    const float* a = t.a;
    const float* b = t.b;
    for (std::int64_t k = 0; k < kc; ++k) {
      const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
      b += ldb;
#pragma GCC unroll 12
      for (int i = 0; i < R; ++i) {
        const __m512 av = _mm512_set1_ps(kRowA ? a[i * lda] : a[i]);
        acc0[i] = _mm512_fmadd_ps(av, b0, acc0[i]);
        acc1[i] = _mm512_fmadd_ps(av, b1, acc1[i]);
      }
      a += kRowA ? 1 : lda;
    }
    const __mmask16 m0 = lanes(t.cols), m1 = lanes(t.cols - 16);
    const __m512 alpha = _mm512_set1_ps(t.alpha), beta = _mm512_set1_ps(t.beta);
    const bool read_c = t.read_c;
#pragma GCC unroll 12
    for (int i = 0; i < R; ++i, c += ldc) {
      __m512 r0, r1;
      if (read_c) {
        r0 = _mm512_fmadd_ps(acc0[i], alpha, _mm512_mul_ps(beta, _mm512_maskz_loadu_ps(m0, c)));
        r1 = _mm512_fmadd_ps(acc1[i], alpha, _mm512_mul_ps(beta, _mm512_maskz_loadu_ps(m1, c + 16)));
      } else {
        r0 = _mm512_mul_ps(acc0[i], alpha);
        r1 = _mm512_mul_ps(acc1[i], alpha);
      }
      _mm512_mask_storeu_ps(c, m0, r0);
      _mm512_mask_storeu_ps(c + 16, m1, r1);
    }
  }

  /// Transposes the 16×16 block r in place (r[i] lane j becomes r[j] lane i).
  RECSYS_TARGET_AVX512 static void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 8; ++i) {  // interleave row pairs: lane L holds (2i, 2i+1) × columns 4L..4L+3
      t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
      t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    __m512 u[16];
    for (int g = 0; g < 4; ++g) {  // u[4g + c] lane L: rows 4g..4g+3 of column 4L + c
      const __m512d t0 = _mm512_castps_pd(t[4 * g]), t1 = _mm512_castps_pd(t[4 * g + 1]);
      const __m512d t2 = _mm512_castps_pd(t[4 * g + 2]), t3 = _mm512_castps_pd(t[4 * g + 3]);
      u[4 * g + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
      u[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
      u[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
      u[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
    }
    for (int c = 0; c < 4; ++c) {  // gather lane L of the four row groups into column 4L + c
      const __m512 v0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x44), v1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xEE);
      const __m512 w0 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x44);
      const __m512 w1 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xEE);
      r[c] = _mm512_shuffle_f32x4(v0, w0, 0x88);
      r[4 + c] = _mm512_shuffle_f32x4(v0, w0, 0xDD);
      r[8 + c] = _mm512_shuffle_f32x4(v1, w1, 0x88);
      r[12 + c] = _mm512_shuffle_f32x4(v1, w1, 0xDD);
    }
  }

  /// Loads `rows` rows of up to 16 contiguous floats (kn of them, the rest zero) at src + i·ld and
  /// transposes them: r[k] lane i = src[i·ld + k].
  RECSYS_TARGET_AVX512 static void load_transposed(const float* src, std::int64_t ld, std::int64_t rows,
                                                   std::int64_t kn, __m512 r[16]) {
    const __mmask16 km = lanes(kn);
    for (int i = 0; i < 16; ++i) r[i] = i < rows ? _mm512_maskz_loadu_ps(km, src + i * ld) : _mm512_setzero_ps();
    transpose16(r);
  }

  RECSYS_TARGET_AVX512 static void pack_a(const GemmArgs<float>& p, const float* a, std::int64_t i0,
                                          std::int64_t rows, std::int64_t k0, std::int64_t kc, float* out) {
    constexpr __mmask16 kStrip = (1u << kMr) - 1;
    const std::int64_t strips = (rows + kMr - 1) / kMr;
    if (p.trans_a) {  // A is k×m: walk down ~1 KiB wide column blocks, dealing 12 floats per row to each strip
      for (std::int64_t g = 0; g < strips; g += kPackGroup) {
        const std::int64_t g_end = std::min(strips, g + kPackGroup);
        for (std::int64_t k = 0; k < kc; ++k) {
          const float* src = a + (k0 + k) * p.lda + i0;
          for (std::int64_t s = g; s < g_end; ++s)
            _mm512_mask_storeu_ps(out + (s * kc + k) * kMr, kStrip,
                                  _mm512_maskz_loadu_ps(lanes(rows - s * kMr), src + s * kMr));
        }
      }
      return;
    }
    for (std::int64_t s = 0; s < strips; ++s) {  // rows of A are contiguous in k: transpose 16 k at a time
      const std::int64_t r = std::min<std::int64_t>(kMr, rows - s * kMr);
      float* dst = out + s * kc * kMr;
      for (std::int64_t kb = 0; kb < kc; kb += 16) {
        const std::int64_t kn = std::min<std::int64_t>(16, kc - kb);
        __m512 v[16];
        load_transposed(a + (i0 + s * kMr) * p.lda + k0 + kb, p.lda, r, kn, v);
        for (std::int64_t k = 0; k < kn; ++k) _mm512_mask_storeu_ps(dst + (kb + k) * kMr, kStrip, v[k]);
      }
    }
  }

  RECSYS_TARGET_AVX512 static void pack_b(const GemmArgs<float>& p, const float* b, std::int64_t k0,
                                          std::int64_t kc, std::int64_t j0, std::int64_t cols, float* out) {
    const std::int64_t strips = (cols + kNr - 1) / kNr;
    if (!p.trans_b) {  // walk down ~1 KiB wide column blocks of B, dealing 32 floats per row to each strip
      for (std::int64_t g = 0; g < strips; g += kPackGroup) {
        const std::int64_t g_end = std::min(strips, g + kPackGroup);
        for (std::int64_t k = 0; k < kc; ++k) {
          const float* src = b + (k0 + k) * p.ldb + j0;
          for (std::int64_t s = g; s < g_end; ++s) {
            const std::int64_t n = cols - s * kNr;
            float* dst = out + (s * kc + k) * kNr;
            _mm512_storeu_ps(dst, _mm512_maskz_loadu_ps(lanes(n), src + s * kNr));
            _mm512_storeu_ps(dst + 16, _mm512_maskz_loadu_ps(lanes(n - 16), src + s * kNr + 16));
          }
        }
      }
      return;
    }
    for (std::int64_t s = 0; s < strips; ++s) {  // B is n×k: transpose 16 columns × 16 k at a time
      float* dst = out + s * kc * kNr;
      for (int h = 0; h < 2; ++h) {
        const std::int64_t rows = std::clamp<std::int64_t>(cols - s * kNr - 16 * h, 0, 16);
        for (std::int64_t kb = 0; kb < kc; kb += 16) {
          const std::int64_t kn = std::min<std::int64_t>(16, kc - kb);
          __m512 v[16];
          load_transposed(b + (j0 + s * kNr + 16 * h) * p.ldb + k0 + kb, p.ldb, rows, kn, v);
          for (std::int64_t k = 0; k < kn; ++k) _mm512_storeu_ps(dst + (kb + k) * kNr + 16 * h, v[k]);
        }
      }
    }
  }
};

/// The AVX-512 kernel set; call only when simd_level() is SimdLevel::avx512.
inline const SgemmKernels& avx512_sgemm_kernels() {
  static const SgemmKernels kernels{
      "avx512",
      Avx512Sgemm::kMr,
      Avx512Sgemm::kNr,
      sgemm_tile_table<Avx512Sgemm, false>(std::make_integer_sequence<int, Avx512Sgemm::kMr>{}),
      sgemm_tile_table<Avx512Sgemm, true>(std::make_integer_sequence<int, Avx512Sgemm::kMr>{}),
      &Avx512Sgemm::pack_a,
      &Avx512Sgemm::pack_b};
  return kernels;
}

}  // namespace recsys::cpu

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif  // RECSYS_X86_SIMD
