// recsys/nn/sequential.hpp — Sequential<Layers...>: layers composed at compile time, children named "0", "1", ...
#pragma once

#include <cstddef>
#include <string>
#include <tuple>
#include <utility>

#include "recsys/nn/module.hpp"

namespace recsys::nn {

/// Applies its layers in order. The layer types are template arguments, so the whole network is one
/// type and forward() is a chain of direct calls the compiler can inline:
///   nn::Sequential model(nn::Embedding(1000, 128), nn::Conv1D(128, 128, 3, {.activation = Activation::relu}), ...);
template <class... Layers>
class Sequential : public Module {
  static_assert(sizeof...(Layers) > 0, "Sequential needs at least one layer");

 public:
  explicit Sequential(Layers... layers) : layers_(std::move(layers)...) {}

  Tensor forward(const Tensor& x) { return forward_from<0>(x); }
  Tensor operator()(const Tensor& x) { return forward(x); }

  /// The i-th layer, with its own type.
  template <std::size_t I>
  auto& get() {
    return std::get<I>(layers_);
  }
  static constexpr std::size_t size() { return sizeof...(Layers); }

  std::string name() const override { return "Sequential"; }
  void visit_children(const ChildVisitor& f) override {
    std::size_t i = 0;
    std::apply([&](auto&... layer) { (f(std::to_string(i++), layer), ...); }, layers_);
  }

 private:
  template <std::size_t I>
  Tensor forward_from(const Tensor& x) {
    if constexpr (I == sizeof...(Layers)) {
      return x;
    } else {
      return forward_from<I + 1>(std::get<I>(layers_).forward(x));
    }
  }

  std::tuple<Layers...> layers_;
};

}  // namespace recsys::nn
