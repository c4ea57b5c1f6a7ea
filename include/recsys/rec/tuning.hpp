// recsys/rec/tuning.hpp — choosing a model's settings on validation rows carved from the training rows: the grid each model declares (Recommender::tuning_grid), one fit per point, the best point by a metric, never the test rows.
#pragma once

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "recsys/io/json.hpp"
#include "recsys/metrics/classification.hpp"
#include "recsys/rec/evaluation.hpp"
#include "recsys/rec/recommender.hpp"

namespace recsys::rec {

/// One point of a grid: its settings (a JSON object of FitOptions keys), its validation score and fit time.
struct TuningPoint {
  json::Value settings = json::Value::object();
  double score = 0;
  double fit_seconds = 0;
};

/// The whole search: every point tried, in grid order, and the one chosen.
struct TuningResult {
  std::string metric;             ///< "ndcg@10", "rmse", ...
  bool higher_is_better = true;
  std::vector<TuningPoint> points;
  std::size_t best = 0;           ///< index into points
  FitOptions chosen;              ///< the base options with the best point's settings

  std::size_t grid_size() const { return points.size(); }
  json::Value to_json() const {
    json::Value v = json::Value::object();
    v["metric"] = metric;
    v["higher_is_better"] = higher_is_better;
    v["grid_size"] = static_cast<std::int64_t>(points.size());
    json::Value all = json::Value::array();
    for (const TuningPoint& p : points) {
      json::Value x = json::Value::object();
      x["settings"] = p.settings;
      x[metric] = p.score;
      x["fit_seconds"] = p.fit_seconds;
      all.push_back(std::move(x));
    }
    v["points"] = std::move(all);
    v["chosen"] = points.empty() ? json::Value::object() : points[best].settings;
    return v;
  }
};

/// Every combination of the axes' values, the first axis varying slowest.
inline std::vector<json::Value> grid_points(const std::vector<TuningAxis>& axes) {
  std::vector<json::Value> points{json::Value::object()};
  for (const TuningAxis& a : axes) {
    RECSYS_CHECK(!a.values.empty(), "grid_points: axis '", a.option, "' has no values");
    std::vector<json::Value> next;
    for (const json::Value& p : points)
      for (const json::Value& v : a.values) {
        json::Value q = p;
        q[a.option] = v;
        next.push_back(std::move(q));
      }
    points = std::move(next);
  }
  return points;
}

/// Fits make_recommender(kind) on `fit_rows` once per point of the model's grid (or of `grid` when
/// given) and scores each fit with `score` (on validation rows the caller holds; never test rows).
/// Returns the points and the options of the best one. `out` gets one line per point (nullptr: quiet).
inline TuningResult tune(const std::string& kind, const FitOptions& base, const Dataset& fit_rows,
                         const std::function<double(const Recommender&)>& score, const std::string& metric,
                         bool higher_is_better, std::vector<TuningAxis> grid = {}, std::FILE* out = nullptr) {
  if (grid.empty()) grid = make_recommender(kind, base)->tuning_grid();
  TuningResult r;
  r.metric = metric;
  r.higher_is_better = higher_is_better;
  r.chosen = base;
  const std::vector<json::Value> points = grid.empty() ? std::vector<json::Value>{} : grid_points(grid);
  FitOptions quiet = base;
  quiet.verbose = 0;
  for (std::size_t n = 0; n < points.size(); ++n) {
    const FitOptions o = FitOptions::from_json(points[n], quiet);
    std::unique_ptr<Recommender> model = make_recommender(kind, o);
    const auto t0 = std::chrono::steady_clock::now();
    model->fit(fit_rows);
    TuningPoint p;
    p.fit_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    p.settings = points[n];
    p.score = score(*model);
    if (out) {
      std::fprintf(out, "  tune %zu/%zu %s: %s %.4f (fit %.1f s)\n", n + 1, points.size(),
                   json::dump(points[n]).c_str(), metric.c_str(), p.score, p.fit_seconds);
      std::fflush(out);
    }
    const bool better = r.points.empty() || (higher_is_better ? p.score > r.points[r.best].score
                                                              : p.score < r.points[r.best].score);
    if (better) r.best = r.points.size();
    r.points.push_back(std::move(p));
  }
  if (!r.points.empty()) {
    r.chosen = FitOptions::from_json(r.points[r.best].settings, base);
  }
  return r;
}

/// Nested tuning for cross_validate: each fold's settings are searched on a stratified split of
/// that fold's training rows (`validation_share` held out; AUC of liked, as the split protocol
/// tunes classifiers), so no fold's test rows choose the settings that are scored on them. A
/// model without a grid is fitted as given. `out` gets one line per fold (nullptr: quiet).
inline FoldOptions tune_each_fold(const std::string& kind, const FitOptions& base, double validation_share,
                                  std::uint64_t seed, std::FILE* out = nullptr) {
  return [=](const Dataset& fold_train, std::size_t fold) {
    const TrainTest v = split_interactions(fold_train, validation_share, seed + 1 + fold, true);
    const TuningResult r = tune(
        kind, base, v.train,
        [&](const Recommender& m) { return metrics::roc_auc(liked_labels(v.test), m.predict(v.test)); }, "auc", true);
    if (r.points.empty()) return base;
    if (out) {
      std::fprintf(out, "fold %zu: chose %s (validation auc %.4f)\n", fold + 1,
                   json::dump(r.points[r.best].settings).c_str(), r.points[r.best].score);
      std::fflush(out);
    }
    return r.chosen;
  };
}

}  // namespace recsys::rec
