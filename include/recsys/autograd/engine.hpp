// recsys/autograd/engine.hpp — the backward pass: iterative topological sort, then gradients flow root to leaves.
#pragma once

#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "recsys/core/profiler.hpp"
#include "recsys/core/tensor.hpp"
#include "recsys/autograd/function.hpp"

// The engine adds gradients with these (ops/binary.hpp, which core/tensor.hpp includes after this
// file); declaring them here lets any op header be included first.
namespace recsys {
inline Tensor add(const Tensor& a, const Tensor& b);
namespace detail {
inline void add_inplace(const Tensor& dst, const Tensor& src);
}
}  // namespace recsys

namespace recsys::autograd {

namespace detail {

/// True when nobody else can see g's memory, so the engine may keep it instead of copying.
inline bool exclusively_owned(const Tensor& g) {
  return g.impl_ptr().use_count() == 1 && g.impl()->storage.use_count() == 1 && g.is_contiguous() &&
         g.impl()->offset == 0;
}

/// Adds g into a leaf's .grad: the first gradient is adopted (or copied if shared), later ones are
/// added in place, so a training loop that keeps its gradient buffers does not allocate.
inline void accumulate_into_leaf(TensorImpl* leaf, Tensor g) {
  if (!leaf->grad) {
    leaf->grad = (exclusively_owned(g) ? g : g.clone()).impl_ptr();
    return;
  }
  Tensor current(leaf->grad);
  RECSYS_CHECK(current.shape() == g.shape(), "backward: existing .grad has shape ", current.shape(),
               " but the new gradient has shape ", g.shape());
  recsys::detail::add_inplace(current, g);
}

/// Nodes reachable from `roots`, ordered so every node comes before the nodes of its inputs.
inline std::vector<Node*> topological_order(const std::vector<Node*>& roots) {
  std::vector<Node*> post_order;
  std::unordered_set<Node*> visited;
  std::vector<std::pair<Node*, std::size_t>> stack;  // explicit stack: graphs may be very deep
  for (Node* root : roots) {
    if (!visited.insert(root).second) continue;
    stack.emplace_back(root, 0);
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      if (next < node->inputs.size()) {
        const Tensor& in = node->inputs[next++];
        if (in.defined() && in.grad_fn() && visited.insert(in.grad_fn().get()).second)
          stack.emplace_back(in.grad_fn().get(), 0);
      } else {
        post_order.push_back(node);
        stack.pop_back();
      }
    }
  }
  return {post_order.rbegin(), post_order.rend()};
}

}  // namespace detail

/// Back-propagates from `roots`. grads[i] seeds roots[i]; it may be omitted (undefined) for a
/// one-element root, which is then seeded with 1. Gradients accumulate into the .grad of leaves.
/// Unless retain_graph is set, each node releases its saved tensors once used.
inline void backward(const TensorList& roots, const TensorList& grads = {}, bool retain_graph = false) {
  NoGradGuard no_grad;
  std::unordered_map<Node*, TensorList> pending;  // gradients of each node's outputs, summed so far
  std::vector<Node*> root_nodes;
  for (std::size_t r = 0; r < roots.size(); ++r) {
    const Tensor& root = roots[r];
    RECSYS_CHECK(root.requires_grad(), "backward: tensor does not require grad and has no grad_fn",
                 " (was it computed under NoGradGuard, or from tensors without set_requires_grad()?)");
    Tensor seed = r < grads.size() ? grads[r] : Tensor();
    if (!seed.defined()) {
      RECSYS_CHECK(root.numel() == 1, "backward: output has shape ", root.shape(),
                   "; a gradient can be created implicitly only for a one-element output, so pass one of that shape");
      seed = Tensor::empty(root.shape(), {root.dtype(), root.device()});
      seed.fill_(1.0);
    } else {
      RECSYS_CHECK(seed.shape() == root.shape(), "backward: gradient has shape ", seed.shape(),
                   " but the output has shape ", root.shape());
      RECSYS_CHECK(seed.dtype() == root.dtype() && seed.device() == root.device(), "backward: gradient is ",
                   seed.dtype(), " on ", seed.device(), " but the output is ", root.dtype(), " on ", root.device());
    }
    if (root.is_leaf()) {
      detail::accumulate_into_leaf(root.impl(), seed);
      continue;
    }
    Node* node = root.grad_fn().get();
    TensorList& slot = pending[node];
    slot.resize(node->outputs.size());
    Tensor& g = slot[root.output_nr()];
    g = g.defined() ? recsys::add(g, seed) : seed;
    root_nodes.push_back(node);
  }

  for (Node* node : detail::topological_order(root_nodes)) {
    RECSYS_CHECK(node->backward != nullptr, "backward: the graph through '", node->name,
                 "' was already used by an earlier backward(); pass retain_graph=true to go through it twice");
    const profiler::Scope scope("backward", node->name);
    TensorList grad_outputs = std::move(pending[node]);
    pending.erase(node);
    grad_outputs.resize(node->outputs.size());
    for (std::size_t i = 0; i < node->outputs.size(); ++i) {
      auto out = node->outputs[i].lock();
      if (out && out->retains_grad && grad_outputs[i].defined()) out->grad = grad_outputs[i].clone().impl_ptr();
    }
    TensorList grad_inputs = node->backward(grad_outputs);
    grad_outputs.clear();
    if (!retain_graph) node->backward = nullptr;  // frees the saved tensors now, not at graph teardown
    RECSYS_CHECK(grad_inputs.size() == node->inputs.size(), "backward of '", node->name, "' returned ",
                 grad_inputs.size(), " gradients for ", node->inputs.size(), " inputs");
    for (std::size_t i = 0; i < grad_inputs.size(); ++i) {
      const Tensor& input = node->inputs[i];
      Tensor& g = grad_inputs[i];
      if (!input.defined() || !g.defined()) continue;
      RECSYS_CHECK(g.shape() == input.shape() && g.dtype() == input.dtype(), "backward of '", node->name,
                   "' returned a ", g.dtype(), " gradient of shape ", g.shape(), " for input ", i, " (",
                   input.dtype(), ", shape ", input.shape(), ")");
      if (input.is_leaf()) {
        detail::accumulate_into_leaf(input.impl(), std::move(g));
      } else {
        Node* next = input.grad_fn().get();
        TensorList& slot = pending[next];
        slot.resize(next->outputs.size());
        Tensor& acc = slot[input.output_nr()];
        acc = acc.defined() ? recsys::add(acc, g) : std::move(g);
      }
    }
  }
}

}  // namespace recsys::autograd

namespace recsys {

inline void Tensor::backward(const Tensor& grad, bool retain_graph) const {
  autograd::backward({*this}, {grad}, retain_graph);
}

inline Tensor& Tensor::set_requires_grad(bool on) {
  TensorImpl* t = checked();
  RECSYS_CHECK(!on || is_floating(t->dtype), "set_requires_grad: only floating-point tensors can require grad, got ",
               t->dtype);
  RECSYS_CHECK(t->grad_fn == nullptr, "set_requires_grad: only leaf tensors can change requires_grad",
               " (this one was produced by '", t->grad_fn->name, "'; use detach() first)");
  t->requires_grad = on;
  return *this;
}

inline Tensor Tensor::detach() const {
  const TensorImpl* t = checked();
  return make_view(t->storage, t->dtype, t->shape, t->strides, t->offset);
}

inline void Tensor::zero_grad() const {
  if (checked()->grad) {
    NoGradGuard no_grad;
    Tensor(impl_->grad).zero_();
  }
}

}  // namespace recsys
