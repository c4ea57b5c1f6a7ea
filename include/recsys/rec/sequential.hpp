// recsys/rec/sequential.hpp — SequentialRecommender: what the next-item models share (users' time-ordered sequences, training windows, full-softmax cross-entropy on every transition, scoring the whole catalogue a block of users at a time); a model supplies only its network.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "recsys/core/factory.hpp"
#include "recsys/core/finite.hpp"
#include "recsys/core/interrupt.hpp"
#include "recsys/nn/module.hpp"
#include "recsys/ops/embedding.hpp"
#include "recsys/ops/loss.hpp"
#include "recsys/rec/recency.hpp"
#include "recsys/rec/training.hpp"
#include "recsys/train/progress.hpp"

namespace recsys::rec {

/// Next-item recommendation (GRU4Rec's and SASRec's task, with the full-softmax loss of Klenitskiy
/// & Vasilev 2023). Each user's training interactions in time order (timestamp ties in the seeded
/// order of holdout.hpp, never file order) form a sequence; it is cut from the end into windows of
/// at most options.history items, so every transition is a training target exactly once: items
/// s_0..s_{L-1} are the input, s_1..s_L the targets, front-padded to the window length. Loss: the
/// cross-entropy of a softmax over the whole catalogue at every real position. Score of item i for
/// user u: its logit after u's latest options.history training items.
///
/// A subclass builds its network (make_network / restore_network) and says how an item is written
/// as tokens, how a batch is encoded into one state per position, and how states become logits.
class SequentialRecommender : public Recommender {
 public:
  using Recommender::Recommender;

  /// The items user u's score reads, oldest first (the latest options().history training ones).
  const std::vector<std::int64_t>& recent(std::int64_t u) const { return recent_[static_cast<std::size_t>(u)]; }

 protected:
  /// Builds the untrained network for `train` (vocabularies included).
  virtual void make_network(const Dataset& train, const FitOptions& o) = 0;
  /// Rebuilds the network of a saved model and loads its tensors.
  virtual void restore_network(const Dataset& train, const FitOptions& o, const json::Value& state,
                               const NamedTensors& tensors) = 0;
  virtual nn::Module& network() const = 0;
  /// Token ids per item in the input (1 for an id-only model).
  virtual std::int64_t tokens_per_item() const = 0;
  /// Writes item i's tokens_per_item() ids to `dst`.
  virtual void write_item(std::int64_t item, std::int32_t* dst) const = 0;
  /// ids (B, T · tokens_per_item) int32 and padding (B, T) int32 (1 = no item) → states (B, T, D).
  virtual Tensor encode(const Tensor& ids, const Tensor& padding) const = 0;
  /// states (N, D) → logits (N, items).
  virtual Tensor logits(const Tensor& states) const = 0;
  /// Checks the options (called before fitting and loading).
  virtual void check(const FitOptions& o) const {
    RECSYS_CHECK(o.history >= 1, name(), ".fit: history (the window length) must be >= 1, got ", o.history);
    RECSYS_CHECK(o.dropout >= 0 && o.dropout < 1, name(), ".fit: dropout must be in [0, 1), got ", o.dropout);
  }

  History fit_model(const Dataset& train, const FitOptions& o) override {
    check(o);
    build_sequences(train, o);
    make_network(train, o);
    Generator gen(o.seed ^ 0x5e9ull);  // window order: a stream apart from the weights'
    const std::unique_ptr<optim::Optimizer> opt = optimizer_for(o)(network().parameters());
    return train_windows(o, *opt, gen);
  }

  void restore(const Dataset& train, const FitOptions& o, const json::Value& state, const NamedTensors& tensors) override {
    check(o);
    restore_network(train, o, state, tensors);
    build_sequences(train, o);
  }

  void score_block(std::span<const std::int64_t> users, std::span<double> out) const override {
    NoGradGuard no_grad;
    network().eval();
    const auto n_items = static_cast<std::size_t>(data().num_items());
    constexpr std::size_t kBlock = 256;
    std::vector<Window> windows;
    for (std::size_t first = 0; first < users.size(); first += kBlock) {
      const std::size_t count = std::min(kBlock, users.size() - first);
      windows.clear();
      for (std::size_t n = 0; n < count; ++n) windows.push_back({users[first + n], 0, 0});
      const Tensor scores = forward_positions(make_batch(windows, /*training=*/false));
      const float* p = scores.data<float>();
      std::copy(p, p + count * n_items, out.begin() + static_cast<std::ptrdiff_t>(first * n_items));
    }
  }
  void score_items(std::int64_t user, std::span<const std::int64_t> items, std::span<double> out) const override {
    std::vector<double> all(static_cast<std::size_t>(data().num_items()));
    const std::int64_t u[1] = {user};
    score_block(u, all);
    for (std::size_t n = 0; n < items.size(); ++n) out[n] = all[static_cast<std::size_t>(items[n])];
  }

