// recsys/autograd/node.hpp — Node: one recorded op in the autograd graph, with its backward closure.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "recsys/core/tensor_decl.hpp"

namespace recsys::autograd {

using TensorList = std::vector<Tensor>;

/// A recorded op. Its output tensors point to it (grad_fn); it points to its inputs, which are the
/// edges of the graph. It never holds its outputs strongly (only weak references, for retain_grad),
/// so the graph has no shared_ptr cycles.
struct Node {
  /// Maps the gradients of the outputs (undefined = zero) to one gradient per input (undefined = none).
  using BackwardFn = std::function<TensorList(const TensorList& grad_outputs)>;

  const char* name;                                // the op, for error messages
  TensorList inputs;                               // undefined where an input needs no gradient
  std::vector<std::weak_ptr<TensorImpl>> outputs;  // for retain_grad only
  BackwardFn backward;                             // released after use unless retain_graph

  Node(const char* op, TensorList in, BackwardFn fn) : name(op), inputs(std::move(in)), backward(std::move(fn)) {}
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // An unrolled graph can be thousands of nodes deep (tensor -> node -> tensor -> node ...). Letting
  // shared_ptr destroy it recursively would overflow the stack, so the destructor hands the next
  // nodes to a per-thread list and the outermost destructor releases them one at a time.
  ~Node() {
    thread_local std::vector<std::shared_ptr<Node>> pending;
    thread_local bool draining = false;
    auto defer_inputs = [](TensorList& list) {
      for (Tensor& t : list) {
        const std::shared_ptr<TensorImpl>& impl = t.impl_ptr();
        if (impl && impl.use_count() == 1 && impl->grad_fn) pending.push_back(std::move(impl->grad_fn));
      }
      list.clear();
    };
    defer_inputs(inputs);
    backward = nullptr;
    if (draining) return;
    draining = true;
    while (!pending.empty()) {
      std::shared_ptr<Node> next = std::move(pending.back());
      pending.pop_back();
      next.reset();  // may push that node's inputs onto `pending`
    }
    draining = false;
  }
};

}  // namespace recsys::autograd
