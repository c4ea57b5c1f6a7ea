// recsys/core/random.hpp — Philox-4x32-10 counter-based random numbers and the seeded Generator.
#pragma once

#include <cmath>
#include <cstdint>

#include "recsys/core/config.hpp"

namespace recsys {

/// Four 32-bit words: one Philox counter block or its output.
struct Philox4 {
  std::uint32_t v[4];
};

/// Philox-4x32-10 (Salmon et al., SC'11): a bijection of the 128-bit counter keyed by 64 bits.
/// Being a pure function of (key, counter), the value of element i never depends on which thread
/// or which device computes it — that is what makes results identical for any thread count.
RECSYS_HOST_DEVICE inline Philox4 philox4x32(Philox4 ctr, std::uint32_t k0, std::uint32_t k1) {
  constexpr std::uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr std::uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t p0 = static_cast<std::uint64_t>(kMul0) * ctr.v[0];
    const std::uint64_t p1 = static_cast<std::uint64_t>(kMul1) * ctr.v[2];
    const std::uint32_t hi0 = static_cast<std::uint32_t>(p0 >> 32), lo0 = static_cast<std::uint32_t>(p0);
    const std::uint32_t hi1 = static_cast<std::uint32_t>(p1 >> 32), lo1 = static_cast<std::uint32_t>(p1);
    ctr = Philox4{{hi1 ^ ctr.v[1] ^ k0, lo1, hi0 ^ ctr.v[3] ^ k1, lo0}};
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  return ctr;
}

/// The random block at 128-bit position `block` of the stream for `seed`.
RECSYS_HOST_DEVICE inline Philox4 philox_block(std::uint64_t seed, std::uint64_t block) {
  return philox4x32(Philox4{{static_cast<std::uint32_t>(block), static_cast<std::uint32_t>(block >> 32), 0u, 0u}},
                    static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32));
}

/// 32 random bits of element i of a draw that starts at block `first_block` (four elements per block).
RECSYS_HOST_DEVICE inline std::uint32_t philox_u32(std::uint64_t seed, std::uint64_t first_block, std::uint64_t i) {
  return philox_block(seed, first_block + i / 4).v[i % 4];
}

/// Uniform in [0, 1) from 24 random bits (exactly representable in float).
RECSYS_HOST_DEVICE inline float u32_to_unit_float(std::uint32_t x) { return static_cast<float>(x >> 8) * 0x1p-24f; }
/// Uniform in [0, 1) from 53 random bits.
RECSYS_HOST_DEVICE inline double u64_to_unit_double(std::uint64_t x) { return static_cast<double>(x >> 11) * 0x1p-53; }

/// Element i of a uniform [0, 1) draw in precision T. float uses one 32-bit word per element; double
/// uses two, so a double draw of n elements spans twice as many blocks.
template <class T>
RECSYS_HOST_DEVICE inline T philox_uniform(std::uint64_t seed, std::uint64_t first_block, std::uint64_t i) {
  if constexpr (sizeof(T) == 4) {
    return u32_to_unit_float(philox_u32(seed, first_block, i));
  } else {
    const Philox4 b = philox_block(seed, first_block + i / 2);
    const std::uint32_t* w = b.v + 2 * (i % 2);
    return static_cast<T>(u64_to_unit_double((static_cast<std::uint64_t>(w[0]) << 32) | w[1]));
  }
}

/// Element i of a standard normal draw (Box–Muller on the uniform pair (2*(i/2), 2*(i/2)+1)).
template <class T>
RECSYS_HOST_DEVICE inline T philox_normal(std::uint64_t seed, std::uint64_t first_block, std::uint64_t i) {
  const std::uint64_t pair = i / 2;
  // 1 - u keeps the logarithm's argument in (0, 1].
  const double u1 = 1.0 - static_cast<double>(philox_uniform<T>(seed, first_block, 2 * pair));
  const double u2 = static_cast<double>(philox_uniform<T>(seed, first_block, 2 * pair + 1));
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double angle = 6.283185307179586476925 * u2;
  return static_cast<T>(i % 2 == 0 ? r * std::cos(angle) : r * std::sin(angle));
}

/// Number of 128-bit blocks a draw of n elements of T consumes.
template <class T>
constexpr std::uint64_t philox_blocks(std::uint64_t n) {
  return sizeof(T) == 4 ? (n + 3) / 4 : (n + 1) / 2;
}

/// A seeded stream of random numbers. Each draw reserves a range of counter blocks, so draws are
/// reproducible from (seed, order of draws) alone, on any number of threads and on any device.
class Generator {
 public:
  explicit Generator(std::uint64_t seed = 0x5EED5EEDull) : seed_(seed) {}

  std::uint64_t seed() const { return seed_; }
  std::uint64_t offset() const { return offset_; }
  void set_state(std::uint64_t seed, std::uint64_t offset) {
    seed_ = seed;
    offset_ = offset;
  }

  /// Reserves `blocks` counter blocks and returns the first one.
  std::uint64_t reserve(std::uint64_t blocks) {
    const std::uint64_t first = offset_;
    offset_ += blocks;
    return first;
  }

  /// One 64-bit value (consumes one block): for host-side decisions like shuffles.
  std::uint64_t next_u64() {
    const Philox4 b = philox_block(seed_, reserve(1));
    return (static_cast<std::uint64_t>(b.v[0]) << 32) | b.v[1];
  }
  /// Uniform in [0, 1).
  double uniform() { return u64_to_unit_double(next_u64()); }
  /// Uniform integer in [0, n) without modulo bias.
  std::uint64_t below(std::uint64_t n) {
    if (n <= 1) return 0;
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    std::uint64_t x;
    do x = next_u64(); while (x >= limit);
    return x % n;
  }
  /// Standard normal.
  double normal() {
    const double u1 = 1.0 - uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586476925 * u2);
  }

 private:
  std::uint64_t seed_;
  std::uint64_t offset_ = 0;
};

/// Fisher–Yates shuffle driven by a Generator (same seed, same order, on every platform).
template <class RandomIt>
void shuffle(RandomIt first, RandomIt last, Generator& gen) {
  const auto n = last - first;
  for (auto i = n - 1; i > 0; --i) {
    const auto j = static_cast<decltype(i)>(gen.below(static_cast<std::uint64_t>(i) + 1));
    auto tmp = first[i];
    first[i] = first[j];
    first[j] = tmp;
  }
}

}  // namespace recsys

namespace recsys {

/// The process-wide generator that layer initializers use when none is passed (like
/// torch.manual_seed's global generator). Not synchronized: seed it and build models on one thread.
inline Generator& default_generator() {
  static Generator gen;
  return gen;
}

/// Re-seeds default_generator(): the same seed then builds the same initial weights.
inline void manual_seed(std::uint64_t seed) { default_generator().set_state(seed, 0); }

}  // namespace recsys
