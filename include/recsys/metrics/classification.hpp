// recsys/metrics/classification.hpp — accuracy, precision/recall/F1, confusion matrix, ROC-AUC, average precision and log loss, defined as scikit-learn defines them.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <vector>

#include "recsys/metrics/common.hpp"

namespace recsys::metrics {

/// 1 where score > threshold, else 0 (Keras's binary accuracy rule: a score of exactly 0.5 is negative).
inline std::vector<int> threshold_scores(std::span<const double> scores, double threshold = 0.5) {
  std::vector<int> out(scores.size());
  for (std::size_t i = 0; i < scores.size(); ++i) out[i] = scores[i] > threshold ? 1 : 0;
  return out;
}

/// The threshold t that maximises the accuracy of "score > t" against 0/1 labels: a decision rule
/// learned from data (say the training rows) instead of a fixed cut. Cuts fall halfway between two
/// distinct scores; on equal accuracy the lowest cut wins. Scores must be finite.
inline double best_accuracy_threshold(std::span<const int> y_true, std::span<const double> scores) {
  RECSYS_CHECK(y_true.size() == scores.size(), "best_accuracy_threshold: ", y_true.size(), " labels but ", scores.size(),
               " scores");
  RECSYS_CHECK(!scores.empty(), "best_accuracy_threshold: no samples");
  detail::check_finite("best_accuracy_threshold", "scores", scores);
  std::vector<std::pair<double, int>> scored(scores.size());
  for (std::size_t k = 0; k < scores.size(); ++k) scored[k] = {scores[k], y_true[k]};
  std::sort(scored.begin(), scored.end());
  // Cutting just below scored[k] predicts rows k.. as positive; sweep k, keep the best accuracy.
  double positives = 0;
  for (const auto& [score, label] : scored) positives += label != 0;
  double correct = positives, best = positives;  // k = 0: everything predicted positive
  double cut = scored.front().first - 1e-6 * std::max(1.0, std::fabs(scored.front().first));
  for (std::size_t k = 1; k <= scored.size(); ++k) {
    correct += scored[k - 1].second != 0 ? -1.0 : 1.0;
    if (k < scored.size() && scored[k].first == scored[k - 1].first) continue;  // cut only between distinct scores
    if (correct > best) {
      best = correct;
      cut = k < scored.size() ? 0.5 * (scored[k - 1].first + scored[k].first) : scored.back().first;
    }
  }
  return cut;
}

/// Fraction of samples whose predicted label equals the true label (any integer labels).
inline double accuracy(std::span<const int> y_true, std::span<const int> y_pred) {
  detail::check_pair("accuracy", y_true.size(), y_pred.size(), "y_pred");
  std::int64_t correct = 0;
  for (std::size_t i = 0; i < y_true.size(); ++i) correct += y_true[i] == y_pred[i];
  return static_cast<double>(correct) / static_cast<double>(y_true.size());
}

/// Counts per (true label, predicted label); rows are true labels, columns predicted, as in sklearn.
struct ConfusionMatrix {
  std::vector<int> labels;            // sorted; row/column i is labels[i]
  std::vector<std::int64_t> counts;   // row-major, labels.size() squared

