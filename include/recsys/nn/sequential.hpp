// recsys/nn/sequential.hpp — Sequential<Layers...>: layers composed at compile time, children named "0", "1", ...
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "recsys/core/profiler.hpp"
#include "recsys/nn/activation.hpp"
#include "recsys/nn/conv1d.hpp"
#include "recsys/nn/embedding.hpp"
#include "recsys/nn/maxpool1d.hpp"
#include "recsys/nn/module.hpp"
#include "recsys/ops/embedding_conv1d.hpp"

namespace recsys::nn {

/// Applies its layers in order. The layer types are template arguments, so the whole network is one
/// type and forward() is a chain of direct calls the compiler can inline:
///   nn::Sequential model(nn::Embedding(1000, 128), nn::Conv1D(128, 128, 3, {.activation = Activation::relu}), ...);
/// An Embedding directly followed by a Conv1D runs as one embedding_conv1d (per vocabulary row when
/// that is cheaper; same results up to rounding) unless set_fuse_embedding_conv(false) or
/// RECSYS_FUSE_EMBEDDING_CONV=0 turned the fusion off. Forwards that record no gradient (inference)
/// keep that op's per-vocabulary table while the two layers' weights stay unchanged. When a
/// MaxPool1D follows a Conv1D with no activation or ReLU, the pooling happens during the same pass,
/// in training too (embedding_conv1d_maxpool).
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
      if constexpr (I + 1 < sizeof...(Layers)) {
        using Layer = std::tuple_element_t<I, std::tuple<Layers...>>;
        using Next = std::tuple_element_t<I + 1, std::tuple<Layers...>>;
        if constexpr (std::is_same_v<Layer, Embedding> && std::is_same_v<Next, Conv1D>) {
          // Only (batch, time) ids can be fused; anything else keeps the layers' own paths (and errors).
          if (fuse_embedding_conv_enabled() && x.defined() && x.dim() == 2 && !x.is_floating_point()) {
            const Embedding& emb = std::get<I>(layers_);
            const Conv1D& conv = std::get<I + 1>(layers_);
            if constexpr (I + 2 < sizeof...(Layers)) {
              using After = std::tuple_element_t<I + 2, std::tuple<Layers...>>;
              const Activation act = conv.options().activation;
              if constexpr (std::is_same_v<After, MaxPool1D>) {
                if (act == Activation::none || act == Activation::relu)
                  return forward_from<I + 3>(profiled("Embedding+Conv1D+MaxPool1D", [&] {
                    return embedding_conv_pool(emb, conv, std::get<I + 2>(layers_), x, conv_table_cache_);
                  }));
              }
            }
            return forward_from<I + 2>(
                profiled("Embedding+Conv1D", [&] { return embedding_then_conv(emb, conv, x, conv_table_cache_); }));
          }
        }
      }
      auto& layer = std::get<I>(layers_);
      return forward_from<I + 1>(profiled(layer.name(), [&] { return layer.forward(x); }));
    }
  }

  /// Runs one layer's forward under a profiler scope named after it (the chain after it is outside).
  template <class F>
  static Tensor profiled(std::string_view layer, F&& forward) {
    const profiler::Scope scope("forward", layer);
    return forward();
  }

  /// Embedding then Conv1D (with its activation), as one op: embedding_conv1d picks the fused or the
  /// composed form by its cost rule.
  static Tensor embedding_then_conv(const Embedding& emb, const Conv1D& conv, const Tensor& ids,
                                    EmbeddingConvTableCache& cache) {
    const Conv1DOptions& o = conv.options();
    return apply_activation(embedding_conv1d(ids, emb.embeddings(), conv.kernel(), conv.bias(), o.stride, o.padding,
                                             emb.padding_idx(), EmbeddingConvPath::automatic, &cache),
                            o.activation);
  }

  /// Embedding, Conv1D (no activation or ReLU) and MaxPool1D as one op: pooled during the gather
  /// (see embedding_conv1d_maxpool for when it falls back to the three ops).
  static Tensor embedding_conv_pool(const Embedding& emb, const Conv1D& conv, const MaxPool1D& pool, const Tensor& ids,
                                    EmbeddingConvTableCache& cache) {
    const Conv1DOptions& o = conv.options();
    return embedding_conv1d_maxpool(ids, emb.embeddings(), conv.kernel(), conv.bias(), o.stride, o.padding,
                                    emb.padding_idx(), o.activation == Activation::relu, pool.pool_size(),
                                    pool.stride(), EmbeddingConvPath::automatic, &cache);
  }

  std::tuple<Layers...> layers_;
  EmbeddingConvTableCache conv_table_cache_;  // used when an Embedding is followed by a Conv1D
};

}  // namespace recsys::nn
