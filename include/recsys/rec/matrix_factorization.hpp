// recsys/rec/matrix_factorization.hpp — MatrixFactorization: biased MF (user and item embeddings, dot product plus biases) trained on ratings with MSE, or on implicit feedback with BPR.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <numeric>
#include <optional>
#include <utility>
#include <span>
#include <string>
#include <vector>

#include "recsys/core/factory.hpp"
#include "recsys/core/finite.hpp"
#include "recsys/core/interrupt.hpp"
#include "recsys/cpu/gemm.hpp"
#include "recsys/metrics/classification.hpp"
#include "recsys/nn/embedding.hpp"
#include "recsys/nn/module.hpp"
#include "recsys/ops/binary.hpp"
#include "recsys/ops/loss.hpp"
#include "recsys/ops/reduce.hpp"
#include "recsys/rec/training.hpp"
#include "recsys/train/progress.hpp"

namespace recsys::rec {

/// The parameters of biased MF as a module, so they save, load and optimize like any network's.
class FactorModel : public nn::Module {
 public:
  FactorModel(std::int64_t users, std::int64_t items, std::int64_t factors, Generator& gen)
      : user_factors(users, factors, -1, gen), item_factors(items, factors, -1, gen), user_bias(users, 1, -1, gen),
        item_bias(items, 1, -1, gen) {
    NoGradGuard no_grad;
    user_bias.embeddings().zero_();  // biases start neutral; factors start small and random
    item_bias.embeddings().zero_();
  }

  std::string name() const override { return "MatrixFactorization"; }
  void visit_children(const ChildVisitor& f) override {
    f("user_factors", user_factors);
    f("item_factors", item_factors);
    f("user_bias", user_bias);
    f("item_bias", item_bias);
  }

  nn::Embedding user_factors, item_factors, user_bias, item_bias;
};

/// Biased matrix factorization (Koren, Bell & Volinsky 2009):
///   r̂(u, i) = μ + b_u + b_i + p_u · q_i
/// loss "mse": squared error against the ratings, μ the training mean; score = the predicted rating.
/// loss "bpr" (Rendle et al. 2009): every interaction is a positive; each is paired with
/// options.negatives items the user never interacted with (fresh draws each epoch) and the loss is
/// -log σ(r̂(u, i) - r̂(u, j)); μ and b_u cancel there, so score = b_i + p_u · q_i.
/// Both add options.l2 × (‖p_u‖² + ‖q_i‖² + b_u² + b_i²) averaged over the batch (and ‖q_j‖² + b_j²
/// for BPR's negatives). Trained with Adam or SGD, mini-batches in a seeded order.
class MatrixFactorization : public Recommender {
 public:
  explicit MatrixFactorization(FitOptions options = {}) : Recommender(std::move(options)) {}
  std::string name() const override { return "mf"; }

  Capabilities capabilities() const override { return {.predicts_ratings = options().loss == "mse"}; }
  /// Adam's learning rate, the L2 weight and the width; epochs stay as given (the search is per budget).
  std::vector<TuningAxis> tuning_grid() const override {
    return {{"l2", {0.001, 0.01, 0.1}}, {"factors", {32, 64}}};
  }

  /// Predicted ratings for "mse" are like predictions: "liked" when the predicted rating exceeds the
  /// cut that classifies the training rows best (learned at fit; E[r] >= 4 is not the Bayes rule
  /// when the model shrinks its predictions towards the mean).
  std::optional<double> decision_threshold() const override {
    if (options().loss == "mse" && fitted()) return threshold_;
    return std::nullopt;
  }
  /// The factor module (for inspection).
  const FactorModel& factors() const { return *net_; }
  double global_mean() const { return mu_; }

