// recsys/rec/sasrec.hpp — SasRec: the self-attentive sequential recommender of Kang & McAuley (ICDM 2018), trained with full-softmax cross-entropy (Klenitskiy & Vasilev, RecSys 2023) on our Transformer blocks.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "recsys/nn/dropout.hpp"
#include "recsys/nn/embedding.hpp"
#include "recsys/nn/layer_norm.hpp"
#include "recsys/nn/transformer.hpp"
#include "recsys/ops/matmul.hpp"
#include "recsys/rec/sequential.hpp"

namespace recsys::rec {

/// SASRec's network, in RecBole's form: x = Dropout(LayerNorm(E[item] + P[position])), then
/// options.blocks post-LN Transformer blocks (causal self-attention with the padded positions masked
/// as keys, GELU feed-forward of 4 × embedding_dim, residuals, dropout), and the logit of item i at a
/// position is the state · E[i] — the output embedding is the input one (tied), so an item's vector
/// learns from being read and from being predicted. Row 0 of E is padding (item i is row i + 1).
class SasRecNet : public nn::Module {
 public:
  SasRecNet(std::int64_t items, const FitOptions& o, Generator& gen)
      : items_(items),
        item_embedding(items + 1, o.embedding_dim, 0, gen),
        position_embedding(o.history, o.embedding_dim, -1, gen),
        norm(o.embedding_dim, 1e-12),
        dropout(o.dropout, gen) {
    for (std::int64_t b = 0; b < o.blocks; ++b)
      blocks.push_back(std::make_unique<nn::TransformerBlock>(o.embedding_dim, o.heads, 4 * o.embedding_dim, o.dropout,
                                                              nn::TransformerOptions{}, gen));
    std::vector<std::int64_t> pos(static_cast<std::size_t>(o.history));
    for (std::size_t t = 0; t < pos.size(); ++t) pos[t] = static_cast<std::int64_t>(t);
    positions_ = from_vector(pos, Shape{o.history});
  }

  std::string name() const override { return "SasRecNet"; }
  void visit_children(const ChildVisitor& f) override {
    f("item_embedding", item_embedding);
    f("position_embedding", position_embedding);
    f("norm", norm);
    f("dropout", dropout);
    for (std::size_t b = 0; b < blocks.size(); ++b) f("block" + std::to_string(b), *blocks[b]);
  }

  /// ids (B, T) of items + 1 (0 = padding), padding (B, T) (1 = padded) → states (B, T, D).
  Tensor encode(const Tensor& ids, const Tensor& padding) {
    Tensor x = dropout(norm(item_embedding(ids) + position_embedding(positions_)));
    for (const auto& block : blocks) x = (*block)(x, /*causal=*/true, padding);
    return x;
  }
  /// states (N, D) → logits (N, items): states · E[1:]ᵀ.
  Tensor logits(const Tensor& states) const {
    return matmul(states, item_embedding.embeddings().slice(0, 1, items_ + 1).transpose(0, 1));
  }

 private:
  std::int64_t items_;
  Tensor positions_;

 public:
  nn::Embedding item_embedding, position_embedding;
  nn::LayerNorm norm;
  nn::Dropout dropout;
  std::vector<std::unique_ptr<nn::TransformerBlock>> blocks;
};

/// SASRec as a recommender (SequentialRecommender: time-ordered windows of options.history items,
/// full softmax over the catalogue at every position). Sizes: embedding_dim (hidden), blocks, heads,
/// history (max length), dropout; Adam.
class SasRec : public SequentialRecommender {
 public:
  explicit SasRec(FitOptions options = {}) : SequentialRecommender(std::move(options)) {}
  std::string name() const override { return "sasrec"; }
  std::vector<TuningAxis> tuning_grid() const override {
    return {{"dropout", {0.2, 0.5}}, {"lr", {0.001, 0.003}}};
  }

 protected:
  void check(const FitOptions& o) const override {
    SequentialRecommender::check(o);
    RECSYS_CHECK(o.blocks >= 1 && o.heads >= 1 && o.embedding_dim % o.heads == 0, "sasrec.fit: needs blocks >= 1 and ",
                 "heads >= 1 dividing embedding_dim, got blocks ", o.blocks, ", heads ", o.heads, ", embedding_dim ",
                 o.embedding_dim);
  }
  void make_network(const Dataset& train, const FitOptions& o) override {
    Generator gen(o.seed);
    net_ = std::make_unique<SasRecNet>(train.num_items(), o, gen);
  }
  void restore_network(const Dataset& train, const FitOptions& o, const json::Value&,
                       const NamedTensors& tensors) override {
    Generator gen(o.seed);
    auto net = std::make_unique<SasRecNet>(train.num_items(), o, gen);
    load_parameters(net->named_parameters(), tensors);
    net_ = std::move(net);
  }
  nn::Module& network() const override { return *net_; }
  std::int64_t tokens_per_item() const override { return 1; }
  void write_item(std::int64_t item, std::int32_t* dst) const override { *dst = static_cast<std::int32_t>(item + 1); }
  Tensor encode(const Tensor& ids, const Tensor& padding) const override { return net_->encode(ids, padding); }
  Tensor logits(const Tensor& states) const override { return net_->logits(states); }
  NamedTensors state_tensors() const override { return net_->named_parameters(); }

 private:
  std::unique_ptr<SasRecNet> net_;
};

}  // namespace recsys::rec
