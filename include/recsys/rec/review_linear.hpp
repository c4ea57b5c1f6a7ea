// recsys/rec/review_linear.hpp — ReviewLinear: TF-IDF of word 1–2-grams + logistic regression, the linear text baseline beside the seed's CNN-LSTM review model.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "recsys/core/factory.hpp"
#include "recsys/cpu/loss.hpp"
#include "recsys/data/vectorizer.hpp"
#include "recsys/optim/adam.hpp"
#include "recsys/optim/lr_scheduler.hpp"
#include "recsys/optim/sgd.hpp"
#include "recsys/rec/interface.hpp"
#include "recsys/rec/reviews.hpp"

namespace recsys::rec {

/// Review text → liked, the way a text-classification practitioner would start: TF-IDF over word
/// 1- and 2-grams (scikit-learn's TfidfVectorizer(ngram_range=(1, 2)) numbers: data/vectorizer.hpp)
/// and an L2-regularized logistic regression,
///     minimize  (1/N) Σ_r BCE(σ(x_r·w + b), y_r) + (l2 / 2)·‖w‖²,
/// the objective of sklearn's LogisticRegression with C = 1 / (l2 · N). It is fitted with our Adam
/// (or SGD) in full-batch steps, one per epoch, the learning rate annealed to 0 by a cosine: the
/// problem is convex, so this reaches the optimum rather than a mini-batch neighbourhood of it, and
/// the fit is the same on any number of threads. On the UCI sentences it is the bar the CNN-LSTM
/// has to clear (README). As a recommender it is, like ReviewClassifier, not personal.
class ReviewLinear : public Recommender {
 public:
  explicit ReviewLinear(FitOptions options = {}) : Recommender(std::move(options)) {}
  std::string name() const override { return "review-linear"; }
  Capabilities capabilities() const override { return {.ranks_items = false, .needs_reviews = true}; }
  std::optional<double> decision_threshold() const override { return 0.5; }
  /// The penalty decides everything here; the grid runs from sklearn's C = 1 at a thousand reviews down to C = 40.
  std::vector<TuningAxis> tuning_grid() const override {
    return {{"l2", {json::Value(3e-5), json::Value(1e-4), json::Value(3e-4), json::Value(1e-3)}}};
  }

  /// The TF-IDF vocabulary, in weight order.
  const std::vector<std::string>& terms() const { return vectorizer_.feature_names(); }
  /// One weight per term, and the bias.
  const std::vector<double>& weights() const { return w_; }
  double bias() const { return b_; }
  /// P(liked) for each text.
  std::vector<double> predict_texts(const std::vector<std::string>& texts) const {
    require_fitted("predict_texts");
    return probabilities(texts);
  }
  /// Each item's score: the mean P(liked) of its training reviews.
  const std::vector<double>& item_scores() const { return item_score_; }

 private:
  std::vector<double> probabilities(const std::vector<std::string>& texts) const {
    std::vector<double> p(texts.size());
    if (texts.empty()) return p;
    vectorizer_.transform(texts).multiply(w_, p);
    for (double& z : p) z = sigmoid(z + b_);
    return p;
  }

