// recsys/cpu/gelu.hpp — GELU in its exact erf form (forward and gradient); float loops vectorize, with AVX2/AVX-512 builds.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "recsys/core/parallel.hpp"
#include "recsys/cpu/cpu_features.hpp"
#include "recsys/cpu/lstm_math.hpp"

namespace recsys::cpu {

namespace vmath {

/// erf for float without branches or calls, so `omp simd` loops vectorize: x·P(x²)/Q(x²) on x clamped
/// to [-4, 4] (beyond that erf rounds to ±1), with Eigen's minimax coefficients (generic_fast_erf_float).
/// Measured against double erf on [-6, 6] in steps of 1e-4: at most 4.0e-7 absolute (near x = 3.1, a
/// few float ulps of 1); tests/ops/gelu_test.cpp pins it.
[[gnu::always_inline]] inline float erf(float a) {
  float x = detail::select(a > 4.0f, 4.0f, a);
  x = detail::select(x < -4.0f, -4.0f, x);
  const float x2 = x * x;
  float p = x2 * -2.72614225801306e-10f + 2.77068142495902e-08f;
  p = x2 * p + -2.10102402082508e-06f;
  p = x2 * p + -5.69250639462346e-05f;
  p = x2 * p + -7.34990630326855e-04f;
  p = x2 * p + -2.95459980854025e-03f;
  p = x2 * p + -1.60960333262415e-02f;
  p = x * p;
  float q = x2 * -1.45660718464996e-05f + -2.13374055278905e-04f;
  q = x2 * q + -1.68282697438203e-03f;
  q = x2 * q + -7.37332916720468e-03f;
  q = x2 * q + -1.42647390514189e-02f;
  return p / q;
}

}  // namespace vmath

namespace gelu_detail {

// The formulas are PyTorch's (aten/src/ATen/native/cpu/Activation.cpp, approximate='none'):
//   y  = x · ½ (1 + erf(x / √2))
//   y' = ½ (1 + erf(x / √2)) + x · exp(-x² / 2) / √(2π)
// float uses the vectorizing erf and exp above (a few ulps); double the library functions, exact to
// rounding, which is what gradchecks and the golden tests against PyTorch run in.
template <class T>
[[gnu::always_inline]] inline T erf_of(T x) {
  if constexpr (std::is_same_v<T, float>) return vmath::erf(x);
  else return std::erf(x);
}
template <class T>
[[gnu::always_inline]] inline T exp_of(T x) {
  if constexpr (std::is_same_v<T, float>) return vmath::exp(x);
  else return std::exp(x);
}

inline constexpr double kSqrtHalf = 0.70710678118654752440;   // 1 / √2
inline constexpr double kInvSqrt2Pi = 0.39894228040143267794;  // 1 / √(2π)

template <class T>
[[gnu::always_inline]] inline void forward_range(const T* x, T* y, std::int64_t i0, std::int64_t i1) {
#pragma omp simd
  for (std::int64_t i = i0; i < i1; ++i) y[i] = x[i] * T(0.5) * (T(1) + erf_of(x[i] * T(kSqrtHalf)));
}

template <class T>
[[gnu::always_inline]] inline void backward_range(const T* x, const T* gy, T* gx, std::int64_t i0, std::int64_t i1) {
#pragma omp simd
  for (std::int64_t i = i0; i < i1; ++i) {
    const T cdf = T(0.5) * (T(1) + erf_of(x[i] * T(kSqrtHalf)));
    const T pdf = exp_of(T(-0.5) * x[i] * x[i]) * T(kInvSqrt2Pi);
    gx[i] = gy[i] * (cdf + x[i] * pdf);
  }
}

template <class T>
void forward_base(const T* x, T* y, std::int64_t i0, std::int64_t i1) {
  forward_range(x, y, i0, i1);
}
template <class T>
void backward_base(const T* x, const T* gy, T* gx, std::int64_t i0, std::int64_t i1) {
  backward_range(x, gy, gx, i0, i1);
}

#if RECSYS_X86_SIMD
// The same loops for AVX2 and AVX-512 (float only), picked once from simd_level(): the library is
// built without -march, yet GELU runs 8 or 16 lanes wide where the CPU allows.
RECSYS_TARGET_AVX2 inline void forward_avx2(const float* x, float* y, std::int64_t i0, std::int64_t i1) {
  forward_range(x, y, i0, i1);
}
RECSYS_TARGET_AVX2 inline void backward_avx2(const float* x, const float* gy, float* gx, std::int64_t i0,
                                             std::int64_t i1) {
  backward_range(x, gy, gx, i0, i1);
}
RECSYS_TARGET_AVX512 inline void forward_avx512(const float* x, float* y, std::int64_t i0, std::int64_t i1) {
  forward_range(x, y, i0, i1);
}
RECSYS_TARGET_AVX512 inline void backward_avx512(const float* x, const float* gy, float* gx, std::int64_t i0,
                                                 std::int64_t i1) {
  backward_range(x, gy, gx, i0, i1);
}
#endif

template <class T>
using ForwardFn = void (*)(const T*, T*, std::int64_t, std::int64_t);
template <class T>
using BackwardFn = void (*)(const T*, const T*, T*, std::int64_t, std::int64_t);

template <class T>
ForwardFn<T> forward_kernel() {
#if RECSYS_X86_SIMD
  if constexpr (std::is_same_v<T, float>) {
    if (simd_level() == SimdLevel::avx512) return &forward_avx512;
    if (simd_level() == SimdLevel::avx2) return &forward_avx2;
  }
#endif
  return &forward_base<T>;
}
template <class T>
BackwardFn<T> backward_kernel() {
#if RECSYS_X86_SIMD
  if constexpr (std::is_same_v<T, float>) {
    if (simd_level() == SimdLevel::avx512) return &backward_avx512;
    if (simd_level() == SimdLevel::avx2) return &backward_avx2;
  }
#endif
  return &backward_base<T>;
}

/// Elements per parallel chunk: whole cache lines per thread, and a split that does not depend on
/// the thread count (each element's value never does anyway: the loops are elementwise).
inline constexpr std::int64_t kChunk = 8192;

}  // namespace gelu_detail

/// y[i] = gelu(x[i]) for i < n (x and y may alias).
template <class T>
void gelu(const T* x, T* y, std::int64_t n) {
  const gelu_detail::ForwardFn<T> fn = gelu_detail::forward_kernel<T>();
  const std::int64_t chunks = (n + gelu_detail::kChunk - 1) / gelu_detail::kChunk;
#pragma omp parallel for schedule(static) if (n >= kParallelGrain)
  for (std::int64_t c = 0; c < chunks; ++c)
    fn(x, y, c * gelu_detail::kChunk, std::min(n, (c + 1) * gelu_detail::kChunk));
}

/// gx[i] = gy[i] · gelu'(x[i]) for i < n.
template <class T>
void gelu_backward(const T* x, const T* gy, T* gx, std::int64_t n) {
  const gelu_detail::BackwardFn<T> fn = gelu_detail::backward_kernel<T>();
  const std::int64_t chunks = (n + gelu_detail::kChunk - 1) / gelu_detail::kChunk;
#pragma omp parallel for schedule(static) if (n >= kParallelGrain)
  for (std::int64_t c = 0; c < chunks; ++c)
    fn(x, gy, gx, c * gelu_detail::kChunk, std::min(n, (c + 1) * gelu_detail::kChunk));
}

}  // namespace recsys::cpu
