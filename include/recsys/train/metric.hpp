// recsys/train/metric.hpp — the metrics compile() accepts and the tracker that accumulates them batch by batch.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "recsys/core/tensor.hpp"
#include "recsys/metrics/classification.hpp"
#include "recsys/train/progress.hpp"

namespace recsys::train {

/// What fit() reports per epoch and callbacks receive: ("loss", 0.31), ("accuracy", 0.9), ("val_loss", ...).
using Logs = ProgressValues;

/// The value logged under `key`, if any.
inline std::optional<double> find_log(const Logs& logs, const std::string& key) {
  for (const auto& [k, v] : logs)
    if (k == key) return v;
  return std::nullopt;
}

/// Keras's metric names. With one score per sample (an (N) or (N, 1) output) accuracy is binary
/// accuracy (score > 0.5, or > 0 for a loss on logits; targets above 0.5 are positive); with (N, C)
/// outputs it is categorical accuracy (the arg-max against class ids or one-hot targets).
enum class Metric : std::uint8_t { accuracy, auc, precision, recall, mae, mse };

inline const char* metric_name(Metric m) {
  switch (m) {
    case Metric::accuracy: return "accuracy";
    case Metric::auc: return "auc";
    case Metric::precision: return "precision";
    case Metric::recall: return "recall";
    case Metric::mae: return "mae";
    case Metric::mse: return "mse";
  }
  return "?";
}

/// Accumulates predictions against targets over an epoch, one batch at a time, so that every value
/// is exact for the whole epoch (sums and counts, not averages of per-batch averages). AUC keeps the
/// epoch's scores; the others keep a few counters.
class MetricTracker {
 public:
  MetricTracker(std::vector<Metric> metrics, bool from_logits) : metrics_(std::move(metrics)), from_logits_(from_logits) {}

  /// Starts a new epoch; `samples` sizes AUC's buffers once, so update() does not reallocate.
  void reset(std::int64_t samples) {
    correct_ = seen_ = tp_ = fp_ = fn_ = elements_ = 0;
    abs_sum_ = sq_sum_ = 0;
    scores_.clear();
    labels_.clear();
    if (wants(Metric::auc)) {
      scores_.reserve(static_cast<std::size_t>(samples));
      labels_.reserve(static_cast<std::size_t>(samples));
    }
  }

  /// Adds one batch: predictions (N, ...) and targets prepared by the model (values shaped like the
  /// predictions, or class ids (N)). Both on the host.
  void update(const Tensor& prediction, const Tensor& target) {
    if (metrics_.empty()) return;
    const Tensor p = prediction.cpu().contiguous(), t = target.cpu().contiguous();
    const std::int64_t rows = p.dim() == 0 ? 1 : p.size(0);
    const bool binary = p.numel() == rows;
    const bool ids = !t.is_floating_point();
    // Integer targets with one score per sample are 0/1 labels; with (N, C) scores, class ids.
    const std::int64_t expected = binary || !ids ? p.numel() : rows;
    RECSYS_CHECK(t.numel() == expected, "metrics: predictions have shape ", p.shape(), " but targets have shape ",
                 t.shape(), " (expected ", expected, " target values)");
    visit_floating(p.dtype(), "metrics", [&]<class T>() {
      const T* pv = p.data<T>();
      visit_dtype(t.dtype(), [&]<class U>() {
        const U* tv = t.data<U>();
        for (Metric m : metrics_) check(m, p, binary, ids);
        if (binary) add_binary(pv, tv, rows);
        else if (wants(Metric::accuracy)) add_categorical(pv, tv, rows, p.numel() / rows, ids);
        if (wants(Metric::mae) || wants(Metric::mse)) {
          for (std::int64_t i = 0; i < p.numel(); ++i) {
            const double d = static_cast<double>(pv[i]) - static_cast<double>(tv[i]);
            abs_sum_ += std::fabs(d);
            sq_sum_ += d * d;
          }
          elements_ += p.numel();
        }
      });
    });
    seen_ += rows;
  }

