// recsys/ops/copy.hpp — copies and conversions: clone, contiguous, to(dtype), to(device), copy_, fill_, element reads.
#pragma once

#include <cstdint>
#include <vector>

#include "recsys/autograd/function.hpp"
#include "recsys/core/dispatch.hpp"
#include "recsys/core/tensor.hpp"
#include "recsys/cpu/copy.hpp"
#include "recsys/ops/checks.hpp"

namespace recsys {

/// dst = Dst(src) elementwise over `shape`; both strided, src strides may be 0 (broadcast).
template <class Src, class Dst>
inline KernelSlot<void(const Src*, Shape, Dst*, Shape, Shape)> copy_slot{"copy", &cpu::copy_strided<Src, Dst>};
/// dst = value over `shape`, dst strided.
template <class T>
inline KernelSlot<void(T*, Shape, Shape, T)> fill_slot{"fill", &cpu::fill_strided<T>};

namespace detail {

/// Writes src (broadcast, converted) into dst's memory. Same device; no autograd; no version bump.
inline void copy_into(const Tensor& dst, const Tensor& src) {
  RECSYS_CHECK(dst.device() == src.device(), "copy: destination is on ", dst.device(), " but source is on ",
               src.device());
  const Shape& shape = dst.shape();
  RECSYS_CHECK(broadcast_shapes(shape, src.shape(), "copy") == shape, "copy: source of shape ", src.shape(),
               " cannot be broadcast to the destination's shape ", shape);
  const Shape src_strides = broadcast_strides(src.shape(), src.strides(), shape);
  visit_dtype(src.dtype(), [&]<class S>() {
    visit_dtype(dst.dtype(), [&]<class D>() {
      copy_slot<S, D>(dst.device(), src.data<S>(), src_strides, dst.data<D>(), dst.strides(), shape);
    });
  });
}

/// In-place writes are refused on tensors autograd is tracking: they would silently corrupt gradients.
inline void check_inplace(const char* op, const Tensor& t) {
  check_defined(op, "self", t);
  RECSYS_CHECK(!(autograd::grad_enabled() && t.requires_grad()), op,
               ": in-place write into a tensor that requires grad; do it under NoGradGuard (e.g. an optimizer "
               "update) or on a detached tensor");
}

}  // namespace detail

inline Tensor Tensor::clone() const {
  Tensor out = empty(shape(), {dtype(), device()});
  detail::copy_into(out, *this);
  if (autograd::should_record(*this))
    autograd::record("clone", {*this}, {out}, [](const autograd::TensorList& g) -> autograd::TensorList {
      return {g[0]};
    });
  return out;
}

inline Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

inline Tensor Tensor::to(DType target) const {
  if (target == dtype()) return *this;
  Tensor out = empty(shape(), {target, device()});
  detail::copy_into(out, *this);
  if (is_floating(target) && autograd::should_record(*this)) {
    const DType source = dtype();
    autograd::record("to_dtype", {*this}, {out}, [source](const autograd::TensorList& g) -> autograd::TensorList {
      return {g[0].to(source)};
    });
  }
  return out;
}

inline Tensor Tensor::to(Device target) const {
  if (target == device()) return *this;
  const Tensor src = contiguous();
  Tensor out = empty(shape(), {dtype(), target});
  copy_bytes(out.raw_data(), target, src.raw_data(), src.device(), nbytes());
  if (autograd::should_record(*this)) {
    const Device source = device();
    autograd::record("to_device", {*this}, {out}, [source](const autograd::TensorList& g) -> autograd::TensorList {
      return {g[0].to(source)};
    });
  }
  return out;
}

inline const Tensor& Tensor::copy_(const Tensor& src) const {
  detail::check_inplace("copy_", *this);
  detail::check_defined("copy_", "src", src);
  if (src.device() == device()) {
    detail::copy_into(*this, src);
  } else {
    NoGradGuard no_grad;
    detail::copy_into(*this, src.to(device()));
  }
  impl_->storage->bump_version();
  return *this;
}

inline const Tensor& Tensor::fill_(double value) const {
  detail::check_inplace("fill_", *this);
  visit_dtype(dtype(), [&]<class T>() {
    fill_slot<T>(device(), data<T>(), strides(), shape(), static_cast<T>(value));
  });
  impl_->storage->bump_version();
  return *this;
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  NoGradGuard no_grad;
  const Tensor host = to(Device::cpu()).contiguous();
  std::vector<T> out(static_cast<std::size_t>(numel()));
  visit_dtype(dtype(), [&]<class S>() {
    const S* p = host.data<S>();
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<T>(p[i]);
  });
  return out;
}

}  // namespace recsys
