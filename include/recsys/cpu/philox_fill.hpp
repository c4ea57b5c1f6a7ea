// recsys/cpu/philox_fill.hpp — many consecutive Philox-4x32-10 blocks at once, in a loop that vectorizes (AVX2/AVX-512 builds).
#pragma once

#include <cstdint>

#include "recsys/core/random.hpp"
#include "recsys/cpu/cpu_features.hpp"

namespace recsys::cpu {

namespace philox_detail {

// philox_block() one call at a time costs about 7 ns per 32-bit word; the same rounds over a range of
// counters, written as one loop whose iterations are independent, vectorize (the 32×32→64-bit
// products become vpmuludq): about 0.7 ns per word with AVX-512 on Zen, bitwise the same words.
[[gnu::always_inline]] inline void fill_range(std::uint64_t seed, std::uint64_t first_block, std::int64_t blocks,
                                              std::uint32_t* out) {
  const auto key0 = static_cast<std::uint32_t>(seed), key1 = static_cast<std::uint32_t>(seed >> 32);
#pragma omp simd
  for (std::int64_t i = 0; i < blocks; ++i) {
    const std::uint64_t block = first_block + static_cast<std::uint64_t>(i);
    std::uint32_t c0 = static_cast<std::uint32_t>(block), c1 = static_cast<std::uint32_t>(block >> 32), c2 = 0, c3 = 0;
    std::uint32_t k0 = key0, k1 = key1;
    for (int round = 0; round < 10; ++round) {  // as philox4x32 in core/random.hpp
      const std::uint64_t p0 = static_cast<std::uint64_t>(0xD2511F53u) * c0;
      const std::uint64_t p1 = static_cast<std::uint64_t>(0xCD9E8D57u) * c2;
      const std::uint32_t n0 = static_cast<std::uint32_t>(p1 >> 32) ^ c1 ^ k0;
      const std::uint32_t n2 = static_cast<std::uint32_t>(p0 >> 32) ^ c3 ^ k1;
      c1 = static_cast<std::uint32_t>(p1);
      c3 = static_cast<std::uint32_t>(p0);
      c0 = n0;
      c2 = n2;
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    out[4 * i] = c0;
    out[4 * i + 1] = c1;
    out[4 * i + 2] = c2;
    out[4 * i + 3] = c3;
  }
}

inline void fill_base(std::uint64_t seed, std::uint64_t first_block, std::int64_t blocks, std::uint32_t* out) {
  fill_range(seed, first_block, blocks, out);
}
#if RECSYS_X86_SIMD
RECSYS_TARGET_AVX2 inline void fill_avx2(std::uint64_t seed, std::uint64_t first_block, std::int64_t blocks,
                                         std::uint32_t* out) {
  fill_range(seed, first_block, blocks, out);
}
RECSYS_TARGET_AVX512 inline void fill_avx512(std::uint64_t seed, std::uint64_t first_block, std::int64_t blocks,
                                             std::uint32_t* out) {
  fill_range(seed, first_block, blocks, out);
}
#endif

using FillFn = void (*)(std::uint64_t, std::uint64_t, std::int64_t, std::uint32_t*);

inline FillFn fill_kernel() {
#if RECSYS_X86_SIMD
  if (simd_level() == SimdLevel::avx512) return &fill_avx512;
  if (simd_level() == SimdLevel::avx2) return &fill_avx2;
#endif
  return &fill_base;
}

}  // namespace philox_detail

/// out[4·i + w] = philox_block(seed, first_block + i).v[w] for i < blocks, so out[e] is
/// philox_u32(seed, first_block, e): a run of a draw's words at once.
inline void philox_fill(std::uint64_t seed, std::uint64_t first_block, std::int64_t blocks, std::uint32_t* out) {
  static const philox_detail::FillFn fn = philox_detail::fill_kernel();
  fn(seed, first_block, blocks, out);
}

}  // namespace recsys::cpu
