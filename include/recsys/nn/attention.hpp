// recsys/nn/attention.hpp — MultiHeadAttention: query/key/value/output projections around the fused scaled_dot_product_attention.
#pragma once

#include <cstdint>
#include <string>

#include "recsys/core/random.hpp"
#include "recsys/nn/dense.hpp"
#include "recsys/nn/module.hpp"
#include "recsys/ops/attention.hpp"

namespace recsys::nn {

/// Multi-head attention over (batch, time, dim) sequences, as torch.nn.MultiheadAttention (batch_first)
/// and RecBole's SASRec compute it: q = query·Wq + bq, k, v likewise, split into `heads` heads of
/// dim / heads features, softmax(q·kᵀ / √(dim / heads) + masks)·v per head, heads merged back and
/// projected by Wo, bo. `dropout` drops attention weights while training (torch's and RecBole's
/// attn_dropout), from the layer's own Philox stream. The four projections are Dense layers
/// (kernels (dim, dim), Glorot-uniform like torch's in_proj) named query, key, value and output.
/// Splitting and merging heads are views: the attention kernel reads the projections in place.
class MultiHeadAttention : public Module {
 public:
  MultiHeadAttention(std::int64_t dim, std::int64_t heads, double dropout = 0.0, Generator& gen = default_generator())
      : dim_(checked_dim(dim, heads)),
        heads_(heads),
        dropout_(checked_dropout(dropout)),
        query_(dim, dim, Activation::none, true, gen),
        key_(dim, dim, Activation::none, true, gen),
        value_(dim, dim, Activation::none, true, gen),
        output_(dim, dim, Activation::none, true, gen),
        gen_(gen.next_u64()) {}

  /// Self-attention: x (batch, time, dim) → (batch, time, dim). `causal`: position i attends to
  /// positions <= i only. `key_padding_mask` (batch, time), int32/int64, nonzero = padded position that
  /// no query attends to; a query left with no key gets a zero attention output.
  Tensor forward(const Tensor& x, bool causal = false, const Tensor& key_padding_mask = {}) {
    return attend(x, x, x, causal, key_padding_mask);
  }
  Tensor operator()(const Tensor& x, bool causal = false, const Tensor& key_padding_mask = {}) {
    return forward(x, causal, key_padding_mask);
  }

  /// General attention: query (batch, Tq, dim) over key and value (batch, Tk, dim) → (batch, Tq, dim);
  /// key_padding_mask is (batch, Tk). (The original SASRec attends from LN(x) over x.)
  Tensor attend(const Tensor& query, const Tensor& key, const Tensor& value, bool causal = false,
                const Tensor& key_padding_mask = {}) {
    check_input("query", query);
    check_input("key", key);
    check_input("value", value);
    RECSYS_CHECK(key.size(0) == query.size(0) && value.size(0) == query.size(0) && value.size(1) == key.size(1),
                 "MultiHeadAttention: query has shape ", query.shape(), ", key ", key.shape(), " and value ",
                 value.shape(), "; they must agree in batch, and key and value in time");
    const std::int64_t B = query.size(0), Tq = query.size(1), Tk = key.size(1);
    const Tensor q = split_heads(query_(query), B, Tq), k = split_heads(key_(key), B, Tk),
                 v = split_heads(value_(value), B, Tk);
    const Tensor o = scaled_dot_product_attention(q, k, v, causal, key_padding_mask, is_training() ? dropout_ : 0.0, gen_);
    return output_(o.permute({0, 2, 1, 3}).reshape({B, Tq, dim_}));  // merge heads: a view of o's buffer
  }

  std::string name() const override { return "MultiHeadAttention"; }
  void visit_children(const ChildVisitor& f) override {
    f("query", query_);
    f("key", key_);
    f("value", value_);
    f("output", output_);
  }
  std::int64_t dim() const { return dim_; }
  std::int64_t heads() const { return heads_; }
  double dropout() const { return dropout_; }
  /// The attention-dropout stream; checkpoints save and restore its state.
  Generator& generator() { return gen_; }

 private:
  static std::int64_t checked_dim(std::int64_t dim, std::int64_t heads) {
    RECSYS_CHECK(dim > 0 && heads > 0, "MultiHeadAttention: dim and heads must be positive, got ", dim, " and ", heads);
    RECSYS_CHECK(dim % heads == 0, "MultiHeadAttention: dim ", dim, " is not divisible by heads ", heads);
    return dim;
  }
  static double checked_dropout(double rate) {
    RECSYS_CHECK(rate >= 0.0 && rate < 1.0, "MultiHeadAttention: dropout must be in [0, 1), got ", rate);
    return rate;
  }
  void check_input(const char* what, const Tensor& t) const {
    RECSYS_CHECK(t.defined() && t.dim() == 3 && t.size(2) == dim_, "MultiHeadAttention: ", what, " has shape ",
                 t.defined() ? t.shape() : Shape{}, ", expected (batch, time, ", dim_, ")");
  }
  /// (B, T, dim) → (B, heads, T, dim / heads) as a view.
  Tensor split_heads(const Tensor& x, std::int64_t B, std::int64_t T) const {
    return x.reshape({B, T, heads_, dim_ / heads_}).permute({0, 2, 1, 3});
  }

  std::int64_t dim_, heads_;
  double dropout_;
  Dense query_, key_, value_, output_;
  Generator gen_;
};

}  // namespace recsys::nn
