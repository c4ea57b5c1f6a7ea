// recsys/rec/next_item.hpp — NextItemRanker: the seed's CNN-LSTM as a sequential recommender; it reads a user's recent items and scores every item of the catalogue as the next one, trained with full softmax cross-entropy on every prefix.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "recsys/core/factory.hpp"
#include "recsys/nn/dropout.hpp"
#include "recsys/ops/embedding.hpp"
#include "recsys/ops/loss.hpp"
#include "recsys/rec/item_tokens.hpp"
#include "recsys/rec/recency.hpp"
#include "recsys/rec/training.hpp"
#include "recsys/train/progress.hpp"

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

/// Next-item recommendation with the seed's network (Hidasi et al.'s GRU4Rec recipe with the
/// full-softmax loss of Klenitskiy & Vasilev 2023, on an LSTM).
///
/// Data. Each user's training interactions in time order (timestamp ties in the seeded order of
/// holdout.hpp, never file order) form a sequence; it is cut from the end into windows of at most
/// options.history items, so every transition is a training target exactly once: the window's
/// items s_0..s_{L-1} are the input and s_1..s_L the targets (front-padded to the window length).
/// Loss: cross-entropy of the softmax over the whole catalogue at every real position. Items are
/// options.item_tokens feature tokens (rec/item_tokens.hpp: id, genres, ...), so rare items still
/// share what their genres say. Score of item i for user u = the logit of i after u's latest
/// options.history training items; every item of the catalogue in one pass per block of users.
/// Adam (or SGD), dropout options.dropout on the item vectors and the LSTM states while training.
class NextItemRanker : public Recommender {
 public:
  explicit NextItemRanker(FitOptions options = {}) : Recommender(std::move(options)) {}
  std::string name() const override { return "nextitem"; }
  std::vector<TuningAxis> tuning_grid() const override {
    return {{"dropout", {0.1, 0.3}}, {"lr", {0.001, 0.003}}};
  }

  const ItemTokens& tokens() const { return tokens_; }
  NextItemNet& network() const { return *net_; }
  /// The items user u's score reads, oldest first (the latest options().history training ones).
  const std::vector<std::int64_t>& recent(std::int64_t u) const { return recent_[static_cast<std::size_t>(u)]; }

 protected:
  History fit_model(const Dataset& train, const FitOptions& o) override {
    check(o);
    tokens_ = ItemTokens::fit(train, o.item_tokens, o.vocab_size);
    build_sequences(train, o);
    Generator gen(o.seed);
    net_ = std::make_unique<NextItemNet>(tokens_.vocab_size(), train.num_items(), o, gen);
    const std::unique_ptr<optim::Optimizer> opt = optimizer_for(o)(net_->parameters());
    return train_windows(o, *opt, gen);
  }

  void score_block(std::span<const std::int64_t> users, std::span<double> out) const override {
    NoGradGuard no_grad;
    net_->eval();
    const std::int64_t n_items = data().num_items(), block = 256;
    for (std::size_t first = 0; first < users.size(); first += block) {
      const std::size_t count = std::min<std::size_t>(block, users.size() - first);
      std::vector<Window> windows;
      for (std::size_t n = 0; n < count; ++n) windows.push_back({users[first + n], 0, 0});
      const Batch b = make_batch(windows, /*targets=*/false);
      const Tensor logits = forward_positions(b);
      const float* p = logits.data<float>();
      for (std::size_t n = 0; n < count; ++n)
        for (std::int64_t i = 0; i < n_items; ++i)
          out[(first + n) * static_cast<std::size_t>(n_items) + static_cast<std::size_t>(i)] =
              p[n * static_cast<std::size_t>(n_items) + static_cast<std::size_t>(i)];
    }
  }
  void score_items(std::int64_t user, std::span<const std::int64_t> items, std::span<double> out) const override {
    std::vector<double> all(static_cast<std::size_t>(data().num_items()));
    const std::int64_t u[1] = {user};
    score_block(u, all);
    for (std::size_t n = 0; n < items.size(); ++n) out[n] = all[static_cast<std::size_t>(items[n])];
  }

  NamedTensors state_tensors() const override { return net_->named_parameters(); }
  json::Value state_json() const override {
    json::Value v = json::Value::object();
    v["vocabulary"] = tokens_.to_json();
    return v;
  }
  void restore(const Dataset& train, const FitOptions& o, const json::Value& state, const NamedTensors& tensors) override {
    check(o);
    RECSYS_CHECK(state.is_object() && state.contains("vocabulary"), "nextitem.load: model.json has no vocabulary");
    ItemTokens tokens = ItemTokens::from_json(state.at("vocabulary"), train, o.item_tokens, "nextitem.load");
    Generator gen(o.seed);
    auto net = std::make_unique<NextItemNet>(tokens.vocab_size(), train.num_items(), o, gen);
    load_parameters(net->named_parameters(), tensors);
    tokens_ = std::move(tokens);
    net_ = std::move(net);
    build_sequences(train, o);
  }

 private:
  /// A window of one user's sequence: items [begin, end) are the input, [begin + 1, end] the targets.
  struct Window {
    std::int64_t user = 0, begin = 0, end = 0;
  };
  /// A batch as the network reads it: token ids, the flat (row · T + t) index of every position to
  /// score, and (training) the item each of those positions must predict.
  struct Batch {
    Tensor ids;
    Tensor positions;
    Tensor targets;
  };

