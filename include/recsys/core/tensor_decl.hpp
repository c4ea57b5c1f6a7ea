// recsys/core/tensor_decl.hpp — the Tensor class itself; include recsys/core/tensor.hpp, which also brings every member definition.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "recsys/core/device.hpp"
#include "recsys/core/dtype.hpp"
#include "recsys/core/error.hpp"
#include "recsys/core/memory.hpp"
#include "recsys/core/shape.hpp"

namespace recsys {

namespace autograd {
struct Node;
}

/// The state behind a Tensor handle. Views share `storage` and differ in shape, strides and offset.
struct TensorImpl {
  std::shared_ptr<Storage> storage;
  DType dtype = DType::float32;
  Shape shape;
  Shape strides;             // in elements
  std::int64_t offset = 0;   // in elements, from storage->data()
  bool requires_grad = false;
  bool retains_grad = false;  // keep .grad on a non-leaf after backward()
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<autograd::Node> grad_fn;  // the op that produced this tensor (null for leaves)
  std::uint32_t output_nr = 0;              // which output of grad_fn this tensor is
};

/// Element type and device of a new tensor: `zeros({2, 3}, DType::float64)`, `ones({4}, Device::cuda())`.
struct TensorOptions {
  DType dtype = DType::float32;
  Device device = Device::cpu();
  TensorOptions() = default;
  TensorOptions(DType d) : dtype(d) {}                 // NOLINT: implicit on purpose
  TensorOptions(Device dev) : device(dev) {}           // NOLINT
  TensorOptions(DType d, Device dev) : dtype(d), device(dev) {}
};

/// An n-dimensional array with a runtime dtype, living on one device. Copying a Tensor copies the
/// handle (like PyTorch and NumPy views): both names see the same memory. Use clone() for a copy.
class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  /// Uninitialized contiguous tensor.
  static Tensor empty(const Shape& shape, TensorOptions opts = {}) {
    for (std::int64_t s : shape) RECSYS_CHECK(s >= 0, "empty: negative dimension in shape ", shape);
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = std::make_shared<Storage>(static_cast<std::size_t>(shape.numel()) * recsys::itemsize(opts.dtype),
                                              opts.device);
    impl->dtype = opts.dtype;
    impl->shape = shape;
    impl->strides = contiguous_strides(shape);
    return Tensor(std::move(impl));
  }
  /// A view of `storage` with the given geometry (used by view ops).
  static Tensor make_view(std::shared_ptr<Storage> storage, DType dtype, const Shape& shape, const Shape& strides,
                          std::int64_t offset) {
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = std::move(storage);
    impl->dtype = dtype;
    impl->shape = shape;
    impl->strides = strides;
    impl->offset = offset;
    return Tensor(std::move(impl));
  }

  // ---- metadata ----
  bool defined() const { return impl_ != nullptr; }
  DType dtype() const { return checked()->dtype; }
  Device device() const { return checked()->storage->device(); }
  const Shape& shape() const { return checked()->shape; }
  const Shape& strides() const { return checked()->strides; }
  int dim() const { return shape().size(); }
  std::int64_t numel() const { return shape().numel(); }
  std::int64_t size(std::int64_t d) const { return shape()[wrap_dim(d, dim(), "size")]; }
  std::int64_t stride(std::int64_t d) const { return strides()[wrap_dim(d, dim(), "stride")]; }
  std::int64_t storage_offset() const { return checked()->offset; }
  std::size_t itemsize() const { return recsys::itemsize(dtype()); }
  std::size_t nbytes() const { return static_cast<std::size_t>(numel()) * itemsize(); }
  bool is_floating_point() const { return is_floating(dtype()); }

  /// True when the elements are laid out densely in row-major order (size-1 dims may have any stride).
  bool is_contiguous() const {
    const TensorImpl* t = checked();
    std::int64_t expected = 1;
    for (int i = t->shape.size() - 1; i >= 0; --i) {
      if (t->shape[i] == 1) continue;
      if (t->strides[i] != expected) return false;
      expected *= t->shape[i];
    }
    return true;
  }

  /// Pointer to the first element (storage offset applied). T must match dtype().
  template <class T>
  T* data() const {
    RECSYS_CHECK(dtype_of<T> == dtype(), "data: tensor has dtype ", dtype(), ", requested ", dtype_of<T>);
    return static_cast<T*>(impl_->storage->data()) + impl_->offset;
  }
  void* raw_data() const {
    return static_cast<char*>(checked()->storage->data()) + impl_->offset * static_cast<std::int64_t>(itemsize());
  }

