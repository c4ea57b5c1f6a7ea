// recsys/autograd/function.hpp — what ops use to join the graph: should_record(), record() and SavedTensor.
#pragma once

#include <initializer_list>
#include <memory>
#include <utility>

#include "recsys/autograd/grad_mode.hpp"
#include "recsys/autograd/node.hpp"
#include "recsys/core/tensor_decl.hpp"

namespace recsys::autograd {

/// True when grad mode is on and at least one of the (defined) inputs requires grad.
inline bool should_record(std::initializer_list<const Tensor*> inputs) {
  if (!grad_enabled()) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}
template <class... Ts>
bool should_record(const Ts&... inputs) {
  return should_record({static_cast<const Tensor*>(&inputs)...});
}

/// Makes a new Node the grad_fn of `outputs`. Inputs that do not require grad are dropped from the
/// node (their gradients are never computed), and every output is marked requires_grad.
inline void record(const char* op, TensorList inputs, const TensorList& outputs, Node::BackwardFn backward) {
  for (Tensor& t : inputs)
    if (t.defined() && !t.requires_grad()) t = Tensor();
  auto node = std::make_shared<Node>(op, std::move(inputs), std::move(backward));
  node->outputs.reserve(outputs.size());
  for (std::uint32_t i = 0; i < outputs.size(); ++i) {
    TensorImpl* impl = outputs[i].impl();
    impl->requires_grad = true;
    impl->grad_fn = node;
    impl->output_nr = i;
    node->outputs.push_back(outputs[i].impl_ptr());
  }
}

/// A tensor kept for the backward pass. It holds a detached alias (never the op's own output
/// handle, which would be a shared_ptr cycle) and the storage version at the time it was saved,
/// so modifying it in place before backward() is an error rather than a wrong gradient.
class SavedTensor {
 public:
  SavedTensor() = default;
  explicit SavedTensor(const Tensor& t)
      : tensor_(t.defined() ? t.detach() : Tensor()), version_(t.defined() ? t.impl()->storage->version() : 0) {}

  const Tensor& get(const char* op) const {
    if (tensor_.defined()) {
      const std::uint64_t now = tensor_.impl()->storage->version();
      RECSYS_CHECK(now == version_, op, ": a tensor saved for backward was modified in place after the forward pass",
                   " (version ", version_, " at save, ", now, " now); clone it before writing to it");
    }
    return tensor_;
  }

 private:
  Tensor tensor_;
  std::uint64_t version_ = 0;
};

}  // namespace recsys::autograd