  /// The metric's value over everything added since reset() (NaN before any sample, and for AUC
  /// when only one class has been seen).
  double value(Metric m) const {
    const auto ratio = [](double a, double b) { return b > 0 ? a / b : std::numeric_limits<double>::quiet_NaN(); };
    switch (m) {
      case Metric::accuracy: return ratio(static_cast<double>(correct_), static_cast<double>(seen_));
      case Metric::precision: return ratio(static_cast<double>(tp_), static_cast<double>(tp_ + fp_));
      case Metric::recall: return ratio(static_cast<double>(tp_), static_cast<double>(tp_ + fn_));
      case Metric::mae: return ratio(abs_sum_, static_cast<double>(elements_));
      case Metric::mse: return ratio(sq_sum_, static_cast<double>(elements_));
      case Metric::auc: {
        std::int64_t positives = 0;
        for (int l : labels_) positives += l;
        if (positives == 0 || positives == static_cast<std::int64_t>(labels_.size()))
          return std::numeric_limits<double>::quiet_NaN();
        return metrics::roc_auc(labels_, scores_);
      }
    }
    return std::numeric_limits<double>::quiet_NaN();
  }

  /// Appends (prefix + name, value) for each metric. `cheap_only` leaves AUC out: the progress bar
  /// asks after every batch, and AUC costs a sort of the epoch so far.
  void append_to(Logs& logs, const std::string& prefix = "", bool cheap_only = false) const {
    for (Metric m : metrics_)
      if (!(cheap_only && m == Metric::auc)) logs.emplace_back(prefix + metric_name(m), value(m));
  }

  const std::vector<Metric>& metrics() const { return metrics_; }

 private:
  bool wants(Metric m) const {
    for (Metric x : metrics_)
      if (x == m) return true;
    return false;
  }

  static void check(Metric m, const Tensor& p, bool binary, bool ids) {
    const bool needs_binary = m == Metric::auc || m == Metric::precision || m == Metric::recall;
    RECSYS_CHECK(!needs_binary || binary, metric_name(m), ": needs one score per sample ((N) or (N, 1) predictions), got shape ",
                 p.shape());
    RECSYS_CHECK(!((m == Metric::mae || m == Metric::mse) && ids), metric_name(m),
                 ": needs targets shaped like the predictions, not class ids");
  }

  template <class T, class U>
  void add_binary(const T* p, const U* t, std::int64_t rows) {
    const double threshold = from_logits_ ? 0.0 : 0.5;
    const bool keep_scores = wants(Metric::auc);
    for (std::int64_t i = 0; i < rows; ++i) {
      const bool predicted = static_cast<double>(p[i]) > threshold;
      const bool actual = static_cast<double>(t[i]) > 0.5;
      correct_ += predicted == actual;
      tp_ += predicted && actual;
      fp_ += predicted && !actual;
      fn_ += !predicted && actual;
      if (keep_scores) {
        scores_.push_back(static_cast<double>(p[i]));
        labels_.push_back(actual ? 1 : 0);
      }
    }
  }

  template <class T, class U>
  void add_categorical(const T* p, const U* t, std::int64_t rows, std::int64_t classes, bool ids) {
    const auto arg_max = [classes](const auto* row) {
      std::int64_t best = 0;
      for (std::int64_t c = 1; c < classes; ++c)
        if (row[c] > row[best]) best = c;
      return best;
    };
    for (std::int64_t i = 0; i < rows; ++i) {
      const std::int64_t truth = ids ? static_cast<std::int64_t>(t[i]) : arg_max(t + i * classes);
      correct_ += arg_max(p + i * classes) == truth;
    }
  }

  std::vector<Metric> metrics_;
  bool from_logits_;
  std::int64_t correct_ = 0, seen_ = 0, tp_ = 0, fp_ = 0, fn_ = 0, elements_ = 0;
  double abs_sum_ = 0, sq_sum_ = 0;
  std::vector<double> scores_;
  std::vector<int> labels_;
};

}  // namespace recsys::train