 protected:
  History fit_model(const Dataset& train, const FitOptions& o) override {
    RECSYS_CHECK(o.loss == "mse" || o.loss == "bpr", "mf.fit: loss must be 'mse' or 'bpr', got '", o.loss, "'");
    RECSYS_CHECK(o.factors > 0, "mf.fit: factors must be positive, got ", o.factors);
    RECSYS_CHECK(o.l2 >= 0, "mf.fit: l2 must be >= 0, got ", o.l2);
    RECSYS_CHECK(o.loss == "mse" || o.negatives > 0, "mf.fit: bpr needs negatives > 0, got ", o.negatives);
    Generator gen(o.seed);
    net_ = std::make_unique<FactorModel>(train.num_users(), train.num_items(), o.factors, gen);
    mu_ = o.loss == "mse" ? train.mean_rating() : 0.0;
    scale_ = train.rating_scale();
    if (!scale_ && o.loss == "mse") {  // data built in code: the training ratings' range
      double lo = train[0].rating, hi = lo;
      for (const Interaction& x : train.interactions()) lo = std::min(lo, x.rating), hi = std::max(hi, x.rating);
      scale_ = std::pair{lo, hi};
    }
    const std::unique_ptr<optim::Optimizer> optimizer = optimizer_for(o)(net_->parameters());
    History h = o.loss == "mse" ? fit_mse(train, o, *optimizer, gen) : fit_bpr(train, o, *optimizer, gen);
    threshold_ = train.like_threshold();
    if (o.loss == "mse") {
      std::vector<int> liked(static_cast<std::size_t>(train.size()));
      for (std::size_t r = 0; r < liked.size(); ++r) liked[r] = train.liked(train[static_cast<std::int64_t>(r)]);
      threshold_ = metrics::best_accuracy_threshold(liked, predict_rows(train));
    }
    return h;
  }

  void score_items(std::int64_t user, std::span<const std::int64_t> items, std::span<double> out) const override {
    const auto k = static_cast<std::size_t>(net_->user_factors.embeddings().size(1));
    const float* p = net_->user_factors.embeddings().data<float>() + static_cast<std::size_t>(user) * k;
    const float* q = net_->item_factors.embeddings().data<float>();
    const float* bi = net_->item_bias.embeddings().data<float>();
    const double base = options().loss == "mse" ? mu_ + net_->user_bias.embeddings().data<float>()[user] : 0.0;
    for (std::size_t n = 0; n < items.size(); ++n) {
      const auto i = static_cast<std::size_t>(items[n]);
      double dot = 0;
      for (std::size_t f = 0; f < k; ++f) dot += static_cast<double>(p[f]) * static_cast<double>(q[i * k + f]);
      out[n] = base + static_cast<double>(bi[i]) + dot;
    }
  }

  /// A block of users against every item: one GEMM P_users · Qᵀ, then the biases.
  void score_block(std::span<const std::int64_t> users, std::span<double> out) const override {
    const Tensor& p = net_->user_factors.embeddings();
    const Tensor& q = net_->item_factors.embeddings();
    const std::int64_t k = p.size(1), n_items = q.size(0), b = static_cast<std::int64_t>(users.size());
    std::vector<float> pu(static_cast<std::size_t>(b * k)), c(static_cast<std::size_t>(b * n_items));
    for (std::int64_t n = 0; n < b; ++n)
      std::copy_n(p.data<float>() + users[static_cast<std::size_t>(n)] * k, k, pu.data() + n * k);
    GemmArgs<float> g;
    g.trans_b = true;
    g.m = b, g.n = n_items, g.k = k;
    g.a = pu.data(), g.lda = k;
    g.b = q.data<float>(), g.ldb = k;
    g.c = c.data(), g.ldc = n_items;
    cpu::gemm(g);
    const float* bi = net_->item_bias.embeddings().data<float>();
    const float* bu = net_->user_bias.embeddings().data<float>();
    for (std::int64_t n = 0; n < b; ++n) {
      const double base = options().loss == "mse" ? mu_ + bu[users[static_cast<std::size_t>(n)]] : 0.0;
      for (std::int64_t i = 0; i < n_items; ++i)
        out[static_cast<std::size_t>(n * n_items + i)] = base + static_cast<double>(bi[i]) + c[static_cast<std::size_t>(n * n_items + i)];
    }
  }

  /// Predicted ratings ("mse"), clipped to the rating scale: a rating of 5.29 on a 1-5 scale is
  /// never right, and clipping can only bring it closer. Ranking scores (score, score_users,
  /// recommend) stay unclipped, so items above the top of the scale keep their order.
  std::vector<double> predict_rows(const Dataset& rows) const override {
    std::vector<double> out = Recommender::predict_rows(rows);
    if (options().loss == "mse" && scale_)
      for (double& v : out) v = std::clamp(v, scale_->first, scale_->second);
    return out;
  }

  /// Cosine of the item factor vectors q_i and q_j (0 for a zero vector).
  bool item_similarities(std::int64_t item, std::span<double> out) const override {
    const Tensor& q = net_->item_factors.embeddings();
    const auto k = static_cast<std::size_t>(q.size(1));
    const float* base = q.data<float>();
    const auto norm = [&](const float* v) {
      double s = 0;
      for (std::size_t f = 0; f < k; ++f) s += static_cast<double>(v[f]) * static_cast<double>(v[f]);
      return std::sqrt(s);
    };
    const float* qi = base + static_cast<std::size_t>(item) * k;
    const double ni = norm(qi);
    for (std::size_t j = 0; j < out.size(); ++j) {
      const float* qj = base + j * k;
      double dot = 0;
      for (std::size_t f = 0; f < k; ++f) dot += static_cast<double>(qi[f]) * static_cast<double>(qj[f]);
      const double d = ni * norm(qj);
      out[j] = d > 0 ? dot / d : 0.0;
    }
    return true;
  }

