// recsys/ops/reduce.hpp — sum, mean, max and argmax over all elements or one dimension, and sum_to_shape.
#pragma once

#include <cstdint>

#include "recsys/autograd/function.hpp"
#include "recsys/core/dispatch.hpp"
#include "recsys/core/tensor.hpp"
#include "recsys/cpu/reduce.hpp"
#include "recsys/ops/checks.hpp"

namespace recsys {

/// x: (outer, n, inner) contiguous -> out: (outer, inner); argmax may be null.
template <class T>
inline KernelSlot<void(ReduceOp, const T*, std::int64_t, std::int64_t, std::int64_t, T*, std::int64_t*)>
    reduce_slot{"reduce", &cpu::reduce<T>};
/// Routes g (outer, inner) to gx (outer, n, inner) at argmax; zero elsewhere.
template <class T>
inline KernelSlot<void(const T*, const std::int64_t*, std::int64_t, std::int64_t, std::int64_t, T*)>
    max_backward_slot{"max_backward", &cpu::max_backward<T>};

inline Tensor div(const Tensor& a, double s);  // ops/binary.hpp (included at the end)

namespace detail {

/// Geometry of a reduction over `dim` (all dims when dim is null): the (outer, n, inner) split and
/// the result's shape with and without the reduced dimension kept.
struct ReduceGeometry {
  std::int64_t outer = 1, n = 1, inner = 1;
  Shape kept;     // reduced dim as size 1
  Shape dropped;  // reduced dim removed
};

inline ReduceGeometry reduce_geometry(const Shape& shape, const std::int64_t* dim, const char* op) {
  ReduceGeometry g;
  if (!dim) {
    g.n = shape.numel();
    g.kept = Shape::filled(shape.size(), 1);
    return g;
  }
  const int d = wrap_dim(*dim, shape.size(), op);
  if (shape.size() == 0) return g;  // a scalar reduces to itself
  for (int i = 0; i < d; ++i) g.outer *= shape[i];
  g.n = shape[d];
  for (int i = d + 1; i < shape.size(); ++i) g.inner *= shape[i];
  g.kept = shape;
  g.kept[d] = 1;
  g.dropped = shape;
  g.dropped.erase(d);
  return g;
}

inline Tensor reduce_impl(ReduceOp op, const char* name, const Tensor& x, const std::int64_t* dim, bool keepdim,
                          Tensor* argmax_out) {
  check_defined(name, "input", x);
  const ReduceGeometry geo = reduce_geometry(x.shape(), dim, name);
  RECSYS_CHECK(op == ReduceOp::sum || geo.n > 0, name, ": cannot take the maximum of an empty dimension (shape ",
               x.shape(), ")");
  const Tensor xc = x.contiguous();
  const Shape out_shape = keepdim ? geo.kept : geo.dropped;
  Tensor out = Tensor::empty(out_shape, {x.dtype(), x.device()});
  Tensor argmax;
  if (op == ReduceOp::max) argmax = Tensor::empty(out_shape, {DType::int64, x.device()});
  visit_dtype(x.dtype(), [&]<class T>() {
    reduce_slot<T>(x.device(), op, xc.data<T>(), geo.outer, geo.n, geo.inner, out.data<T>(),
                   argmax.defined() ? argmax.data<std::int64_t>() : nullptr);
  });
  if (argmax_out) *argmax_out = argmax;
  if (!autograd::should_record(x)) return out;
  const Shape in_shape = x.shape();
  autograd::record(name, {x}, {out}, [=](const autograd::TensorList& g) -> autograd::TensorList {
    const Tensor gk = g[0].reshape(geo.kept);  // reinsert the reduced dim as size 1
    if (op == ReduceOp::sum) return {gk.expand(in_shape).contiguous()};
    Tensor gx = Tensor::empty(in_shape, {gk.dtype(), gk.device()});
    const Tensor gc = gk.contiguous();
    visit_floating(gx.dtype(), name, [&]<class T>() {
      max_backward_slot<T>(gx.device(), gc.data<T>(), argmax.data<std::int64_t>(), geo.outer, geo.n, geo.inner,
                           gx.data<T>());
    });
    return {gx};
  });
  return out;
}

}  // namespace detail

/// Sum of all elements (a 0-dimensional tensor).
inline Tensor sum(const Tensor& x) { return detail::reduce_impl(ReduceOp::sum, "sum", x, nullptr, false, nullptr); }
/// Sum over one dimension (negative counts from the end).
inline Tensor sum(const Tensor& x, std::int64_t dim, bool keepdim = false) {
  return detail::reduce_impl(ReduceOp::sum, "sum", x, &dim, keepdim, nullptr);
}
/// Mean of all elements.
inline Tensor mean(const Tensor& x) {
  detail::check_floating("mean", "input", x);
  Tensor s = sum(x);
  return div(s, static_cast<double>(x.numel()));
}
/// Mean over one dimension.
inline Tensor mean(const Tensor& x, std::int64_t dim, bool keepdim = false) {
  detail::check_floating("mean", "input", x);
  Tensor s = sum(x, dim, keepdim);
  return div(s, static_cast<double>(x.dim() == 0 ? 1 : x.size(dim)));
}
/// Largest element (NaN if any element is NaN); its gradient goes to the first maximum.
inline Tensor max(const Tensor& x) { return detail::reduce_impl(ReduceOp::max, "max", x, nullptr, false, nullptr); }
/// Largest element along one dimension.
inline Tensor max(const Tensor& x, std::int64_t dim, bool keepdim = false) {
  return detail::reduce_impl(ReduceOp::max, "max", x, &dim, keepdim, nullptr);
}
/// Index (int64) of the first largest element along one dimension.
inline Tensor argmax(const Tensor& x, std::int64_t dim, bool keepdim = false) {
  NoGradGuard no_grad;
  Tensor idx;
  detail::reduce_impl(ReduceOp::max, "argmax", x, &dim, keepdim, &idx);
  return idx;
}

/// Sums `x` down to `shape` (the inverse of broadcasting): what a broadcast operand's gradient needs.
inline Tensor sum_to_shape(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  RECSYS_CHECK(broadcast_shapes(x.shape(), shape, "sum_to_shape") == x.shape(), "sum_to_shape: ", shape,
               " does not broadcast to ", x.shape());
  Tensor r = x;
  const int lead = x.dim() - shape.size();
  for (int i = 0; i < lead; ++i) r = sum(r, 0, false);
  for (int i = 0; i < shape.size(); ++i)
    if (shape[i] == 1 && r.size(i) != 1) r = sum(r, i, true);
  return r;
}

}  // namespace recsys

#include "recsys/ops/binary.hpp"  // mean() divides