  std::int64_t n_labels() const { return static_cast<std::int64_t>(labels.size()); }
  /// Count at row i (true labels[i]), column j (predicted labels[j]).
  std::int64_t at(std::int64_t i, std::int64_t j) const {
    RECSYS_CHECK(i >= 0 && j >= 0 && i < n_labels() && j < n_labels(), "confusion_matrix: index (", i, ", ", j,
                 ") is outside a ", n_labels(), "x", n_labels(), " matrix");
    return counts[static_cast<std::size_t>(i * n_labels() + j)];
  }
  /// Number of samples with true label `t` predicted as `p`.
  std::int64_t count(int t, int p) const { return at(index_of(t), index_of(p)); }
  /// Row of `label`.
  std::int64_t index_of(int label) const {
    const auto it = std::lower_bound(labels.begin(), labels.end(), label);
    RECSYS_CHECK(it != labels.end() && *it == label, "confusion_matrix: label ", label, " is not in the matrix");
    return it - labels.begin();
  }
};

/// The confusion matrix over `labels` (sklearn: samples whose true or predicted label is not listed are
/// ignored); with no labels given, over the sorted union of the labels in y_true and y_pred.
inline ConfusionMatrix confusion_matrix(std::span<const int> y_true, std::span<const int> y_pred,
                                        std::span<const int> labels = {}) {
  detail::check_pair("confusion_matrix", y_true.size(), y_pred.size(), "y_pred");
  ConfusionMatrix cm;
  if (labels.empty()) {
    cm.labels.assign(y_true.begin(), y_true.end());
    cm.labels.insert(cm.labels.end(), y_pred.begin(), y_pred.end());
  } else {
    cm.labels.assign(labels.begin(), labels.end());
  }
  std::sort(cm.labels.begin(), cm.labels.end());
  const bool has_duplicates = std::adjacent_find(cm.labels.begin(), cm.labels.end()) != cm.labels.end();
  RECSYS_CHECK(labels.empty() || !has_duplicates, "confusion_matrix: `labels` lists a label twice");
  cm.labels.erase(std::unique(cm.labels.begin(), cm.labels.end()), cm.labels.end());
  const std::size_t k = cm.labels.size();
  cm.counts.assign(k * k, 0);
  const auto find = [&](int label) -> std::ptrdiff_t {
    const auto it = std::lower_bound(cm.labels.begin(), cm.labels.end(), label);
    return it != cm.labels.end() && *it == label ? it - cm.labels.begin() : -1;
  };
  for (std::size_t s = 0; s < y_true.size(); ++s) {
    const std::ptrdiff_t i = find(y_true[s]), j = find(y_pred[s]);
    if (i >= 0 && j >= 0) ++cm.counts[static_cast<std::size_t>(i) * k + static_cast<std::size_t>(j)];
  }
  return cm;
}

/// How per-class scores become one number (sklearn's `average`).
enum class Average {
  binary,    // the score of pos_label only; at most two distinct labels allowed
  micro,     // from the total true/false positives over all classes
  macro,     // unweighted mean over classes
  weighted,  // mean over classes weighted by each class's number of true samples
};

/// Options of precision, recall and f1.
struct PrfOptions {
  Average average = Average::binary;
  int pos_label = 1;
  /// The value of a ratio whose denominator is zero (sklearn's zero_division; its default also yields 0).
  double zero_division = 0.0;
};

namespace detail {

enum class Prf { precision, recall, f1 };

inline double prf(Prf which, const char* name, std::span<const int> y_true, std::span<const int> y_pred,
                  const PrfOptions& opt) {
  const ConfusionMatrix cm = confusion_matrix(y_true, y_pred);
  const std::int64_t k = cm.n_labels();
  // Per class c: tp = cm(c, c), predicted = column sum, actual (support) = row sum.
  std::vector<std::int64_t> tp(k), predicted(k, 0), actual(k, 0);
  for (std::int64_t i = 0; i < k; ++i) {
    tp[i] = cm.at(i, i);
    for (std::int64_t j = 0; j < k; ++j) {
      actual[i] += cm.at(i, j);
      predicted[j] += cm.at(i, j);
    }
  }
  const auto score = [&](std::int64_t t, std::int64_t pred, std::int64_t act) {
    const std::int64_t den = which == Prf::precision ? pred : which == Prf::recall ? act : pred + act;
    const std::int64_t num = which == Prf::f1 ? 2 * t : t;
    return den == 0 ? opt.zero_division : static_cast<double>(num) / static_cast<double>(den);
  };
  switch (opt.average) {
    case Average::binary: {
      RECSYS_CHECK(k <= 2, name, ": average=binary needs at most two distinct labels, got ", k,
                   " (use Average::macro, micro or weighted for multiclass targets)");
      const auto it = std::find(cm.labels.begin(), cm.labels.end(), opt.pos_label);
      RECSYS_CHECK(it != cm.labels.end() || k < 2, name, ": pos_label ", opt.pos_label,
                   " is not one of the labels present (", cm.labels[0], ", ", cm.labels[1], ")");
      if (it == cm.labels.end()) return score(0, 0, 0);  // pos_label never occurs: every ratio is 0/0
      const std::int64_t c = it - cm.labels.begin();
      return score(tp[c], predicted[c], actual[c]);
    }
    case Average::micro: {
      const std::int64_t t = std::accumulate(tp.begin(), tp.end(), std::int64_t{0});
      const auto n = static_cast<std::int64_t>(y_true.size());
      return score(t, n, n);
    }
    case Average::macro:
    case Average::weighted: {
      double sum = 0, weight_sum = 0;
      for (std::int64_t c = 0; c < k; ++c) {
        // sklearn's labels are the union of y_true and y_pred, so a class may have zero support.
        const double w = opt.average == Average::macro ? 1.0 : static_cast<double>(actual[c]);
        sum += w * score(tp[c], predicted[c], actual[c]);
        weight_sum += w;
      }
      return sum / weight_sum;
    }
  }
  RECSYS_FAIL(name, ": invalid average ", static_cast<int>(opt.average));
}

}  // namespace detail

/// tp / (tp + fp): of the samples predicted positive, the fraction that are.
inline double precision(std::span<const int> y_true, std::span<const int> y_pred, const PrfOptions& opt = {}) {
  return detail::prf(detail::Prf::precision, "precision", y_true, y_pred, opt);
}
/// tp / (tp + fn): of the positive samples, the fraction found.
inline double recall(std::span<const int> y_true, std::span<const int> y_pred, const PrfOptions& opt = {}) {
  return detail::prf(detail::Prf::recall, "recall", y_true, y_pred, opt);
}
/// 2 tp / (2 tp + fp + fn), the harmonic mean of precision and recall.
inline double f1(std::span<const int> y_true, std::span<const int> y_pred, const PrfOptions& opt = {}) {
  return detail::prf(detail::Prf::f1, "f1", y_true, y_pred, opt);
}

namespace detail {

/// Per distinct score, from the highest down: how many positive and negative samples share it.
struct ScoreGroup {
  std::int64_t pos = 0, neg = 0;
};

inline std::vector<ScoreGroup> groups_by_score(const char* name, std::span<const int> y_true,
                                               std::span<const double> y_score) {
  check_pair(name, y_true.size(), y_score.size(), "y_score");
  check_binary(name, "y_true", y_true);
  check_finite(name, "y_score", y_score);
  std::vector<std::size_t> order(y_true.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return y_score[a] > y_score[b]; });
  std::vector<ScoreGroup> groups;
  for (std::size_t r = 0; r < order.size(); ++r) {
    if (r == 0 || y_score[order[r]] != y_score[order[r - 1]]) groups.emplace_back();
    (y_true[order[r]] == 1 ? groups.back().pos : groups.back().neg) += 1;
  }
  return groups;
}

}  // namespace detail