  void check(const FitOptions& o) const {
    RECSYS_CHECK(o.history >= 1, "nextitem.fit: history (the window length) must be >= 1, got ", o.history);
    RECSYS_CHECK(o.item_tokens >= 1, "nextitem.fit: item_tokens must be >= 1, got ", o.item_tokens);
    RECSYS_CHECK(o.dropout >= 0 && o.dropout < 1, "nextitem.fit: dropout must be in [0, 1), got ", o.dropout);
    check_network_options("nextitem.fit", o, o.history * o.item_tokens, o.item_tokens, o.item_tokens);
  }

  /// Each user's training items in time order, and the latest `history` of them for scoring.
  void build_sequences(const Dataset& train, const FitOptions& o) {
    sequences_ = time_ordered_items(train, o.seed);
    recent_.assign(sequences_.size(), {});
    for (std::size_t u = 0; u < sequences_.size(); ++u) {
      const auto& s = sequences_[u];
      const std::size_t from = s.size() > static_cast<std::size_t>(o.history) ? s.size() - static_cast<std::size_t>(o.history) : 0;
      recent_[u].assign(s.begin() + static_cast<std::ptrdiff_t>(from), s.end());
    }
  }

  /// Windows over every user's sequence, cut from the end, each at most `history` transitions.
  std::vector<Window> training_windows(std::int64_t history) const {
    std::vector<Window> w;
    for (std::size_t u = 0; u < sequences_.size(); ++u)
      for (auto end = static_cast<std::int64_t>(sequences_[u].size()) - 1; end >= 1; end -= history)
        w.push_back({static_cast<std::int64_t>(u), std::max<std::int64_t>(0, end - history), end});
    return w;
  }

  /// Token ids (B, history · item_tokens), front-padded; a window with end == 0 means "score the
  /// user": its input is the user's recent items and its one position is the last.
  Batch make_batch(const std::vector<Window>& windows, bool targets) const {
    const std::int64_t T = options().history, k = options().item_tokens, B = static_cast<std::int64_t>(windows.size());
    Batch b;
    b.ids = zeros({B, T * k}, {DType::int32});
    std::int32_t* ids = b.ids.data<std::int32_t>();
    std::vector<std::int64_t> positions, next;
    for (std::int64_t r = 0; r < B; ++r) {
      const Window& w = windows[static_cast<std::size_t>(r)];
      const std::vector<std::int64_t>& seq = sequences_[static_cast<std::size_t>(w.user)];
      const std::span<const std::int64_t> input =
          targets ? std::span<const std::int64_t>(seq).subspan(static_cast<std::size_t>(w.begin),
                                                                static_cast<std::size_t>(w.end - w.begin))
                  : std::span<const std::int64_t>(recent_[static_cast<std::size_t>(w.user)]);
      const std::int64_t pad = T - static_cast<std::int64_t>(input.size());
      for (std::size_t t = 0; t < input.size(); ++t) {
        const std::span<const std::int32_t> tok = tokens_.of(input[t]);
        std::copy(tok.begin(), tok.end(), ids + r * T * k + (pad + static_cast<std::int64_t>(t)) * k);
        if (targets) {
          positions.push_back(r * T + pad + static_cast<std::int64_t>(t));
          next.push_back(seq[static_cast<std::size_t>(w.begin) + t + 1]);
        }
      }
      if (!targets) positions.push_back(r * T + T - 1);
    }
    b.positions = from_vector(positions, Shape{static_cast<std::int64_t>(positions.size())});
    if (targets) b.targets = from_vector(next, Shape{static_cast<std::int64_t>(next.size())});
    return b;
  }

  /// Logits (positions, items) of a batch's scored positions.
  Tensor forward_positions(const Batch& b) const {
    const Tensor states = net_->encode(b.ids);  // (B, T, H)
    const Tensor flat = states.reshape({states.size(0) * states.size(1), states.size(2)});
    return net_->output(embedding(flat, b.positions));  // gather the positions, then one GEMM to the catalogue
  }

  History train_windows(const FitOptions& o, optim::Optimizer& opt, Generator& gen) {
    History history;
    std::vector<Window> windows = training_windows(o.history);
    RECSYS_CHECK(!windows.empty(), "nextitem.fit: no user has two training interactions to learn a transition from");
    const auto n = static_cast<std::int64_t>(windows.size()), steps = (n + o.batch_size - 1) / o.batch_size;
    net_->train();
    std::vector<Window> batch;
    for (int epoch = 0; epoch < o.epochs; ++epoch) {
      if (o.verbose > 0) std::fprintf(o.out, "Epoch %d/%d\n", epoch + 1, o.epochs);
      ProgressBar bar(steps, o.verbose, o.out);
      shuffle(windows.begin(), windows.end(), gen);
      double loss_sum = 0, targets = 0;
      for (std::int64_t step = 0; step < steps; ++step) {
        const std::int64_t begin = step * o.batch_size, end = std::min(n, begin + o.batch_size);
        batch.assign(windows.begin() + begin, windows.begin() + end);
        const Batch b = make_batch(batch, true);
        const Tensor loss = cross_entropy(forward_positions(b), b.targets);
        opt.zero_grad();
        loss.backward();
        opt.step();
        const auto count = static_cast<double>(b.targets.size(0));
        loss_sum += loss.item<double>() * count;
        targets += count;
        if (o.verbose == 1) bar.update(step + 1, {{"loss", loss_sum / targets}});
      }
      const ProgressValues logs{{"loss", loss_sum / targets}};
      bar.finish(logs);
      for (const auto& [key, v] : logs) history.record(key, v);
    }
    net_->eval();
    return history;
  }

  ItemTokens tokens_;
  std::unique_ptr<NextItemNet> net_;
  std::vector<std::vector<std::int64_t>> sequences_, recent_;
};

}  // namespace recsys::rec
