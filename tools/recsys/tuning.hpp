// tools/recsys/tuning.hpp — `recsys train --tune`: the validation split carved from the training rows by the run's own protocol, the metric each protocol tunes on, and the validation files peers are tuned on.
#pragma once

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

#include "recsys/rec/evaluation.hpp"
#include "recsys/rec/tuning.hpp"

#include "protocol.hpp"
#include "run_folder.hpp"

namespace recsys::cli {

/// The search and, for ranking protocols, the validation split it was scored on.
struct Tuned {
  rec::TuningResult result;
  std::optional<rec::Holdout> validation;
};

/// Searches the model's grid on a validation split of the training rows made with the run's own
/// rule: a ranking protocol holds out again from the training rows (and tunes NDCG@K at the first
/// K); the split protocol holds out the same share of the training rows (and tunes RMSE for rating
/// models, the AUC of liked otherwise). The test rows are never looked at.
/// Nothing (after saying so) for a model without a grid.
inline std::optional<Tuned> tune_on_validation(const std::string& kind, const rec::FitOptions& options,
                                               const Prepared& p, const EvalSettings& s) {
  Tuned t;
  const std::unique_ptr<rec::Recommender> probe = rec::make_recommender(kind, options);
  const std::vector<rec::TuningAxis> grid = probe->tuning_grid();
  if (grid.empty()) {
    std::printf("--tune: %s has no settings to tune; it is fitted as given\n", kind.c_str());
    return std::nullopt;
  }
  std::printf("tuning %s on a validation split of the %lld training rows (%zu grid points)\n", kind.c_str(),
              static_cast<long long>(p.train.size()), rec::grid_points(grid).size());
  if (s.ranking()) {
    t.validation = rec::make_validation(*p.holdout, s.holdout());
    const rec::Holdout& v = *t.validation;
    const std::string metric = "ndcg@" + std::to_string(s.ks.front());
    t.result = rec::tune(
        kind, options, v.train,
        [&](const rec::Recommender& m) { return rec::evaluate_ranking(m, v, {.ks = {s.ks.front()}}).mean(metric); },
        metric, true, grid, stdout);
  } else if (s.protocol == "split" || s.protocol == "cv") {  // cv: the saved model is fitted on every row
    const rec::TrainTest v = rec::split_interactions(p.train, s.test_size, s.seed + 1);
    const bool ratings = probe->capabilities().predicts_ratings;
    t.result = rec::tune(
        kind, options, v.train,
        [&](const rec::Recommender& m) {
          return ratings ? rec::evaluate_ratings(m, v.test).rmse
                         : metrics::roc_auc(rec::liked_labels(v.test), m.predict(v.test));
        },
        ratings ? "rmse" : "auc", !ratings, grid, stdout);
  } else {
    RECSYS_FAIL("--tune needs a protocol with held-out rows (split, leave-last-out or temporal), got --eval ",
                s.protocol);
  }
  std::printf("chose %s (validation %s %.4f)\n", json::dump(t.result.points[t.result.best].settings).c_str(),
              t.result.metric.c_str(), t.result.points[t.result.best].score);
  return t;
}

/// --tune under --eval cv: nested tuning (rec::tune_each_fold) with the split protocol's share.
inline rec::FoldOptions fold_tuner(const std::string& kind, const rec::FitOptions& options, const EvalSettings& s) {
  return rec::tune_each_fold(kind, options, s.test_size, s.seed, stdout);
}

/// A validation split as files peers can read: interactions.csv (its fit rows) and held_out.csv.
/// `source` is the data the split was made from (the test split's training rows).
inline void write_split(const rec::Dataset& source, const rec::Holdout& h, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  h.train.save(dir.string(), false);
  for (const char* extra : {"users.csv", "items.csv", "dataset.json"}) std::filesystem::remove(dir / extra);
  held_out_table(source, source.subset(h.test_rows)).write(dir / "held_out.csv");
}

}  // namespace recsys::cli
