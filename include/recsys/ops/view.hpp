// recsys/ops/view.hpp — ops that return a view sharing memory: reshape, transpose, permute, slice, select, squeeze, expand.
#pragma once

#include <algorithm>
#include <cstdint>

#include "recsys/autograd/function.hpp"
#include "recsys/core/tensor.hpp"
#include "recsys/ops/reduce.hpp"

namespace recsys {

inline Tensor sum_to_shape(const Tensor& x, const Shape& shape);  // ops/reduce.hpp: expand's gradient

namespace detail {

/// A view of `base` with new geometry; records `backward` when base needs grad.
inline Tensor make_view_of(const Tensor& base, const char* op, const Shape& shape, const Shape& strides,
                           std::int64_t offset, autograd::Node::BackwardFn backward) {
  Tensor v = Tensor::make_view(base.impl()->storage, base.dtype(), shape, strides, offset);
  if (autograd::should_record(base)) autograd::record(op, {base}, {v}, std::move(backward));
  return v;
}

/// Resolves one -1 in `shape` so the element count matches `numel`.
inline Shape infer_shape(Shape shape, std::int64_t numel, const char* op) {
  int infer = -1;
  std::int64_t known = 1;
  for (int i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      RECSYS_CHECK(infer < 0, op, ": only one dimension can be -1, got ", shape);
      infer = i;
    } else {
      RECSYS_CHECK(shape[i] >= 0, op, ": invalid size ", shape[i], " in shape ", shape);
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    RECSYS_CHECK(known != 0 && numel % known == 0, op, ": shape ", shape, " is invalid for ", numel, " elements");
    shape[infer] = numel / known;
  }
  RECSYS_CHECK(shape.numel() == numel, op, ": shape ", shape, " is invalid for ", numel, " elements");
  return shape;
}

/// Strides that let a tensor of (shape, strides) be read as `target` without copying, if any exist.
/// Walks both shapes from the innermost dimension, matching runs of old dimensions that are laid out
/// contiguously with each other ("chunks") against runs of new dimensions with the same element count.
inline bool view_strides(const Shape& shape, const Shape& strides, const Shape& target, Shape& out) {
  out = Shape::filled(target.size(), 1);
  if (shape.numel() == 0 || shape.size() == 0) {
    out = contiguous_strides(target);
    return true;
  }
  int view_d = target.size() - 1;
  std::int64_t chunk_stride = strides[shape.size() - 1];  // stride of the innermost dim of the current chunk
  std::int64_t chunk_numel = 1, view_numel = 1;
  for (int d = shape.size() - 1; d >= 0; --d) {
    chunk_numel *= shape[d];
    const bool chunk_ends = d == 0 || (shape[d - 1] != 1 && strides[d - 1] != chunk_numel * chunk_stride);
    if (!chunk_ends) continue;
    while (view_d >= 0 && (view_numel < chunk_numel || target[view_d] == 1)) {
      out[view_d] = view_numel * chunk_stride;
      view_numel *= target[view_d];
      --view_d;
    }
    if (view_numel != chunk_numel) return false;
    if (d > 0) {
      chunk_stride = strides[d - 1];
      chunk_numel = view_numel = 1;
    }
  }
  return view_d == -1;
}

/// Gradient of a view op whose input had `in_shape`: scatter g into zeros through the same view.
inline Tensor scatter_into_zeros(const Tensor& g, const Shape& in_shape, const Shape& strides, std::int64_t offset) {
  Tensor full = Tensor::empty(in_shape, {g.dtype(), g.device()});
  full.zero_();
  Tensor::make_view(full.impl()->storage, g.dtype(), g.shape(), strides, offset).copy_(g);
  return full;
}

}  // namespace detail

inline Tensor Tensor::view(const Shape& requested) const {
  const Shape shape = detail::infer_shape(requested, numel(), "view");
  Shape strides;
  RECSYS_CHECK(detail::view_strides(this->shape(), this->strides(), shape, strides), "view: tensor of shape ",
               this->shape(), " with strides ", this->strides(), " cannot be viewed as ", shape,
               " without a copy; use reshape(), which copies when it must");
  const Shape in_shape = this->shape();
  return detail::make_view_of(*this, "view", shape, strides, storage_offset(),
                              [in_shape](const autograd::TensorList& g) -> autograd::TensorList {
                                return {g[0].reshape(in_shape)};
                              });
}

inline Tensor Tensor::reshape(const Shape& shape) const {
  const Shape target = detail::infer_shape(shape, numel(), "reshape");
  Shape unused;
  return detail::view_strides(this->shape(), this->strides(), target, unused) ? view(target) : clone().view(target);
}

inline Tensor Tensor::flatten(std::int64_t start_dim, std::int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  const int s = wrap_dim(start_dim, dim(), "flatten"), e = wrap_dim(end_dim, dim(), "flatten");
  RECSYS_CHECK(s <= e, "flatten: start_dim ", start_dim, " comes after end_dim ", end_dim);
  Shape out;
  for (int i = 0; i < s; ++i) out.push_back(shape()[i]);
  std::int64_t merged = 1;
  for (int i = s; i <= e; ++i) merged *= shape()[i];
  out.push_back(merged);
  for (int i = e + 1; i < dim(); ++i) out.push_back(shape()[i]);
  return reshape(out);
}

inline Tensor Tensor::permute(const Shape& order) const {
  RECSYS_CHECK(order.size() == dim(), "permute: got ", order.size(), " dimensions ", order, " for a tensor of rank ",
               dim());
  Shape shape, strides, inverse = Shape::filled(dim(), -1);
  for (int i = 0; i < dim(); ++i) {
    const int d = wrap_dim(order[i], dim(), "permute");
    RECSYS_CHECK(inverse[d] < 0, "permute: dimension ", d, " appears twice in ", order);
    inverse[d] = i;
    shape.push_back(this->shape()[d]);
    strides.push_back(this->strides()[d]);
  }
  return detail::make_view_of(*this, "permute", shape, strides, storage_offset(),
                              [inverse](const autograd::TensorList& g) -> autograd::TensorList {
                                return {g[0].permute(inverse)};
                              });
}

inline Tensor Tensor::transpose(std::int64_t d0, std::int64_t d1) const {
  Shape order;
  for (int i = 0; i < dim(); ++i) order.push_back(i);
  std::swap(order[wrap_dim(d0, dim(), "transpose")], order[wrap_dim(d1, dim(), "transpose")]);
  return permute(order);
}

inline Tensor Tensor::t() const {
  RECSYS_CHECK(dim() == 2, "t: expects a 2-D tensor, got shape ", shape(), "; use transpose(d0, d1)");
  return transpose(0, 1);
}

inline Tensor Tensor::slice(std::int64_t dim_, std::int64_t start, std::int64_t end, std::int64_t step) const {
  const int d = wrap_dim(dim_, dim(), "slice");
  RECSYS_CHECK(dim() > 0, "slice: cannot slice a 0-dimensional tensor");
  RECSYS_CHECK(step > 0, "slice: step must be positive, got ", step);
  const std::int64_t n = shape()[d];
  // Python semantics: negative bounds count from the end, out-of-range bounds are clamped.
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<std::int64_t>(start, 0, n);
  end = std::clamp<std::int64_t>(end, start, n);
  Shape shape = this->shape(), strides = this->strides();
  shape[d] = (end - start + step - 1) / step;
  strides[d] *= step;
  const std::int64_t offset = storage_offset() + start * this->strides()[d];
  const Shape in_shape = this->shape();
  const Shape in_contig = contiguous_strides(in_shape);
  Shape grad_strides = in_contig;
  grad_strides[d] *= step;
  const std::int64_t grad_offset = start * in_contig[d];
  return detail::make_view_of(*this, "slice", shape, strides, offset,
                              [=](const autograd::TensorList& g) -> autograd::TensorList {
                                return {detail::scatter_into_zeros(g[0], in_shape, grad_strides, grad_offset)};
                              });
}

inline Tensor Tensor::select(std::int64_t dim_, std::int64_t index) const {
  const int d = wrap_dim(dim_, dim(), "select");
  RECSYS_CHECK(dim() > 0, "select: cannot select from a 0-dimensional tensor");
  const std::int64_t n = shape()[d];
  RECSYS_CHECK(index >= -n && index < n, "select: index ", index, " is out of range for dimension ", d, " of size ",
               n);
  if (index < 0) index += n;
  Shape shape = this->shape(), strides = this->strides();
  shape.erase(d);
  strides.erase(d);
  const std::int64_t offset = storage_offset() + index * this->strides()[d];
  const Shape in_shape = this->shape();
  Shape grad_strides = contiguous_strides(in_shape);
  const std::int64_t grad_offset = index * grad_strides[d];
  grad_strides.erase(d);
  return detail::make_view_of(*this, "select", shape, strides, offset,
                              [=](const autograd::TensorList& g) -> autograd::TensorList {
                                return {detail::scatter_into_zeros(g[0], in_shape, grad_strides, grad_offset)};
                              });
}

inline Tensor Tensor::unsqueeze(std::int64_t dim_) const {
  const int d = wrap_dim(dim_, dim() + 1, "unsqueeze");
  Shape shape = this->shape(), strides = this->strides();
  const std::int64_t st = d < dim() ? this->strides()[d] * this->shape()[d] : 1;
  shape.insert(d, 1);
  strides.insert(d, st);
  const Shape in_shape = this->shape();
  return detail::make_view_of(*this, "unsqueeze", shape, strides, storage_offset(),
                              [in_shape](const autograd::TensorList& g) -> autograd::TensorList {
                                return {g[0].reshape(in_shape)};
                              });
}

inline Tensor Tensor::squeeze(std::int64_t dim_) const {
  if (dim() == 0) return *this;
  const int d = wrap_dim(dim_, dim(), "squeeze");
  if (shape()[d] != 1) return *this;
  Shape shape = this->shape(), strides = this->strides();
  shape.erase(d);
  strides.erase(d);
  const Shape in_shape = this->shape();
  return detail::make_view_of(*this, "squeeze", shape, strides, storage_offset(),
                              [in_shape](const autograd::TensorList& g) -> autograd::TensorList {
                                return {g[0].reshape(in_shape)};
                              });
}

inline Tensor Tensor::squeeze() const {
  Shape shape, strides;
  for (int i = 0; i < dim(); ++i)
    if (this->shape()[i] != 1) {
      shape.push_back(this->shape()[i]);
      strides.push_back(this->strides()[i]);
    }
  if (shape.size() == dim()) return *this;
  const Shape in_shape = this->shape();
  return detail::make_view_of(*this, "squeeze", shape, strides, storage_offset(),
                              [in_shape](const autograd::TensorList& g) -> autograd::TensorList {
                                return {g[0].reshape(in_shape)};
                              });
}

inline Tensor Tensor::expand(const Shape& requested) const {
  RECSYS_CHECK(requested.size() >= dim(), "expand: cannot expand shape ", shape(), " to fewer dimensions ",
               requested);
  const int lead = requested.size() - dim();
  Shape shape = requested, strides = Shape::filled(requested.size(), 0);
  for (int i = 0; i < requested.size(); ++i) {
    if (i < lead) {
      RECSYS_CHECK(requested[i] >= 0, "expand: new leading dimension ", i, " must be given, got ", requested[i]);
      continue;
    }
    const std::int64_t have = this->shape()[i - lead];
    if (requested[i] == -1 || requested[i] == have) {
      shape[i] = have;
      strides[i] = this->strides()[i - lead];
    } else {
      RECSYS_CHECK(have == 1, "expand: cannot expand shape ", this->shape(), " to ", requested, " (dimension ", i,
                   " has size ", have, ", only size-1 dimensions can grow)");
    }
  }
  if (shape == this->shape()) return *this;
  const Shape in_shape = this->shape();
  return detail::make_view_of(*this, "expand", shape, strides, storage_offset(),
                              [in_shape](const autograd::TensorList& g) -> autograd::TensorList {
                                return {sum_to_shape(g[0], in_shape)};
                              });
}

}  // namespace recsys
