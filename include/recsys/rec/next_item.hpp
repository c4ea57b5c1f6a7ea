// recsys/rec/next_item.hpp — NextItemRanker: the seed's CNN-LSTM as a sequential recommender; it reads a user's recent items and scores every item of the catalogue as the next one.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "recsys/core/factory.hpp"
#include "recsys/nn/dropout.hpp"
#include "recsys/rec/item_tokens.hpp"
#include "recsys/rec/sequential.hpp"
#include "recsys/rec/training.hpp"

namespace recsys::rec {

/// The network: Embedding → Conv1D(relu) reading one item per window (kernel = stride = the item's
/// token count) → LSTM over the items, returning every step → Dense to one logit per catalogue
/// item. It is the seed's stack (MaxPool1D with pool 1 is the identity and is left out) used as a
/// sequence encoder: the LSTM state after item t is the user's taste after t, and the Dense layer's
/// columns are the items' output vectors, so scoring a user is one pass and one (state · W) product.
class NextItemNet : public nn::Module {
 public:
  NextItemNet(std::int64_t vocab, std::int64_t items, const FitOptions& o, Generator& gen)
      : item_encoder(nn::Embedding(vocab, o.embedding_dim, 0, gen),
                     nn::Conv1D(o.embedding_dim, o.filters, o.item_tokens,
                                {.stride = o.item_tokens, .activation = nn::Activation::relu}, gen)),
        item_dropout(o.dropout, gen),
        lstm(o.filters, o.lstm_units, {.return_sequences = true}, gen),
        state_dropout(o.dropout, gen),
        output(o.lstm_units, items, nn::Activation::none, true, gen) {}

  std::string name() const override { return "NextItemNet"; }
  void visit_children(const ChildVisitor& f) override {
    f("item_encoder", item_encoder);
    f("item_dropout", item_dropout);
    f("lstm", lstm);
    f("state_dropout", state_dropout);
    f("output", output);
  }

  /// ids (B, T · item_tokens) → the state after each of the T items, (B, T, lstm_units).
  Tensor encode(const Tensor& ids) { return state_dropout(lstm(item_dropout(item_encoder(ids)))); }

  nn::Sequential<nn::Embedding, nn::Conv1D> item_encoder;
  nn::Dropout item_dropout;
  nn::LSTM lstm;
  nn::Dropout state_dropout;
  nn::Dense output;
};

/// The seed's network as a next-item model (SequentialRecommender: time-ordered windows, full
/// softmax over the catalogue on every transition). Items are options.item_tokens feature tokens
/// (rec/item_tokens.hpp: id, genres, ...), so rare items still share what their genres say.
/// Adam (or SGD), dropout options.dropout on the item vectors and the LSTM states while training.
class NextItemRanker : public SequentialRecommender {
 public:
  explicit NextItemRanker(FitOptions options = {}) : SequentialRecommender(std::move(options)) {}
  std::string name() const override { return "nextitem"; }
  std::vector<TuningAxis> tuning_grid() const override {
    return {{"dropout", {0.1, 0.3}}, {"lr", {0.001, 0.003}}};
  }

  const ItemTokens& tokens() const { return tokens_; }

 protected:
  void check(const FitOptions& o) const override {
    SequentialRecommender::check(o);
    RECSYS_CHECK(o.item_tokens >= 1, "nextitem.fit: item_tokens must be >= 1, got ", o.item_tokens);
    check_network_options("nextitem.fit", o, o.history * o.item_tokens, o.item_tokens, o.item_tokens);
  }
  void make_network(const Dataset& train, const FitOptions& o) override {
    tokens_ = ItemTokens::fit(train, o.item_tokens, o.vocab_size);
    Generator gen(o.seed);
    net_ = std::make_unique<NextItemNet>(tokens_.vocab_size(), train.num_items(), o, gen);
  }
  void restore_network(const Dataset& train, const FitOptions& o, const json::Value& state,
                       const NamedTensors& tensors) override {
    RECSYS_CHECK(state.is_object() && state.contains("vocabulary"), "nextitem.load: model.json has no vocabulary");
    ItemTokens tokens = ItemTokens::from_json(state.at("vocabulary"), train, o.item_tokens, "nextitem.load");
    Generator gen(o.seed);
    auto net = std::make_unique<NextItemNet>(tokens.vocab_size(), train.num_items(), o, gen);
    load_parameters(net->named_parameters(), tensors);
    tokens_ = std::move(tokens);
    net_ = std::move(net);
  }
  nn::Module& network() const override { return *net_; }
  std::int64_t tokens_per_item() const override { return options().item_tokens; }
  void write_item(std::int64_t item, std::int32_t* dst) const override {
    const std::span<const std::int32_t> t = tokens_.of(item);
    std::copy(t.begin(), t.end(), dst);
  }
  Tensor encode(const Tensor& ids, const Tensor&) const override { return net_->encode(ids); }
  Tensor logits(const Tensor& states) const override { return net_->output(states); }

  NamedTensors state_tensors() const override { return net_->named_parameters(); }
  json::Value state_json() const override {
    json::Value v = json::Value::object();
    v["vocabulary"] = tokens_.to_json();
    return v;
  }

 private:
  ItemTokens tokens_;
  std::unique_ptr<NextItemNet> net_;
};

}  // namespace recsys::rec
