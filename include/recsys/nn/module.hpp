// recsys/nn/module.hpp — Module: the base of every layer and model (parameters with dotted names, train/eval, device moves).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "recsys/core/tensor.hpp"

namespace recsys::nn {

/// A layer or a composition of layers. A module reports its own parameters and its children through
/// two small visitors instead of storing pointers to its members, so modules can be moved freely and
/// a parameter list is always current; to(device) and to(dtype) convert the tensors in place.
class Module {
 public:
  using ParameterVisitor = std::function<void(const std::string& name, Tensor& parameter)>;
  using ChildVisitor = std::function<void(const std::string& name, Module& child)>;

  Module() = default;
  Module(Module&&) = default;
  Module& operator=(Module&&) = default;
  // Copying would silently share weights between two "different" models; move or clone explicitly.
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  virtual ~Module() = default;

  /// The layer's kind, for summaries and error messages ("Conv1D").
  virtual std::string name() const = 0;
  /// Calls f(name, tensor) for each parameter this module owns directly (not its children's).
  virtual void visit_parameters(const ParameterVisitor& f) { (void)f; }
  /// Calls f(name, child) for each direct child module.
  virtual void visit_children(const ChildVisitor& f) { (void)f; }
  /// Called by train()/eval() on each module; layers whose behaviour differs (Dropout) read is_training().
  bool is_training() const { return training_; }

  /// Every parameter, depth first, named by its path: "3.recurrent_kernel". The order is stable.
  NamedTensors named_parameters(const std::string& prefix = "") {
    NamedTensors out;
    visit_all(prefix, [&](const std::string& name, Tensor& t) { out.emplace_back(name, t); });
    return out;
  }
  std::vector<Tensor> parameters() {
    std::vector<Tensor> out;
    visit_all("", [&](const std::string&, Tensor& t) { out.push_back(t); });
    return out;
  }
  /// Total number of scalar parameters.
  std::int64_t num_parameters() {
    std::int64_t n = 0;
    visit_all("", [&](const std::string&, Tensor& t) { n += t.numel(); });
    return n;
  }

  /// Training mode (Dropout active) for this module and all children.
  Module& train(bool on = true) {
    training_ = on;
    visit_children([on](const std::string&, Module& c) { c.train(on); });
    return *this;
  }
  /// Inference mode: train(false).
  Module& eval() { return train(false); }

  /// Moves every parameter to `device`, in place (the same tensors; see convert_parameters).
  Module& to(Device device) {
    return convert_parameters([device](const Tensor& t) { return t.to(device); });
  }

  /// Converts every parameter to `dtype` (float64 for gradient checks, say), in place (see convert_parameters).
  Module& to(DType dtype) {
    RECSYS_CHECK(is_floating(dtype), name(), ".to: parameters must stay floating-point, got ", dtype);
    return convert_parameters([dtype](const Tensor& t) { return t.to(dtype); });
  }

  /// Zeroes every parameter's gradient in place (buffers are kept for the next step).
  void zero_grad() {
    visit_all("", [](const std::string&, Tensor& t) { t.zero_grad(); });
  }

 protected:
  /// Parameter tensors are leaves that require grad.
  static Tensor make_parameter(Tensor t) {
    t.set_requires_grad(true);
    return t;
  }

 private:
  /// Converts each parameter in place, as PyTorch's Module.to does: the tensor keeps its identity
  /// (every handle to it, an optimizer's included, sees the new dtype or device), its requires_grad,
  /// and its gradient, converted alike. Replacing the tensors instead would leave an optimizer built
  /// before to() stepping copies that the model no longer uses: no error, and no learning.
  template <class F>
  Module& convert_parameters(F convert) {
    visit_all("", [&](const std::string&, Tensor& t) {
      NoGradGuard no_grad;
      const Tensor converted = convert(t.detach());
      if (converted.impl()->storage == t.impl()->storage) return;  // already there: keep the tensor (and its grad)
      TensorImpl* impl = t.impl();
      const TensorImpl* from = converted.impl();
      impl->storage = from->storage;
      impl->dtype = from->dtype;
      impl->shape = from->shape;
      impl->strides = from->strides;
      impl->offset = from->offset;
      if (impl->grad) impl->grad = convert(Tensor(impl->grad).detach()).impl_ptr();
    });
    return *this;
  }

  void visit_all(const std::string& prefix, const ParameterVisitor& f) {
    visit_parameters([&](const std::string& name, Tensor& t) { f(prefix + name, t); });
    visit_children([&](const std::string& name, Module& child) { child.visit_all(prefix + name + ".", f); });
  }

  bool training_ = true;
};

}  // namespace recsys::nn