 private:
  /// Items [begin, end) of a user's sequence are a window's input, [begin + 1, end] its targets.
  struct Window {
    std::int64_t user = 0, begin = 0, end = 0;
  };
  /// A batch as the network reads it, the flat (row · T + t) index of every position to score and
  /// (training) the item each of those positions must predict.
  struct Batch {
    Tensor ids, padding, positions, targets;
  };

  void build_sequences(const Dataset& train, const FitOptions& o) {
    sequences_ = time_ordered_items(train, o.seed);
    recent_.assign(sequences_.size(), {});
    for (std::size_t u = 0; u < sequences_.size(); ++u) {
      const auto& s = sequences_[u];
      const std::size_t keep = std::min(s.size(), static_cast<std::size_t>(o.history));
      recent_[u].assign(s.end() - static_cast<std::ptrdiff_t>(keep), s.end());
    }
  }

  std::vector<Window> training_windows(std::int64_t history) const {
    std::vector<Window> w;
    for (std::size_t u = 0; u < sequences_.size(); ++u)
      for (auto end = static_cast<std::int64_t>(sequences_[u].size()) - 1; end >= 1; end -= history)
        w.push_back({static_cast<std::int64_t>(u), std::max<std::int64_t>(0, end - history), end});
    return w;
  }

  /// Training: each window's input and targets. Scoring: each user's recent items, one position
  /// (the last) per user.
  Batch make_batch(const std::vector<Window>& windows, bool training) const {
    const std::int64_t T = options().history, k = tokens_per_item(), B = static_cast<std::int64_t>(windows.size());
    Batch b;
    b.ids = zeros({B, T * k}, {DType::int32});
    b.padding = full({B, T}, 1.0, {DType::int32});
    std::int32_t* ids = b.ids.data<std::int32_t>();
    std::int32_t* pad = b.padding.data<std::int32_t>();
    std::vector<std::int64_t> positions, next;
    for (std::int64_t r = 0; r < B; ++r) {
      const Window& w = windows[static_cast<std::size_t>(r)];
      const std::vector<std::int64_t>& seq = sequences_[static_cast<std::size_t>(w.user)];
      const std::span<const std::int64_t> input =
          training ? std::span<const std::int64_t>(seq).subspan(static_cast<std::size_t>(w.begin),
                                                                 static_cast<std::size_t>(w.end - w.begin))
                   : std::span<const std::int64_t>(recent_[static_cast<std::size_t>(w.user)]);
      const std::int64_t front = T - static_cast<std::int64_t>(input.size());
      for (std::size_t t = 0; t < input.size(); ++t) {
        const std::int64_t at = front + static_cast<std::int64_t>(t);
        write_item(input[t], ids + (r * T + at) * k);
        pad[r * T + at] = 0;
        if (training) {
          positions.push_back(r * T + at);
          next.push_back(seq[static_cast<std::size_t>(w.begin) + t + 1]);
        }
      }
      if (!training) positions.push_back(r * T + T - 1);
    }
    b.positions = from_vector(positions, Shape{static_cast<std::int64_t>(positions.size())});
    if (training) b.targets = from_vector(next, Shape{static_cast<std::int64_t>(next.size())});
    return b;
  }

  /// Logits (positions, items) of a batch's scored positions: gather the states, then the catalogue.
  Tensor forward_positions(const Batch& b) const {
    const Tensor states = encode(b.ids, b.padding);  // (B, T, D)
    const Tensor flat = states.reshape({states.size(0) * states.size(1), states.size(2)});
    return logits(embedding(flat, b.positions));
  }

  History train_windows(const FitOptions& o, optim::Optimizer& opt, Generator& gen) {
    History history;
    std::vector<Window> windows = training_windows(o.history);
    RECSYS_CHECK(!windows.empty(), name(), ".fit: no user has two training interactions to learn a transition from");
    const auto n = static_cast<std::int64_t>(windows.size()), steps = (n + o.batch_size - 1) / o.batch_size;
    network().train();
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
        const double loss_value = loss.item<double>();
        check_finite_loss(loss_value, name() + ".fit", epoch + 1, step + 1, opt.lr());
        check_interrupt(epoch + 1, step + 1);
        opt.zero_grad();
        loss.backward();
        opt.step();
        const auto count = static_cast<double>(b.targets.size(0));
        loss_sum += loss_value * count;
        targets += count;
        if (o.verbose == 1) bar.update(step + 1, {{"loss", loss_sum / targets}});
      }
      const ProgressValues logs{{"loss", loss_sum / targets}};
      bar.finish(logs);
      for (const auto& [key, v] : logs) history.record(key, v);
    }
    network().eval();
    return history;
  }

  std::vector<std::vector<std::int64_t>> sequences_, recent_;
};

}  // namespace recsys::rec