  // item() and at() are defined here, not out of class: nvcc's front end rejects an out-of-class
  // definition of a member template whose declaration has a default template argument.
  /// The value of a one-element tensor, converted to T (copies from the device if needed).
  template <class T = double>
  T item() const {
    RECSYS_CHECK(numel() == 1, "item: tensor has ", numel(), " elements (shape ", shape(),
                 "); item() needs exactly one");
    return this->template to_vector<T>()[0];
  }
  /// Element at a full index (CPU tensors), converted to T.
  template <class T = double>
  T at(std::initializer_list<std::int64_t> index) const {
    RECSYS_CHECK(device().is_cpu(), "at: tensor is on ", device(), "; copy it with cpu() first");
    RECSYS_CHECK(static_cast<int>(index.size()) == dim(), "at: got ", index.size(), " indices for a tensor of rank ",
                 dim());
    std::int64_t offset = 0;
    int d = 0;
    for (std::int64_t i : index) {
      RECSYS_CHECK(i >= 0 && i < shape()[d], "at: index ", i, " is out of range for dimension ", d, " of size ",
                   shape()[d]);
      offset += i * strides()[d++];
    }
    return visit_dtype(dtype(), [&]<class S>() { return static_cast<T>(data<S>()[offset]); });
  }
  /// All elements in row-major order, converted to T, as a host vector.
  template <class T>
  std::vector<T> to_vector() const;

  // ---- autograd ----
  bool requires_grad() const { return checked()->requires_grad; }
  /// Marks a leaf tensor as a parameter whose gradient backward() accumulates into grad().
  Tensor& set_requires_grad(bool on = true);
  const Tensor& set_requires_grad(bool on = true) const { return const_cast<Tensor*>(this)->set_requires_grad(on); }
  bool is_leaf() const { return checked()->grad_fn == nullptr; }
  const std::shared_ptr<autograd::Node>& grad_fn() const { return checked()->grad_fn; }
  std::uint32_t output_nr() const { return checked()->output_nr; }
  /// The accumulated gradient (undefined until a backward pass reaches this tensor).
  Tensor grad() const { return Tensor(checked()->grad); }
  void set_grad(const Tensor& g) const { checked()->grad = g.impl_; }
  /// Sets an existing gradient to zero in place (keeps its buffer, so steady-state training does not allocate).
  void zero_grad() const;
  /// Keep grad() on this non-leaf tensor after backward().
  void retain_grad() const { checked()->retains_grad = true; }
  /// Same memory, no history: the result is a leaf that does not require grad.
  Tensor detach() const;
  /// Back-propagates from this tensor (a scalar, or any shape with an explicit `grad`).
  void backward(const Tensor& grad = {}, bool retain_graph = false) const;

  // ---- views (share memory; defined in ops/view.hpp) ----
  Tensor view(const Shape& shape) const;
  Tensor reshape(const Shape& shape) const;
  Tensor flatten(std::int64_t start_dim = 0, std::int64_t end_dim = -1) const;
  Tensor transpose(std::int64_t d0, std::int64_t d1) const;
  Tensor t() const;
  Tensor permute(const Shape& order) const;
  Tensor slice(std::int64_t dim, std::int64_t start, std::int64_t end, std::int64_t step = 1) const;
  Tensor select(std::int64_t dim, std::int64_t index) const;
  Tensor unsqueeze(std::int64_t dim) const;
  Tensor squeeze(std::int64_t dim) const;
  Tensor squeeze() const;
  Tensor expand(const Shape& shape) const;
  Tensor contiguous() const;

  // ---- copies and conversion (defined in ops/copy.hpp) ----
  Tensor clone() const;
  Tensor to(DType dtype) const;
  Tensor to(Device device) const;
  Tensor cpu() const { return to(Device::cpu()); }
  /// Writes src (broadcast to this shape, converted to this dtype) into this tensor's memory.
  const Tensor& copy_(const Tensor& src) const;
  const Tensor& fill_(double value) const;
  const Tensor& zero_() const { return fill_(0.0); }

  // ---- identity ----
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }

 private:
  TensorImpl* checked() const {
    RECSYS_CHECK(impl_ != nullptr, "Tensor: use of an undefined tensor");
    return impl_.get();
  }
  std::shared_ptr<TensorImpl> impl_;
};

/// (name, tensor) pairs in a stable order: what Module::named_parameters() returns and weight files hold.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

}  // namespace recsys

