// recsys/cpu/lstm_math.hpp — branch-free float exp, sigmoid and tanh (a few ulp) that vectorize inside `omp simd` loops.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "recsys/cpu/unary.hpp"

namespace recsys::cpu::vmath {

// std::exp and std::tanh are library calls the compiler cannot vectorize, and the LSTM cell needs
// five of them per hidden unit and step. exp (and sigmoid through it) is the Cephes single-precision
// algorithm (range reduction + minimax polynomial), tanh a rational minimax fit; both are written
// without branches or calls so a loop over them becomes AVX-512/AVX2 code. Measured error
// (tests/ops/lstm_test.cpp): exp <= 2 ulp, sigmoid <= 4 ulp, tanh <= 6 ulp (3.6e-7 relative) — float
// rounding level, far inside the 1e-5 we promise against PyTorch.

namespace detail {
/// cond ? a : b as bit operations. Written as `?:`, GCC's jump threading sees that a clamped input
/// makes the rest of exp a constant and splits the loop body into paths; the divisions then sit
/// under conditions, which AVX2 and SSE cannot vectorize (a division may trap), and AVX-512 runs
/// masked twice (8 divisions per 5 activations instead of 5). Bit masks leave no path to split.
[[gnu::always_inline]] inline float select(bool cond, float a, float b) {
  const std::uint32_t m = 0u - static_cast<std::uint32_t>(cond);
  return std::bit_cast<float>((std::bit_cast<std::uint32_t>(a) & m) | (std::bit_cast<std::uint32_t>(b) & ~m));
}

/// tanh's rational approximation: P and Q coefficients of z⁰…z⁴ (both start at 1, so tanh(x) = x near 0).
inline constexpr float kTanhP[5] = {1.0f, 1.337751299e-01f, 3.491305979e-03f, 2.053435310e-05f, 1.324322518e-08f};
inline constexpr float kTanhQ[5] = {1.0f, 4.671083391e-01f, 2.586097457e-02f, 3.278446675e-04f, 7.732608651e-07f};

/// c[0] + c[1]·z + … + c[4]·z⁴ by Horner's rule (the order scripts/fit_tanh.py tunes the coefficients for).
[[gnu::always_inline]] inline float horner4(const float (&c)[5], float z) {
  float acc = c[4];
  for (int k = 3; k >= 0; --k) acc = acc * z + c[k];
  return acc;
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

/// tanh for float: tanh(x) = x·P(x²)/Q(x²), P and Q of degree 4, on |x| clamped to 9.1 (beyond that
/// tanh rounds to ±1). One form for every x: about 17 vector operations where the exp-based form
/// (1 - 2/(e^2x + 1), with an odd polynomial near 0 where that cancels) computed both forms and chose,
/// about 35 — the LSTM cell spends more than half its time in tanh and σ. The coefficients are a
/// relative-error minimax fit (scripts/fit_tanh.py), then nudged by a few float ulps each to lower the
/// worst case of float evaluation with and without FMA. Exact: tanh(±0) = ±0, tanh(x) = x for tiny x.
[[gnu::always_inline]] inline float tanh(float x) {
  constexpr float kClamp = 9.1f;
  const float ax = detail::select(std::fabs(x) > kClamp, kClamp, std::fabs(x));  // NaN passes
  const float z = ax * ax;
  const float r = ax * detail::horner4(detail::kTanhP, z) / detail::horner4(detail::kTanhQ, z);
  // Rounding can land an ulp or two above 1 near the clamp.
  return std::copysign(detail::select(r > 1.0f, 1.0f, r), x);
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
