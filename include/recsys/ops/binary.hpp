// recsys/ops/binary.hpp — add, sub, mul, div with NumPy broadcasting (tensor or scalar operands) and their gradients.
#pragma once

#include "recsys/autograd/function.hpp"
#include "recsys/core/dispatch.hpp"
#include "recsys/core/tensor.hpp"
#include "recsys/cpu/binary.hpp"
#include "recsys/ops/checks.hpp"
#include "recsys/ops/reduce.hpp"

namespace recsys {

/// out = a (op) b over `shape`, all operands strided; a or b may alias out.
template <class T>
inline KernelSlot<void(BinaryOp, const T*, Shape, const T*, Shape, T*, Shape, Shape)> binary_slot{"binary",
                                                                                                &cpu::binary<T>};

namespace detail {

constexpr const char* binary_op_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::add: return "add";
    case BinaryOp::sub: return "sub";
    case BinaryOp::mul: return "mul";
    case BinaryOp::div: return "div";
  }
  return "binary";
}

/// The forward computation only: broadcasts, checks and runs the kernel into a new tensor.
inline Tensor binary_forward(BinaryOp op, const Tensor& a, const Tensor& b) {
  const char* name = binary_op_name(op);
  check_defined(name, "a", a);
  check_defined(name, "b", b);
  check_same(name, {{"a", &a}, {"b", &b}});
  RECSYS_CHECK(op != BinaryOp::div || a.is_floating_point(), name, ": integer division is not supported (got ",
               a.dtype(), "); convert with to(DType::float32) first");
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = Tensor::empty(shape, {a.dtype(), a.device()});
  visit_dtype(a.dtype(), [&]<class T>() {
    binary_slot<T>(a.device(), op, a.data<T>(), broadcast_strides(a.shape(), a.strides(), shape), b.data<T>(),
                   broadcast_strides(b.shape(), b.strides(), shape), out.data<T>(), out.strides(), shape);
  });
  return out;
}

/// dst += src in place, src broadcast to dst's shape; no autograd (used to accumulate gradients).
inline void add_inplace(const Tensor& dst, const Tensor& src) {
  check_same("add_", {{"self", &dst}, {"other", &src}});
  const Shape& shape = dst.shape();
  RECSYS_CHECK(broadcast_shapes(shape, src.shape(), "add_") == shape, "add_: cannot broadcast ", src.shape(),
               " into ", shape);
  visit_dtype(dst.dtype(), [&]<class T>() {
    binary_slot<T>(dst.device(), BinaryOp::add, dst.data<T>(), dst.strides(), src.data<T>(),
                   broadcast_strides(src.shape(), src.strides(), shape), dst.data<T>(), dst.strides(), shape);
  });
  dst.impl()->storage->bump_version();
}

/// A 0-dimensional tensor holding `value`, matching `like`'s dtype and device (for scalar operands).
inline Tensor scalar_like(double value, const Tensor& like) {
  check_defined("scalar", "tensor", like);
  Tensor s = Tensor::empty({}, {like.dtype(), like.device()});
  s.fill_(value);
  return s;
}

inline Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(op, a, b);
  if (!autograd::should_record(a, b)) return out;
  const bool need_a = a.requires_grad(), need_b = b.requires_grad();
  const Shape as = a.shape(), bs = b.shape();
  autograd::SavedTensor sa, sb;  // saved only where the gradient formula needs them
  if (op == BinaryOp::mul && need_b) sa = autograd::SavedTensor(a);
  if ((op == BinaryOp::mul && need_a) || op == BinaryOp::div) sb = autograd::SavedTensor(b);
  if (op == BinaryOp::div && need_b) sa = autograd::SavedTensor(a);
  const char* name = binary_op_name(op);
  autograd::record(name, {a, b}, {out}, [=](const autograd::TensorList& g) -> autograd::TensorList {
    const Tensor& go = g[0];
    Tensor ga, gb;
    switch (op) {
      case BinaryOp::add:
        if (need_a) ga = sum_to_shape(go, as);
        if (need_b) gb = sum_to_shape(go, bs);
        break;
      case BinaryOp::sub:
        if (need_a) ga = sum_to_shape(go, as);
        if (need_b) gb = sum_to_shape(binary_forward(BinaryOp::mul, go, scalar_like(-1.0, go)), bs);
        break;
      case BinaryOp::mul:
        if (need_a) ga = sum_to_shape(binary_forward(BinaryOp::mul, go, sb.get(name)), as);
        if (need_b) gb = sum_to_shape(binary_forward(BinaryOp::mul, go, sa.get(name)), bs);
        break;
      case BinaryOp::div: {
        const Tensor& bv = sb.get(name);
        if (need_a) ga = sum_to_shape(binary_forward(BinaryOp::div, go, bv), as);
        if (need_b) {  // d(a/b)/db = -a / b^2
          Tensor t = binary_forward(BinaryOp::mul, go, sa.get(name));
          t = binary_forward(BinaryOp::div, t, binary_forward(BinaryOp::mul, bv, bv));
          gb = sum_to_shape(binary_forward(BinaryOp::mul, t, scalar_like(-1.0, t)), bs);
        }
        break;
      }
    }
    return {ga, gb};
  });
  return out;
}

}  // namespace detail

/// a + b with broadcasting.
inline Tensor add(const Tensor& a, const Tensor& b) { return detail::binary(BinaryOp::add, a, b); }
/// a - b with broadcasting.
inline Tensor sub(const Tensor& a, const Tensor& b) { return detail::binary(BinaryOp::sub, a, b); }
/// a * b (elementwise) with broadcasting.
inline Tensor mul(const Tensor& a, const Tensor& b) { return detail::binary(BinaryOp::mul, a, b); }
/// a / b (elementwise) with broadcasting; floating-point only.
inline Tensor div(const Tensor& a, const Tensor& b) { return detail::binary(BinaryOp::div, a, b); }

inline Tensor add(const Tensor& a, double s) { return add(a, detail::scalar_like(s, a)); }
inline Tensor sub(const Tensor& a, double s) { return sub(a, detail::scalar_like(s, a)); }
inline Tensor mul(const Tensor& a, double s) { return mul(a, detail::scalar_like(s, a)); }
inline Tensor div(const Tensor& a, double s) { return div(a, detail::scalar_like(s, a)); }

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator+(const Tensor& a, double s) { return add(a, s); }
inline Tensor operator-(const Tensor& a, double s) { return sub(a, s); }
inline Tensor operator*(const Tensor& a, double s) { return mul(a, s); }
inline Tensor operator/(const Tensor& a, double s) { return div(a, s); }
inline Tensor operator+(double s, const Tensor& a) { return add(detail::scalar_like(s, a), a); }
inline Tensor operator-(double s, const Tensor& a) { return sub(detail::scalar_like(s, a), a); }
inline Tensor operator*(double s, const Tensor& a) { return mul(detail::scalar_like(s, a), a); }
inline Tensor operator/(double s, const Tensor& a) { return div(detail::scalar_like(s, a), a); }

}  // namespace recsys
