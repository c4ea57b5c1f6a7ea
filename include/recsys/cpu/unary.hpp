// recsys/cpu/unary.hpp — elementwise math on contiguous arrays (forward and gradient), one switch per call.
#pragma once

#include <cmath>
#include <cstdint>

#include "recsys/core/config.hpp"
#include "recsys/core/parallel.hpp"

namespace recsys {

/// The elementwise ops; p0/p1 carry parameters (pow: exponent; clamp: low, high).
enum class UnaryOp : std::uint8_t { neg, exp, log, sqrt, abs, relu, sigmoid, tanh, pow, clamp };

/// Logistic function without overflow for large |x|.
template <class T>
RECSYS_HOST_DEVICE inline T stable_sigmoid(T x) {
  if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);
  return e / (T(1) + e);
}

/// y = op(x).
template <UnaryOp Op, class T>
RECSYS_HOST_DEVICE inline T unary_value(T x, T p0, T p1) {
  if constexpr (Op == UnaryOp::neg) return -x;
  if constexpr (Op == UnaryOp::exp) return std::exp(x);
  if constexpr (Op == UnaryOp::log) return std::log(x);
  if constexpr (Op == UnaryOp::sqrt) return std::sqrt(x);
  if constexpr (Op == UnaryOp::abs) return std::fabs(x);
  if constexpr (Op == UnaryOp::relu) return x > T(0) ? x : T(0);
  if constexpr (Op == UnaryOp::sigmoid) return stable_sigmoid(x);
  if constexpr (Op == UnaryOp::tanh) return std::tanh(x);
  if constexpr (Op == UnaryOp::pow) return std::pow(x, p0);
  if constexpr (Op == UnaryOp::clamp) return x < p0 ? p0 : (x > p1 ? p1 : x);
}

/// dy/dx given x and y = op(x).
template <UnaryOp Op, class T>
RECSYS_HOST_DEVICE inline T unary_derivative(T x, T y, T p0, T p1) {
  if constexpr (Op == UnaryOp::neg) return T(-1);
  if constexpr (Op == UnaryOp::exp) return y;
  if constexpr (Op == UnaryOp::log) return T(1) / x;
  if constexpr (Op == UnaryOp::sqrt) return T(0.5) / y;
  // Comparisons converted to T rather than ?: keep the loops free of branches, so they vectorize.
  if constexpr (Op == UnaryOp::abs) return static_cast<T>(x > T(0)) - static_cast<T>(x < T(0));
  if constexpr (Op == UnaryOp::relu) return static_cast<T>(x > T(0));
  if constexpr (Op == UnaryOp::sigmoid) return y * (T(1) - y);
  if constexpr (Op == UnaryOp::tanh) return T(1) - y * y;
  if constexpr (Op == UnaryOp::pow) return p0 * std::pow(x, p0 - T(1));
  if constexpr (Op == UnaryOp::clamp) return static_cast<T>(x >= p0) * static_cast<T>(x <= p1);  // inclusive, like PyTorch
}

/// Calls f.template operator()<Op>() for the runtime op: one switch outside the element loop.
template <class F>
RECSYS_HOST_DEVICE inline void visit_unary(UnaryOp op, F&& f) {
  switch (op) {
    case UnaryOp::neg: return f.template operator()<UnaryOp::neg>();
    case UnaryOp::exp: return f.template operator()<UnaryOp::exp>();
    case UnaryOp::log: return f.template operator()<UnaryOp::log>();
    case UnaryOp::sqrt: return f.template operator()<UnaryOp::sqrt>();
    case UnaryOp::abs: return f.template operator()<UnaryOp::abs>();
    case UnaryOp::relu: return f.template operator()<UnaryOp::relu>();
    case UnaryOp::sigmoid: return f.template operator()<UnaryOp::sigmoid>();
    case UnaryOp::tanh: return f.template operator()<UnaryOp::tanh>();
    case UnaryOp::pow: return f.template operator()<UnaryOp::pow>();
    case UnaryOp::clamp: return f.template operator()<UnaryOp::clamp>();
  }
}

namespace cpu {

// The loops live in functions of their own: inside a lambda, OpenMP's outlined body would read the
// captured pointers through the closure on every iteration (a store through y might change them),
// which keeps GCC from vectorizing it — and a scalar relu branches on the sign of every element.
template <UnaryOp Op, class T>
void unary_loop(const T* x, T* y, std::int64_t n, T p0, T p1) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelGrain)
  for (std::int64_t i = 0; i < n; ++i) y[i] = unary_value<Op>(x[i], p0, p1);
}

template <UnaryOp Op, class T>
void unary_backward_loop(const T* x, const T* y, const T* gy, T* gx, std::int64_t n, T p0, T p1) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelGrain)
  for (std::int64_t i = 0; i < n; ++i) {
    // A separate statement: written inside the product, GCC 12 turns relu's 0/1 factor into a branch.
    const T d = unary_derivative<Op>(x[i], y[i], p0, p1);
    gx[i] = gy[i] * d;
  }
}

/// y[i] = op(x[i]) for i < n (x and y may alias).
template <class T>
void unary(UnaryOp op, const T* x, T* y, std::int64_t n, T p0, T p1) {
  visit_unary(op, [&]<UnaryOp Op>() { unary_loop<Op>(x, y, n, p0, p1); });
}

/// gx[i] = gy[i] * op'(x[i]) for i < n; y holds the forward output.
template <class T>
void unary_backward(UnaryOp op, const T* x, const T* y, const T* gy, T* gx, std::int64_t n, T p0, T p1) {
  visit_unary(op, [&]<UnaryOp Op>() { unary_backward_loop<Op>(x, y, gy, gx, n, p0, p1); });
}

}  // namespace cpu
}  // namespace recsys
