// recsys/rec/review_classifier.hpp — ReviewClassifier: the seed's literal model, review text → liked (rating >= 4), and the item scores it gives by reading each item's reviews.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "recsys/core/factory.hpp"
#include "recsys/data/text.hpp"
#include "recsys/rec/reviews.hpp"
#include "recsys/rec/training.hpp"

namespace recsys::rec {

/// The seed document's pipeline as a model: review text → word ids (Keras' Tokenizer with
/// num_words = vocab_size: the vocab_size - 1 most frequent words of the training reviews, unknown
/// words dropped) → pad/truncate to max_length ('pre', as Keras) → the reference network →
/// P(liked). Trained on the training interactions that have a review, label liked(); compiled with
/// Adam (or SGD) and binary cross-entropy, as the seed's compile().
///
/// As a classifier: predict(rows) reads each row's review (rows without one get their item's
/// score), and predict_texts() reads any text — what turns unrated reviews into like signals.
/// As a recommender it is not personal: an item's score is the mean P(liked) of its training
/// reviews (the mean over all reviews for an item without any), the same for every user. It is the
/// educational example; use the others to recommend.
class ReviewClassifier : public Recommender {
 public:
  explicit ReviewClassifier(FitOptions options = {}) : Recommender(std::move(options)) {}
  std::string name() const override { return "review"; }
  /// Its item scores are not personal, so ranking protocols do not judge it.
  Capabilities capabilities() const override { return {.ranks_items = false, .needs_reviews = true}; }
  std::optional<double> decision_threshold() const override { return 0.5; }

  /// The word vocabulary.
  const data::Vocabulary& vocabulary() const { return vocab_; }
  /// The padded word ids of `texts`, as the network reads them: (n, max_length) int32.
  Tensor encode(const std::vector<std::string>& texts) const {
    return data::pad_sequences(vocab_.texts_to_sequences(texts), {.maxlen = options().max_length});
  }
  /// P(liked) for each text.
  std::vector<double> predict_texts(const std::vector<std::string>& texts) const {
    require_fitted("predict_texts");
    if (texts.empty()) return {};
    return model_->predict(encode(texts), {.batch_size = 256}).to_vector<double>();
  }
  /// Each item's score: the mean P(liked) of its training reviews.
  const std::vector<double>& item_scores() const { return item_score_; }
  /// The trained network.
  train::Model<ReferenceNet>& network() const { return *model_; }

 protected:
  History fit_model(const Dataset& train, const FitOptions& o) override {
    RECSYS_CHECK(o.vocab_size >= 2, "review.fit: vocab_size must be at least 2 (padding and one word), got ",
                 o.vocab_size);
    RECSYS_CHECK(o.max_length > 0, "review.fit: max_length must be positive, got ", o.max_length);
    check_network_options("review.fit", o, o.max_length);
    const detail::TrainingReviews reviews = detail::training_reviews(train, "review.fit");
    const std::vector<std::string>& texts = reviews.texts;
    vocab_ = data::Vocabulary::fit(texts, data::Tokenizer(), {.max_features = o.vocab_size - 1, .oov = false});
    model_ = std::make_unique<train::Model<ReferenceNet>>(make_reference_network(o.vocab_size, o, o.seed));
    model_->compile(optimizer_for(o), train::Loss::binary_crossentropy, {train::Metric::accuracy});
    const Tensor y = from_vector(reviews.labels, Shape{static_cast<std::int64_t>(texts.size()), 1});
    History h = model_->fit(encode(texts), y, {.epochs = o.epochs, .batch_size = o.batch_size, .shuffle = true,
                                               .seed = o.seed, .validation_split = o.validation_split,
                                               .verbose = o.verbose, .out = o.out});
    // Item scores from the trained network's reading of every training review.
    const std::vector<double> p = model_->predict(encode(texts), {.batch_size = 256}).to_vector<double>();
    item_score_ = detail::item_review_scores(train, reviews, p);
    return h;
  }

  void score_items(std::int64_t, std::span<const std::int64_t> items, std::span<double> out) const override {
    for (std::size_t n = 0; n < items.size(); ++n) out[n] = item_score_[static_cast<std::size_t>(items[n])];
  }

  std::vector<double> predict_rows(const Dataset& rows) const override {
    return detail::predict_review_rows(rows, item_score_, [&](const auto& texts) { return predict_texts(texts); });
  }

  NamedTensors state_tensors() const override {
    NamedTensors t = model_->named_parameters();
    t.emplace_back("item_scores", from_vector(item_score_));
    return t;
  }
  json::Value state_json() const override {
    json::Value words = json::Value::array();
    for (std::int64_t i = 1; i < vocab_.size(); ++i) words.push_back(vocab_.word(i));
    json::Value v = json::Value::object();
    v["vocabulary"] = std::move(words);
    return v;
  }
  void restore(const Dataset& train, const FitOptions& o, const json::Value& state,
               const NamedTensors& tensors) override {
    check_network_options("review.load", o, o.max_length);
    RECSYS_CHECK(state.is_object() && state.contains("vocabulary"), "review.load: model.json has no vocabulary");
    std::vector<std::string> words;
    for (const json::Value& w : state.at("vocabulary").as_array()) words.push_back(w.as_string());
    // Each saved word once, in id order: fit() gives them the same ids (ties keep first appearance).
    vocab_ = data::Vocabulary::fit(words, data::Tokenizer(), {.oov = false});
    RECSYS_CHECK(vocab_.size() == static_cast<std::int64_t>(words.size()) + 1 && vocab_.size() <= o.vocab_size,
                 "review.load: the saved vocabulary does not rebuild (", words.size(), " words, vocab_size ",
                 o.vocab_size, ")");
    model_ = std::make_unique<train::Model<ReferenceNet>>(make_reference_network(o.vocab_size, o, o.seed));
    load_parameters(model_->named_parameters(), tensors);
    const Tensor s = find_tensor(tensors, "item_scores");
    RECSYS_CHECK(s.dim() == 1 && s.size(0) == train.num_items(), "review.load: item_scores has shape ", s.shape(),
                 ", expected (", train.num_items(), ")");
    item_score_ = s.to_vector<double>();
  }

 private:
  data::Vocabulary vocab_;
  std::vector<double> item_score_;
  std::unique_ptr<train::Model<ReferenceNet>> model_;
};

}  // namespace recsys::rec