/// Area under the ROC curve of binary labels against scores: the probability that a random positive
/// scores above a random negative, ties counting one half (sklearn's trapezoidal rule gives the same).
/// sklearn warns and returns NaN when y_true has one class; we throw, since no value is meaningful.
inline double roc_auc(std::span<const int> y_true, std::span<const double> y_score) {
  const auto groups = detail::groups_by_score("roc_auc", y_true, y_score);
  // Twice the count of correctly ordered (positive, negative) pairs, ties worth one: exact in integers.
  std::uint64_t twice_pairs = 0;
  std::int64_t n_pos = 0, n_neg = 0;  // so far: the samples scored above the current group
  for (const auto& g : groups) {
    // Each negative here loses to every positive above (2 each) and ties with this group's positives (1 each).
    twice_pairs += static_cast<std::uint64_t>(g.neg) * static_cast<std::uint64_t>(2 * n_pos + g.pos);
    n_pos += g.pos;
    n_neg += g.neg;
  }
  RECSYS_CHECK(n_pos > 0 && n_neg > 0, "roc_auc: only one class is present in y_true (", n_pos, " positive, ", n_neg,
               " negative); ROC AUC is not defined");
  return static_cast<double>(twice_pairs) / (2.0 * static_cast<double>(n_pos) * static_cast<double>(n_neg));
}

