// recsys/rec/evaluation.hpp — evaluation protocols for recommenders: seeded rating splits with RMSE/MAE and baselines, classification metrics, stratified K-fold cross-validation; ranking protocols (holdout.hpp, ranking_evaluation.hpp) come with it.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "recsys/core/random.hpp"
#include "recsys/data/split.hpp"
#include "recsys/data/table.hpp"
#include "recsys/metrics/classification.hpp"
#include "recsys/metrics/ranking.hpp"
#include "recsys/metrics/regression.hpp"
#include "recsys/rec/ranking_evaluation.hpp"
#include "recsys/rec/recommender.hpp"

namespace recsys::rec {

// ---------------------------------------------------------------------------------------------
// Rating prediction: a seeded random split of the interactions, RMSE and MAE of the predicted
// ratings, and the two baselines any rating model must beat (the global mean, each item's mean).
// ---------------------------------------------------------------------------------------------

/// Two parts of one data set with the same catalogue.
struct TrainTest {
  Dataset train, test;
};

/// A seeded random split of the interactions: test_fraction of them (rounded up) in test. With
/// stratify, liked and not-liked interactions keep their shares in both parts.
inline TrainTest split_interactions(const Dataset& data, double test_fraction = 0.2, std::uint64_t seed = 42,
                                    bool stratify = false) {
  RECSYS_CHECK(data.size() >= 2, "split_interactions: needs at least 2 interactions, got ", data.size());
  data::Split s;
  if (stratify) {
    std::vector<int> liked;
    liked.reserve(static_cast<std::size_t>(data.size()));
    for (const Interaction& r : data.interactions()) liked.push_back(data.liked(r) ? 1 : 0);
    s = data::stratified_train_test_split(liked, test_fraction, seed);
  } else {
    s = data::train_test_split(data.size(), test_fraction, seed);
  }
  return {data.subset(s.train), data.subset(s.test)};
}

/// Errors of one rating predictor on a test set.
struct RatingMetrics {
  std::string model;
  std::int64_t n = 0;
  double rmse = 0, mae = 0;
  std::vector<double> errors;  ///< prediction - rating, one per test interaction (for paired A/B tests)
};

/// RMSE and MAE of `predictions` (one per interaction of `test`).
inline RatingMetrics rating_metrics(std::string model, std::span<const double> predictions, const Dataset& test) {
  RECSYS_CHECK(static_cast<std::int64_t>(predictions.size()) == test.size(), "rating_metrics: ", predictions.size(),
               " predictions for ", test.size(), " test interactions");
  std::vector<double> truth;
  truth.reserve(predictions.size());
  for (const Interaction& r : test.interactions()) truth.push_back(r.rating);
  RatingMetrics m;
  m.model = std::move(model);
  m.n = test.size();
  m.rmse = metrics::rmse(truth, predictions);
  m.mae = metrics::mae(truth, predictions);
  m.errors.resize(predictions.size());
  for (std::size_t k = 0; k < predictions.size(); ++k) m.errors[k] = predictions[k] - truth[k];
  return m;
}

/// RMSE and MAE of a model whose scores are predicted ratings (mf with loss "mse").
inline RatingMetrics evaluate_ratings(const Recommender& model, const Dataset& test) {
  const std::vector<double> p = model.predict(test);
  return rating_metrics(model.name(), p, test);
}

/// Every test rating predicted by the mean training rating.
inline RatingMetrics global_mean_baseline(const Dataset& train, const Dataset& test) {
  RECSYS_CHECK(!train.empty(), "global_mean_baseline: the training data is empty");
  const std::vector<double> p(static_cast<std::size_t>(test.size()), train.mean_rating());
  return rating_metrics("global_mean", p, test);
}

/// Each test rating predicted by its item's mean training rating (the global mean for items
/// without training ratings).
inline RatingMetrics item_mean_baseline(const Dataset& train, const Dataset& test) {
  RECSYS_CHECK(!train.empty(), "item_mean_baseline: the training data is empty");
  std::vector<double> sum(static_cast<std::size_t>(train.num_items()), 0.0), count(sum.size(), 0.0);
  for (const Interaction& r : train.interactions()) {
    sum[static_cast<std::size_t>(r.item)] += r.rating;
    count[static_cast<std::size_t>(r.item)] += 1;
  }
  const double global = train.mean_rating();
  std::vector<double> p;
  p.reserve(static_cast<std::size_t>(test.size()));
  for (const Interaction& r : test.interactions()) {
    const auto i = static_cast<std::size_t>(r.item);
    p.push_back(i < count.size() && count[i] > 0 ? sum[i] / count[i] : global);
  }
  return rating_metrics("item_mean", p, test);
}

// ---------------------------------------------------------------------------------------------
// Classification of "liked" (rating >= the data's like threshold): the seed's metrics.
// ---------------------------------------------------------------------------------------------

/// Accuracy, precision, recall and F1 of the positive class at a threshold, and the AUC of the scores.
struct ClassificationMetrics {
  std::string model;
  std::int64_t n = 0;
  double threshold = 0.5;
  double accuracy = 0, precision = 0, recall = 0, f1 = 0;
  double auc = std::nan("");          ///< NaN when the labels hold one class only
  std::vector<double> correct;        ///< per row: 1 when the thresholded score matches the label
};

/// The metrics of `scores` against 0/1 `labels`; a score above `threshold` predicts 1.
inline ClassificationMetrics classification_metrics(std::string model, std::span<const int> labels,
                                                    std::span<const double> scores, double threshold) {
  RECSYS_CHECK(labels.size() == scores.size(), "classification_metrics: ", labels.size(), " labels but ",
               scores.size(), " scores");
  RECSYS_CHECK(!labels.empty(), "classification_metrics: no samples");
  const std::vector<int> predicted = metrics::threshold_scores(scores, threshold);
  ClassificationMetrics m;
  m.model = std::move(model);
  m.n = static_cast<std::int64_t>(labels.size());
  m.threshold = threshold;
  m.accuracy = metrics::accuracy(labels, predicted);
  m.precision = metrics::precision(labels, predicted);
  m.recall = metrics::recall(labels, predicted);
  m.f1 = metrics::f1(labels, predicted);
  const bool both = std::find(labels.begin(), labels.end(), 0) != labels.end() &&
                    std::find(labels.begin(), labels.end(), 1) != labels.end();
  if (both) m.auc = metrics::roc_auc(labels, scores);
  m.correct.resize(labels.size());
  for (std::size_t k = 0; k < labels.size(); ++k) m.correct[k] = predicted[k] == labels[k] ? 1.0 : 0.0;
  return m;
}

/// The liked labels of `test`, one per interaction.
inline std::vector<int> liked_labels(const Dataset& test) {
  std::vector<int> y;
  y.reserve(static_cast<std::size_t>(test.size()));
  for (const Interaction& r : test.interactions()) y.push_back(test.liked(r) ? 1 : 0);
  return y;
}

/// How well the model's predictions on `test` tell liked from not liked, at its decision threshold.
inline ClassificationMetrics evaluate_classification(const Recommender& model, const Dataset& test) {
  const std::optional<double> threshold = model.decision_threshold();
  RECSYS_CHECK(threshold.has_value(), "evaluate_classification: model '", model.name(),
               "' does not predict likes (its scores have no decision threshold)");
  const std::vector<double> scores = model.predict(test);
  return classification_metrics(model.name(), liked_labels(test), scores, *threshold);
}

/// The folds of a cross-validation and their mean and (sample) standard deviation of accuracy.
struct CrossValidation {
  std::vector<ClassificationMetrics> folds;
  double mean_accuracy = 0, std_accuracy = 0;
  double mean_auc = 0, mean_f1 = 0;
  std::vector<std::int64_t> fold_of_row;  ///< each row's test fold (0-based), in data order
  std::vector<double> scores;             ///< each row's out-of-fold prediction, in data order
  std::vector<double> correct;            ///< each row's 1 / 0: that prediction was right, in data order
  std::vector<FitOptions> fold_options;   ///< what each fold's model was fitted with
};

/// The options one fold's model is fitted with, chosen from that fold's training rows only (nested
/// tuning: the fold's test rows are never looked at).
using FoldOptions = std::function<FitOptions(const Dataset& fold_train, std::size_t fold)>;

/// Stratified K-fold cross-validation (data::StratifiedKFold, shuffled with `seed`) of a fresh
/// make_recommender(kind, options) per fold: fit on K-1 folds, evaluate_classification on the last.
/// With `choose`, each fold's options come from choose(fold's training rows, fold) instead.
inline CrossValidation cross_validate(const std::string& kind, const Dataset& data, const FitOptions& options,
                                      std::int64_t folds = 5, std::uint64_t seed = 42,
                                      const FoldOptions& choose = {}) {
  const std::vector<int> y = liked_labels(data);
  // Before the first fold: a class with fewer rows than folds leaves some test fold without it,
  // and that fold's AUC, precision or recall is undefined (NaN) after every fold has been trained.
  const auto liked = static_cast<std::int64_t>(std::count(y.begin(), y.end(), 1));
  const auto other = static_cast<std::int64_t>(y.size()) - liked;
  RECSYS_CHECK(liked >= folds && other >= folds, "cross_validate: ", folds, "-fold cross-validation needs at least ",
               folds, " liked and ", folds, " not-liked interactions (liked = rating >= ", data.like_threshold(),
               "), and these data have ", liked, " liked and ", other,
               " not liked; use fewer folds or a protocol that ranks (split, leave-last-out)");
  const std::vector<data::Split> splits = data::StratifiedKFold(folds, true, seed).split(y);
  CrossValidation cv;
  cv.fold_of_row.assign(y.size(), -1);
  cv.scores.assign(y.size(), 0.0);
  cv.correct.assign(y.size(), 0.0);
  for (std::size_t f = 0; f < splits.size(); ++f) {
    const data::Split& s = splits[f];
    const Dataset train = data.subset(s.train);
    cv.fold_options.push_back(choose ? choose(train, f) : options);
    std::unique_ptr<Recommender> model = make_recommender(kind, cv.fold_options.back());
    model->fit(train);
    const std::optional<double> threshold = model->decision_threshold();
    RECSYS_CHECK(threshold.has_value(), "cross_validate: model '", model->name(),
                 "' does not predict likes (its scores have no decision threshold)");
    const std::vector<double> scores = model->predict(data.subset(s.test));
    std::vector<int> labels;
    for (std::size_t k = 0; k < s.test.size(); ++k) {
      const auto row = static_cast<std::size_t>(s.test[k]);
      cv.fold_of_row[row] = static_cast<std::int64_t>(f);
      cv.scores[row] = scores[k];
      labels.push_back(y[row]);
    }
    cv.folds.push_back(classification_metrics(model->name(), labels, scores, *threshold));
    for (std::size_t k = 0; k < s.test.size(); ++k)
      cv.correct[static_cast<std::size_t>(s.test[k])] = cv.folds.back().correct[k];
  }
  const double n = static_cast<double>(cv.folds.size());
  for (const ClassificationMetrics& f : cv.folds) {
    cv.mean_accuracy += f.accuracy / n;
    cv.mean_auc += f.auc / n;
    cv.mean_f1 += f.f1 / n;
  }
  for (const ClassificationMetrics& f : cv.folds)
    cv.std_accuracy += (f.accuracy - cv.mean_accuracy) * (f.accuracy - cv.mean_accuracy);
  cv.std_accuracy = std::sqrt(cv.std_accuracy / (n - 1));
  return cv;
}

}  // namespace recsys::rec