 protected:
  History fit_model(const Dataset& train, const FitOptions& o) override {
    RECSYS_CHECK(o.l2 >= 0 && std::isfinite(o.l2), "review-linear.fit: l2 must be finite and >= 0, got ", o.l2);
    RECSYS_CHECK(o.vocab_size >= 1, "review-linear.fit: vocab_size (most frequent n-grams kept) must be >= 1, got ",
                 o.vocab_size);
    const detail::TrainingReviews reviews = detail::training_reviews(train, "review-linear.fit");
    vectorizer_ = make_vectorizer(o);
    const data::CsrMatrix x = vectorizer_.fit_transform(reviews.texts);
    const auto n = static_cast<std::size_t>(x.rows);

    // The parameters live in two float64 tensors the optimizer updates; their gradients are
    // written in place each step (the objective's gradient is two sparse products).
    Tensor w = zeros({x.cols}, DType::float64).set_requires_grad();
    Tensor b = zeros({1}, DType::float64).set_requires_grad();
    w.set_grad(zeros({x.cols}, DType::float64));
    b.set_grad(zeros({1}, DType::float64));
    std::unique_ptr<optim::Optimizer> opt;
    if (o.optimizer == "sgd") opt = std::make_unique<optim::SGD>(std::vector<Tensor>{w, b}, optim::SgdOptions{.lr = o.lr});
    else opt = std::make_unique<optim::Adam>(std::vector<Tensor>{w, b}, optim::AdamOptions{.lr = o.lr});
    optim::CosineAnnealingLR schedule(*opt, o.epochs);

    std::span<double> wv(w.data<double>(), static_cast<std::size_t>(x.cols));
    std::span<double> gw(w.grad().data<double>(), wv.size());
    std::vector<double> z(n), residual(n);
    History h;
    for (int epoch = 0; epoch < o.epochs; ++epoch) {
      const double bias = b.data<double>()[0];
      x.multiply(wv, z);
      double loss = 0, correct = 0, mean_residual = 0, penalty = 0;
      for (std::size_t r = 0; r < n; ++r) {
        const double logit = z[r] + bias, y = reviews.labels[r];
        // The loss ops' own element rules for BCE on a logit (stable on both sides; derivative σ(l) - y).
        loss += loss_value(LossOp::bce_logits, logit, y, 0.0);
        correct += (logit > 0) == (y > 0.5) ? 1 : 0;
        residual[r] = loss_derivative(LossOp::bce_logits, logit, y, 0.0) / static_cast<double>(n);
        mean_residual += residual[r];
      }
      for (std::size_t t = 0; t < wv.size(); ++t) {
        gw[t] = o.l2 * wv[t];
        penalty += wv[t] * wv[t];
      }
      x.multiply_transposed_add(residual, gw);
      b.grad().data<double>()[0] = mean_residual;
      const double objective = loss / static_cast<double>(n) + o.l2 / 2 * penalty;
      RECSYS_CHECK(std::isfinite(objective), "review-linear.fit: the objective is ", objective, " at epoch ", epoch + 1,
                   " (lr ", o.lr, "); lower --lr");
      h.record("loss", objective);
      h.record("accuracy", correct / static_cast<double>(n));
      opt->step();
      schedule.step();
    }
    w_ = w.to_vector<double>();
    b_ = b.data<double>()[0];
    item_score_ = detail::item_review_scores(train, reviews, probabilities(reviews.texts));
    return h;
  }

  void score_items(std::int64_t, std::span<const std::int64_t> items, std::span<double> out) const override {
    for (std::size_t k = 0; k < items.size(); ++k) out[k] = item_score_[static_cast<std::size_t>(items[k])];
  }

  std::vector<double> predict_rows(const Dataset& rows) const override {
    return detail::predict_review_rows(rows, item_score_, [&](const auto& texts) { return predict_texts(texts); });
  }

  NamedTensors state_tensors() const override {
    return {{"weights", from_vector(w_)},
            {"bias", from_vector(std::vector<double>{b_})},
            {"idf", from_vector(vectorizer_.idf())},
            {"item_scores", from_vector(item_score_)}};
  }
  json::Value state_json() const override {
    json::Value terms = json::Value::array();
    for (const std::string& t : vectorizer_.feature_names()) terms.push_back(t);
    json::Value v = json::Value::object();
    v["terms"] = std::move(terms);
    return v;
  }
  void restore(const Dataset& train, const FitOptions& o, const json::Value& state,
               const NamedTensors& tensors) override {
    RECSYS_CHECK(state.is_object() && state.contains("terms"), "review-linear.load: model.json has no terms");
    std::vector<std::string> terms;
    for (const json::Value& t : state.at("terms").as_array()) terms.push_back(t.as_string());
    std::vector<double> w = find_tensor(tensors, "weights").to_vector<double>();
    const std::vector<double> b = find_tensor(tensors, "bias").to_vector<double>();
    std::vector<double> idf = find_tensor(tensors, "idf").to_vector<double>();
    std::vector<double> items = find_tensor(tensors, "item_scores").to_vector<double>();
    RECSYS_CHECK(w.size() == terms.size() && idf.size() == terms.size() && b.size() == 1, "review-linear.load: ",
                 terms.size(), " terms but ", w.size(), " weights, ", idf.size(), " idf weights and ", b.size(),
                 " biases");
    RECSYS_CHECK(static_cast<std::int64_t>(items.size()) == train.num_items(), "review-linear.load: item_scores has ",
                 items.size(), " entries, expected ", train.num_items());
    data::TfidfVectorizer v = make_vectorizer(o);
    v.set_vocabulary(std::move(terms), std::move(idf));
    vectorizer_ = std::move(v);  // only now: a failed load leaves the model as it was
    w_ = std::move(w);
    b_ = b[0];
    item_score_ = std::move(items);
  }

 private:
  static double sigmoid(double z) { return z >= 0 ? 1 / (1 + std::exp(-z)) : std::exp(z) / (1 + std::exp(z)); }

  static data::TfidfVectorizer make_vectorizer(const FitOptions& o) {
    data::TfidfVectorizerOptions v;
    v.counts.ngram_max = 2;
    v.counts.max_features = o.vocab_size;
    return data::TfidfVectorizer(v);
  }

  data::TfidfVectorizer vectorizer_;
  std::vector<double> w_;
  double b_ = 0;
  std::vector<double> item_score_;
};

}  // namespace recsys::rec