/// Area under the precision-recall curve as sklearn's average_precision_score sums it:
/// sum over distinct thresholds of (recall step) x (precision there), with no interpolation.
inline double average_precision(std::span<const int> y_true, std::span<const double> y_score) {
  const auto groups = detail::groups_by_score("average_precision", y_true, y_score);
  std::int64_t n_pos = 0;
  for (const auto& g : groups) n_pos += g.pos;
  RECSYS_CHECK(n_pos > 0, "average_precision: y_true has no positive sample; average precision is not defined");
  double ap = 0;
  std::int64_t tp = 0, fp = 0;
  for (const auto& g : groups) {
    tp += g.pos;
    fp += g.neg;
    ap += (static_cast<double>(g.pos) / static_cast<double>(n_pos)) *
          (static_cast<double>(tp) / static_cast<double>(tp + fp));
  }
  return ap;
}

/// Mean binary cross-entropy of probabilities of the positive class. Probabilities are clipped to
/// [eps, 1 - eps] with eps the float64 machine epsilon, as sklearn does for float64 input. Labels are
/// fixed to {0, 1}, so one-class y_true is fine (sklearn asks for labels=[0, 1] in that case).
inline double log_loss(std::span<const int> y_true, std::span<const double> y_prob) {
  detail::check_pair("log_loss", y_true.size(), y_prob.size(), "y_prob");
  detail::check_binary("log_loss", "y_true", y_true);
  constexpr double eps = std::numeric_limits<double>::epsilon();
  double sum = 0;
  for (std::size_t i = 0; i < y_true.size(); ++i) {
    const double p = y_prob[i];
    RECSYS_CHECK(p >= 0.0 && p <= 1.0, "log_loss: y_prob[", i, "] is ", p, " (probabilities lie in [0, 1])");
    const double q = std::clamp(y_true[i] == 1 ? p : 1.0 - p, eps, 1.0 - eps);
    sum -= std::log(q);
  }
  return sum / static_cast<double>(y_true.size());
}

// ---- Tensor overloads: labels may be stored in any dtype but must be whole numbers. ----

inline double accuracy(const Tensor& y_true, const Tensor& y_pred) {
  return accuracy(detail::labels_of("accuracy", "y_true", y_true), detail::labels_of("accuracy", "y_pred", y_pred));
}
inline double precision(const Tensor& y_true, const Tensor& y_pred, const PrfOptions& opt = {}) {
  return precision(detail::labels_of("precision", "y_true", y_true), detail::labels_of("precision", "y_pred", y_pred),
                   opt);
}
inline double recall(const Tensor& y_true, const Tensor& y_pred, const PrfOptions& opt = {}) {
  return recall(detail::labels_of("recall", "y_true", y_true), detail::labels_of("recall", "y_pred", y_pred), opt);
}
inline double f1(const Tensor& y_true, const Tensor& y_pred, const PrfOptions& opt = {}) {
  return f1(detail::labels_of("f1", "y_true", y_true), detail::labels_of("f1", "y_pred", y_pred), opt);
}
inline ConfusionMatrix confusion_matrix(const Tensor& y_true, const Tensor& y_pred) {
  return confusion_matrix(detail::labels_of("confusion_matrix", "y_true", y_true),
                          detail::labels_of("confusion_matrix", "y_pred", y_pred));
}
inline double roc_auc(const Tensor& y_true, const Tensor& y_score) {
  return roc_auc(detail::labels_of("roc_auc", "y_true", y_true), detail::values_of("roc_auc", "y_score", y_score));
}
inline double average_precision(const Tensor& y_true, const Tensor& y_score) {
  return average_precision(detail::labels_of("average_precision", "y_true", y_true),
                           detail::values_of("average_precision", "y_score", y_score));
}
inline double log_loss(const Tensor& y_true, const Tensor& y_prob) {
  return log_loss(detail::labels_of("log_loss", "y_true", y_true), detail::values_of("log_loss", "y_prob", y_prob));
}
/// Accuracy of thresholded scores (score > threshold is class 1) against binary labels.
inline double binary_accuracy(const Tensor& y_true, const Tensor& y_score, double threshold = 0.5) {
  const std::vector<double> s = detail::values_of("binary_accuracy", "y_score", y_score);
  return accuracy(detail::labels_of("binary_accuracy", "y_true", y_true), threshold_scores(s, threshold));
}

}  // namespace recsys::metrics
