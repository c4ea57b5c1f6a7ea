// recsys/nn/transformer.hpp — TransformerBlock: self-attention and a point-wise feed-forward net with residuals, LayerNorm and dropout (SASRec's block).
#pragma once

#include <cstdint>
#include <string>

#include "recsys/core/random.hpp"
#include "recsys/nn/attention.hpp"
#include "recsys/nn/dense.hpp"
#include "recsys/nn/dropout.hpp"
#include "recsys/nn/layer_norm.hpp"
#include "recsys/nn/module.hpp"
#include "recsys/ops/gelu.hpp"
#include "recsys/ops/unary.hpp"

namespace recsys::nn {

/// The feed-forward net's activation: GELU (RecBole's SASRec default, BERT) or ReLU (the SASRec paper).
enum class FeedForwardActivation : std::uint8_t { gelu, relu };

struct TransformerOptions {
  /// false: post-LN, x = LN(x + sublayer(x)) — RecBole's SASRec and torch.nn.TransformerEncoderLayer's
  /// default. true: pre-LN, x = x + sublayer(LN(x)) — closer to the original TensorFlow SASRec (which
  /// normalises the queries only) and easier to train deep.
  bool norm_first = false;
  FeedForwardActivation activation = FeedForwardActivation::gelu;
  /// RecBole's SASRec uses 1e-12; torch's default is 1e-5.
  double layer_norm_eps = 1e-5;
  /// Dropout on the feed-forward net's hidden activations (dropout_ffn), as torch's
  /// TransformerEncoderLayer has; RecBole's SASRec has none there (false). It is the largest of the
  /// block's dropouts: (batch, time, hidden) values.
  bool inner_dropout = true;
};

/// One Transformer encoder block over (batch, time, dim), computed exactly as
/// torch.nn.TransformerEncoderLayer(dim, heads, hidden, dropout, activation, batch_first=True,
/// norm_first) — which tests/nn/transformer_test.cpp checks against PyTorch:
///   post-LN:  x = norm1(x + dropout1(attention(x)))
///             x = norm2(x + dropout2(ffn_out(dropout_ffn(act(ffn_in(x))))))
///   pre-LN:   x = x + dropout1(attention(norm1(x)))
///             x = x + dropout2(ffn_out(dropout_ffn(act(ffn_in(norm2(x))))))
/// with attention a MultiHeadAttention whose weights are dropped at the same rate. RecBole's SASRec
/// block is the post-LN form without dropout_ffn (options.inner_dropout = false). The masks go to the
/// attention unchanged.
class TransformerBlock : public Module {
 public:
  TransformerBlock(std::int64_t dim, std::int64_t heads, std::int64_t hidden, double dropout = 0.1,
                   TransformerOptions options = {}, Generator& gen = default_generator())
      : options_(options),
        attention_(dim, heads, dropout, gen),
        norm1_(dim, options.layer_norm_eps),
        ffn_in_(dim, checked_hidden(hidden), Activation::none, true, gen),
        ffn_out_(hidden, dim, Activation::none, true, gen),
        norm2_(dim, options.layer_norm_eps),
        dropout1_(dropout, gen),
        dropout_ffn_(dropout, gen),
        dropout2_(dropout, gen) {}

  /// x (batch, time, dim) → (batch, time, dim). `causal` and `key_padding_mask` (batch, time; nonzero
  /// = padded) as in MultiHeadAttention::forward.
  Tensor forward(const Tensor& x, bool causal = false, const Tensor& key_padding_mask = {}) {
    if (options_.norm_first) {
      const Tensor h = x + dropout1_(attention_(norm1_(x), causal, key_padding_mask));
      return h + dropout2_(feed_forward(norm2_(h)));
    }
    const Tensor h = norm1_(x + dropout1_(attention_(x, causal, key_padding_mask)));
    return norm2_(h + dropout2_(feed_forward(h)));
  }
  Tensor operator()(const Tensor& x, bool causal = false, const Tensor& key_padding_mask = {}) {
    return forward(x, causal, key_padding_mask);
  }

  std::string name() const override { return "TransformerBlock"; }
  void visit_children(const ChildVisitor& f) override {
    f("attention", attention_);
    f("norm1", norm1_);
    f("ffn_in", ffn_in_);
    f("ffn_out", ffn_out_);
    f("norm2", norm2_);
    f("dropout1", dropout1_);
    f("dropout_ffn", dropout_ffn_);
    f("dropout2", dropout2_);
  }
  const TransformerOptions& options() const { return options_; }
  MultiHeadAttention& attention() { return attention_; }

 private:
  static std::int64_t checked_hidden(std::int64_t hidden) {
    RECSYS_CHECK(hidden > 0, "TransformerBlock: hidden must be positive, got ", hidden);
    return hidden;
  }
  /// The point-wise feed-forward net: ffn_out(dropout_ffn(act(ffn_in(x)))), dropout_ffn optional.
  Tensor feed_forward(const Tensor& x) {
    const Tensor h = ffn_in_(x);
    const Tensor a = options_.activation == FeedForwardActivation::gelu ? gelu(h) : relu(h);
    return ffn_out_(options_.inner_dropout ? dropout_ffn_(a) : a);
  }

  TransformerOptions options_;
  MultiHeadAttention attention_;
  LayerNorm norm1_;
  Dense ffn_in_, ffn_out_;
  LayerNorm norm2_;
  Dropout dropout1_, dropout_ffn_, dropout2_;
};

}  // namespace recsys::nn