  json::Value state_json() const override {
    json::Value v = json::Value::object();
    v["threshold"] = threshold_;
    if (scale_) {
      json::Value scale = json::Value::array();
      scale.push_back(scale_->first);
      scale.push_back(scale_->second);
      v["rating_scale"] = std::move(scale);
    }
    return v;
  }
  NamedTensors state_tensors() const override {
    NamedTensors t = net_->named_parameters();
    t.emplace_back("global_mean", from_vector(std::vector<double>{mu_}));
    return t;
  }
  void restore(const Dataset& train, const FitOptions& o, const json::Value& state, const NamedTensors& tensors) override {
    // Files from before the learned cut hold none: they used the data's like threshold.
    const json::Value* cut = state.is_object() ? state.find("threshold") : nullptr;
    const double threshold = cut ? cut->as_double() : train.like_threshold();
    Generator gen(o.seed);
    auto net = std::make_unique<FactorModel>(train.num_users(), train.num_items(), o.factors, gen);
    load_parameters(net->named_parameters(), tensors);
    mu_ = find_tensor(tensors, "global_mean").item<double>();
    net_ = std::move(net);
    threshold_ = threshold;
    scale_.reset();  // files from before the clip hold none: predictions stay as they were
    if (const json::Value* s = state.is_object() ? state.find("rating_scale") : nullptr; s && s->is_array() && s->size() == 2)
      scale_ = std::pair{s->at(0).as_double(), s->at(1).as_double()};
  }

 private:
  /// Mean over the batch of the squared norms of the looked-up rows (the L2 penalty of one batch).
  static Tensor penalty(const std::vector<Tensor>& rows) {
    Tensor total;
    for (const Tensor& r : rows) {
      const Tensor s = sum(r * r) / static_cast<double>(r.size(0));
      total = total.defined() ? total + s : s;
    }
    return total;
  }

  Tensor ids(const std::vector<std::int64_t>& v) const {
    return from_vector(v, Shape{static_cast<std::int64_t>(v.size())});
  }

