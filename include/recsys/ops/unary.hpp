// recsys/ops/unary.hpp — elementwise math: neg, exp, log, sqrt, abs, relu, sigmoid, tanh, pow, clamp.
#pragma once

#include <cstdint>
#include <limits>

#include "recsys/autograd/function.hpp"
#include "recsys/core/dispatch.hpp"
#include "recsys/core/tensor.hpp"
#include "recsys/cpu/unary.hpp"
#include "recsys/ops/checks.hpp"

namespace recsys {

/// y = op(x) over n contiguous elements.
template <class T>
inline KernelSlot<void(UnaryOp, const T*, T*, std::int64_t, T, T)> unary_slot{"unary", &cpu::unary<T>};
/// gx = gy * op'(x) over n contiguous elements (y is the forward output).
template <class T>
inline KernelSlot<void(UnaryOp, const T*, const T*, const T*, T*, std::int64_t, T, T)> unary_backward_slot{
    "unary_backward", &cpu::unary_backward<T>};

namespace detail {

inline Tensor unary(UnaryOp op, const char* name, const Tensor& x, double p0 = 0, double p1 = 0) {
  check_floating(name, "input", x);
  const Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(x.shape(), {x.dtype(), x.device()});
  visit_floating(x.dtype(), name, [&]<class T>() {
    unary_slot<T>(x.device(), op, xc.data<T>(), y.data<T>(), x.numel(), static_cast<T>(p0), static_cast<T>(p1));
  });
  if (!autograd::should_record(x)) return y;
  const autograd::SavedTensor sx(xc), sy(y);
  autograd::record(name, {x}, {y}, [=](const autograd::TensorList& g) -> autograd::TensorList {
    const Tensor& xv = sx.get(name);
    const Tensor& yv = sy.get(name);
    const Tensor gy = g[0].contiguous();
    Tensor gx = Tensor::empty(xv.shape(), {xv.dtype(), xv.device()});
    visit_floating(xv.dtype(), name, [&]<class T>() {
      unary_backward_slot<T>(xv.device(), op, xv.data<T>(), yv.data<T>(), gy.data<T>(), gx.data<T>(), xv.numel(),
                             static_cast<T>(p0), static_cast<T>(p1));
    });
    return {gx};
  });
  return y;
}

}  // namespace detail

inline Tensor neg(const Tensor& x) { return detail::unary(UnaryOp::neg, "neg", x); }
inline Tensor operator-(const Tensor& x) { return neg(x); }
inline Tensor exp(const Tensor& x) { return detail::unary(UnaryOp::exp, "exp", x); }
/// Natural logarithm (-inf at 0, NaN below, as in IEEE arithmetic).
inline Tensor log(const Tensor& x) { return detail::unary(UnaryOp::log, "log", x); }
inline Tensor sqrt(const Tensor& x) { return detail::unary(UnaryOp::sqrt, "sqrt", x); }
inline Tensor abs(const Tensor& x) { return detail::unary(UnaryOp::abs, "abs", x); }
inline Tensor relu(const Tensor& x) { return detail::unary(UnaryOp::relu, "relu", x); }
/// Logistic sigmoid, computed without overflow for large |x|.
inline Tensor sigmoid(const Tensor& x) { return detail::unary(UnaryOp::sigmoid, "sigmoid", x); }
inline Tensor tanh(const Tensor& x) { return detail::unary(UnaryOp::tanh, "tanh", x); }
/// x ** exponent, elementwise.
inline Tensor pow(const Tensor& x, double exponent) { return detail::unary(UnaryOp::pow, "pow", x, exponent); }
/// Limits x to [low, high]; the gradient passes where low <= x <= high.
inline Tensor clamp(const Tensor& x, double low, double high) {
  RECSYS_CHECK(!(low > high), "clamp: low (", low, ") is above high (", high, ")");
  return detail::unary(UnaryOp::clamp, "clamp", x, low, high);
}
inline Tensor clamp_min(const Tensor& x, double low) {
  return clamp(x, low, std::numeric_limits<double>::infinity());
}

}  // namespace recsys
