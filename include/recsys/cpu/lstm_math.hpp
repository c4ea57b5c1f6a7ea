// recsys/cpu/lstm_math.hpp — branch-free float exp, sigmoid and tanh (a few ulp) that vectorize inside `omp simd` loops.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "recsys/cpu/unary.hpp"

namespace recsys::cpu::vmath {

// std::exp and std::tanh are library calls the compiler cannot vectorize, and the LSTM cell needs
// five of them per hidden unit and step. These are the Cephes single-precision algorithms (range
// reduction + minimax polynomial), written without branches or calls so a loop over them becomes
// AVX-512/AVX2 code. Measured error (tests/ops/lstm_test.cpp): exp <= 2 ulp, sigmoid and tanh
// <= 4 ulp — float rounding level, far inside the 1e-5 we promise against PyTorch.

namespace detail {
/// cond ? a : b as bit operations. Written as `?:`, GCC's jump threading sees that a clamped input
/// makes the rest of exp a constant and splits the loop body into paths; the divisions then sit
/// under conditions, which AVX2 and SSE cannot vectorize (a division may trap), and AVX-512 runs
/// masked twice (8 divisions per 5 activations instead of 5). Bit masks leave no path to split.
[[gnu::always_inline]] inline float select(bool cond, float a, float b) {
  const std::uint32_t m = 0u - static_cast<std::uint32_t>(cond);
  return std::bit_cast<float>((std::bit_cast<std::uint32_t>(a) & m) | (std::bit_cast<std::uint32_t>(b) & ~m));
}
}  // namespace detail

/// e^x for float; inputs are clamped to [-87, 88], so the result stays a normal float (NaN passes).
[[gnu::always_inline]] inline float exp(float x) {
  x = detail::select(x > 88.0f, 88.0f, x);
  x = detail::select(x < -87.0f, -87.0f, x);
  // Adding 1.5 * 2^23 rounds x·log2(e) to an integer n that lands in the low mantissa bits of t.
  constexpr float kShift = 12582912.0f;
  const float t = x * 1.44269504088896341f + kShift;
  const float n = t - kShift;
  // r = x - n·ln2, with ln2 split in two so n·ln2_hi is exact (Cody–Waite).
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * (r * r) + r + 1.0f;
  // 2^n built directly in the exponent field; unsigned arithmetic, so NaN inputs are not UB.
  const std::uint32_t bits = (std::bit_cast<std::uint32_t>(t) - std::bit_cast<std::uint32_t>(kShift) + 127u) << 23;
  return y * std::bit_cast<float>(bits);
}

/// 1 / (1 + e^-x) for float.
[[gnu::always_inline]] inline float sigmoid(float x) { return 1.0f / (1.0f + vmath::exp(-x)); }

/// tanh for float: an odd polynomial near 0 (where 1 - 2/(e^2x + 1) would cancel), that formula elsewhere.
[[gnu::always_inline]] inline float tanh(float x) {
  const float ax = std::fabs(x);
  const float big = 1.0f - 2.0f / (vmath::exp(2.0f * ax) + 1.0f);
  const float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const float small = x + x * z * p;
  return detail::select(ax < 0.625f, small, std::copysign(big, x));
}

/// The LSTM's activations: the fast forms above for float, the exact library functions for double
/// (double is what gradchecks run in, and nobody trains in it for speed).
template <class T>
[[gnu::always_inline]] inline T act_sigmoid(T x) {
  if constexpr (std::is_same_v<T, float>) return vmath::sigmoid(x);
  else return stable_sigmoid(x);
}
template <class T>
[[gnu::always_inline]] inline T act_tanh(T x) {
  if constexpr (std::is_same_v<T, float>) return vmath::tanh(x);
  else return std::tanh(x);
}

}  // namespace recsys::cpu::vmath
