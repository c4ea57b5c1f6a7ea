// recsys/cpu/gemm_tile.hpp — the SGEMM micro-kernel interface (SgemmTile, SgemmKernels) and the portable kernels and packing.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include "recsys/cpu/gemm_args.hpp"

namespace recsys::cpu {

/// The most rows any micro-kernel handles (the AVX-512 kernel's 12).
inline constexpr int kSgemmMaxMr = 12;

/// One micro-kernel call: C[rows × cols] = alpha · A[rows × kc] · B[kc × nr] (+ beta · C when read_c).
/// A kernel sums the kc products of each C element in k order, from zero, with the same arithmetic
/// for every element, so an element's value does not depend on which tile (or thread) computed it.
struct SgemmTile {
  std::int64_t kc = 0;
  const float* a = nullptr;
  std::int64_t a_ld = 0;  // k-major kernels read A(i, k) at a[k * a_ld + i], row-major ones at a[i * a_ld + k]
  const float* b = nullptr;
  std::int64_t b_ld = 0;  // B(k, j) at b[k * b_ld + j]; all nr columns must be readable
  float* c = nullptr;
  std::int64_t ldc = 0;
  int cols = 0;  // columns of C written, 1 .. nr
  float alpha = 1, beta = 0;
  bool read_c = false;  // false: C = alpha·AB (C is never read); true: C = alpha·AB + beta·C
};

using SgemmTileFn = void (*)(const SgemmTile&);

/// Packs op(A) rows [i0, i0 + rows) × k [k0, k0 + kc) into strips of mr rows: strip s starts at
/// out + s·kc·mr and holds A(i, k) at [k·mr + i] (k-major, what the micro-kernel broadcasts from).
using SgemmPackAFn = void (*)(const GemmArgs<float>& p, const float* a, std::int64_t i0, std::int64_t rows,
                              std::int64_t k0, std::int64_t kc, float* out);

/// Packs op(B) k [k0, k0 + kc) × columns [j0, j0 + cols) into strips of nr columns: strip s starts at
/// out + s·kc·nr and holds B(k, j) at [k·nr + j], zero past the last column.
using SgemmPackBFn = void (*)(const GemmArgs<float>& p, const float* b, std::int64_t k0, std::int64_t kc,
                              std::int64_t j0, std::int64_t cols, float* out);

/// One SIMD level's SGEMM building blocks; the driver (gemm_driver.hpp) is shared by all levels.
struct SgemmKernels {
  const char* name;
  int mr, nr;  // rows and columns of a full micro-tile
  std::array<SgemmTileFn, kSgemmMaxMr + 1> kmajor;    // [rows]: A read k-major (packed, or trans_a in place)
  std::array<SgemmTileFn, kSgemmMaxMr + 1> rowmajor;  // [rows]: A read row-major in place; all null: always pack A
  SgemmPackAFn pack_a;
  SgemmPackBFn pack_b;
};

/// The table {nullptr, K::tile<1>, ..., K::tile<mr>} for a kernel struct K.
template <class K, bool kRowA, int... R>
constexpr std::array<SgemmTileFn, kSgemmMaxMr + 1> sgemm_tile_table(std::integer_sequence<int, R...>) {
  std::array<SgemmTileFn, kSgemmMaxMr + 1> table{};
  ((table[R + 1] = &K::template tile<R + 1, kRowA>), ...);
  return table;
}

/// Packing in plain C++, for kernels without SIMD packing of their own. Both walk the source in
/// memory order where they can: a walk down a column touches a new page for every k.
template <int MR>
void sgemm_pack_a_generic(const GemmArgs<float>& p, const float* a, std::int64_t i0, std::int64_t rows,
                          std::int64_t k0, std::int64_t kc, float* out) {
  for (std::int64_t i = 0; i < rows; ++i) {
    float* dst = out + (i / MR) * kc * MR + i % MR;
    if (p.trans_a) {  // A is k×m
      for (std::int64_t k = 0; k < kc; ++k) dst[k * MR] = a[(k0 + k) * p.lda + i0 + i];
    } else {
      const float* src = a + (i0 + i) * p.lda + k0;
      for (std::int64_t k = 0; k < kc; ++k) dst[k * MR] = src[k];
    }
  }
}

template <int NR>
void sgemm_pack_b_generic(const GemmArgs<float>& p, const float* b, std::int64_t k0, std::int64_t kc,
                          std::int64_t j0, std::int64_t cols, float* out) {
  const std::int64_t padded = (cols + NR - 1) / NR * NR;
  if (padded > cols) std::fill(out + (cols / NR) * kc * NR, out + (cols / NR + 1) * kc * NR, 0.0f);
  if (p.trans_b) {  // B is n×k: a column of op(B) is contiguous
    for (std::int64_t j = 0; j < cols; ++j) {
      const float* src = b + (j0 + j) * p.ldb + k0;
      float* dst = out + (j / NR) * kc * NR + j % NR;
      for (std::int64_t k = 0; k < kc; ++k) dst[k * NR] = src[k];
    }
  } else {
    for (std::int64_t k = 0; k < kc; ++k) {
      const float* src = b + (k0 + k) * p.ldb + j0;
      for (std::int64_t j = 0; j < cols; ++j) out[((j / NR) * kc + k) * NR + j % NR] = src[j];
    }
  }
}

/// The portable micro-kernel: plain loops the compiler vectorizes for whatever target it builds.
struct PortableSgemm {
  static constexpr int kMr = 4, kNr = 8;

  template <int R, bool kRowA>
  static void tile(const SgemmTile& t) {
    static_assert(!kRowA, "the portable set always packs A");
    float acc[R][kNr] = {};
    for (std::int64_t k = 0; k < t.kc; ++k) {
      const float* b = t.b + k * t.b_ld;
      for (int i = 0; i < R; ++i) {
        const float av = t.a[k * t.a_ld + i];
        for (int j = 0; j < kNr; ++j) acc[i][j] += av * b[j];
      }
    }
    for (int i = 0; i < R; ++i) {
      float* c = t.c + i * t.ldc;
      if (t.read_c) {
        for (int j = 0; j < t.cols; ++j) c[j] = t.alpha * acc[i][j] + t.beta * c[j];
      } else {
        for (int j = 0; j < t.cols; ++j) c[j] = t.alpha * acc[i][j];
      }
    }
  }
};

/// The portable kernel set: every build has it.
inline const SgemmKernels& portable_sgemm_kernels() {
  static const SgemmKernels kernels{
      "portable",
      PortableSgemm::kMr,
      PortableSgemm::kNr,
      sgemm_tile_table<PortableSgemm, false>(std::make_integer_sequence<int, PortableSgemm::kMr>{}),
      {},  // compilers vectorize a row-major A loop across k, badly (4× slower): pack A instead
      &sgemm_pack_a_generic<PortableSgemm::kMr>,
      &sgemm_pack_b_generic<PortableSgemm::kNr>};
  return kernels;
}

}  // namespace recsys::cpu