  /// Shuffled order of n training rows for one epoch.
  static std::vector<std::int64_t> epoch_order(std::int64_t n, Generator& gen) {
    std::vector<std::int64_t> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), std::int64_t{0});
    shuffle(order.begin(), order.end(), gen);
    return order;
  }

  History fit_mse(const Dataset& train, const FitOptions& o, optim::Optimizer& opt, Generator& gen) {
    History history;
    const std::int64_t n = train.size(), steps = (n + o.batch_size - 1) / o.batch_size;
    std::vector<std::int64_t> u, i;
    std::vector<float> r;
    for (int epoch = 0; epoch < o.epochs; ++epoch) {
      if (o.verbose > 0) std::fprintf(o.out, "Epoch %d/%d\n", epoch + 1, o.epochs);
      ProgressBar bar(steps, o.verbose, o.out);
      const std::vector<std::int64_t> order = epoch_order(n, gen);
      double sq = 0, loss_sum = 0;
      for (std::int64_t step = 0; step < steps; ++step) {
        const std::int64_t begin = step * o.batch_size, end = std::min(n, begin + o.batch_size);
        u.clear(), i.clear(), r.clear();
        for (std::int64_t k = begin; k < end; ++k) {
          const Interaction& x = train[order[static_cast<std::size_t>(k)]];
          u.push_back(x.user), i.push_back(x.item), r.push_back(static_cast<float>(x.rating - mu_));
        }
        const Tensor uid = ids(u), iid = ids(i);
        const Tensor pu = net_->user_factors(uid), qi = net_->item_factors(iid);
        const Tensor bu = net_->user_bias(uid).reshape({end - begin}), bi = net_->item_bias(iid).reshape({end - begin});
        const Tensor pred = sum(pu * qi, 1) + bu + bi;  // minus μ, which the targets have subtracted
        const Tensor err = mse_loss(pred, from_vector(r));
        const Tensor loss = o.l2 > 0 ? err + penalty({pu, qi, bu.reshape({end - begin, 1}), bi.reshape({end - begin, 1})}) * o.l2 : err;
        const double loss_value = loss.item<double>();
        check_finite_loss(loss_value, "mf.fit", epoch + 1, step + 1, opt.lr());
        check_interrupt(epoch + 1, step + 1);
        opt.zero_grad();
        loss.backward();
        opt.step();
        sq += err.item<double>() * static_cast<double>(end - begin);
        loss_sum += loss_value * static_cast<double>(end - begin);
        if (o.verbose == 1) bar.update(step + 1, {{"loss", loss_sum / static_cast<double>(end)}});
      }
      const ProgressValues logs{{"loss", loss_sum / static_cast<double>(n)}, {"rmse", std::sqrt(sq / static_cast<double>(n))}};
      bar.finish(logs);
      for (const auto& [k, v] : logs) history.record(k, v);
    }
    return history;
  }

  History fit_bpr(const Dataset& train, const FitOptions& o, optim::Optimizer& opt, Generator& gen) {
    History history;
    const std::int64_t n_items = train.num_items();
    // Pairs (interaction row, k-th negative): each interaction meets options.negatives negatives.
    const std::int64_t n = train.size() * o.negatives, steps = (n + o.batch_size - 1) / o.batch_size;
    std::vector<std::int64_t> u, i, j;
    for (int epoch = 0; epoch < o.epochs; ++epoch) {
      if (o.verbose > 0) std::fprintf(o.out, "Epoch %d/%d\n", epoch + 1, o.epochs);
      ProgressBar bar(steps, o.verbose, o.out);
      const std::vector<std::int64_t> order = epoch_order(n, gen);
      double loss_sum = 0, correct = 0;
      for (std::int64_t step = 0; step < steps; ++step) {
        const std::int64_t begin = step * o.batch_size, end = std::min(n, begin + o.batch_size);
        u.clear(), i.clear(), j.clear();
        for (std::int64_t k = begin; k < end; ++k) {
          const Interaction& x = train[order[static_cast<std::size_t>(k)] / o.negatives];
          u.push_back(x.user), i.push_back(x.item);
          j.push_back(sample_unseen(x.user, n_items, gen));
        }
        const std::int64_t b = end - begin;
        const Tensor uid = ids(u), iid = ids(i), jid = ids(j);
        const Tensor pu = net_->user_factors(uid), qi = net_->item_factors(iid), qj = net_->item_factors(jid);
        const Tensor bi = net_->item_bias(iid), bj = net_->item_bias(jid);
        const Tensor diff = sum(pu * (qi - qj), 1) + (bi - bj).reshape({b});
        const Tensor fit = binary_cross_entropy_with_logits(diff, ones({b}));  // -log σ(diff)
        const Tensor loss = o.l2 > 0 ? fit + penalty({pu, qi, qj, bi, bj}) * o.l2 : fit;
        const double loss_value = loss.item<double>();
        check_finite_loss(loss_value, "mf.fit", epoch + 1, step + 1, opt.lr());
        check_interrupt(epoch + 1, step + 1);
        opt.zero_grad();
        loss.backward();
        opt.step();
        loss_sum += loss_value * static_cast<double>(b);
        for (double d : diff.to_vector<double>()) correct += d > 0;
        if (o.verbose == 1) bar.update(step + 1, {{"loss", loss_sum / static_cast<double>(end)}});
      }
      // pair_accuracy: how often the positive outscored its negative, the quantity BPR smooths (an AUC).
      const ProgressValues logs{{"loss", loss_sum / static_cast<double>(n)}, {"pair_accuracy", correct / static_cast<double>(n)}};
      bar.finish(logs);
      for (const auto& [k, v] : logs) history.record(k, v);
    }
    return history;
  }

  /// An item user u has not interacted with, uniformly (rejection sampling; a user who has seen
  /// everything gets any item, since there is nothing else to contrast with).
  std::int64_t sample_unseen(std::int64_t user, std::int64_t n_items, Generator& gen) const {
    const std::vector<std::int64_t>& s = seen_unchecked(user);
    if (static_cast<std::int64_t>(s.size()) >= n_items) return static_cast<std::int64_t>(gen.below(static_cast<std::uint64_t>(n_items)));
    for (;;) {
      const auto j = static_cast<std::int64_t>(gen.below(static_cast<std::uint64_t>(n_items)));
      if (!std::binary_search(s.begin(), s.end(), j)) return j;
    }
  }

  std::unique_ptr<FactorModel> net_;
  double mu_ = 0;
  double threshold_ = 4;
  std::optional<std::pair<double, double>> scale_;  ///< predicted ratings are clipped to it ("mse")
};

}  // namespace recsys::rec
