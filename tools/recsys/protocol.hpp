// tools/recsys/protocol.hpp — the evaluation protocols of `recsys train` and `recsys evaluate` (held-out split, leave-last-out, cross-validation) on top of rec/evaluation.hpp, with the baselines each is reported beside.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "recsys/io/json.hpp"
#include "recsys/rec/evaluation.hpp"

#include "args.hpp"
#include "data_source.hpp"
#include "run_folder.hpp"
#include "text_table.hpp"

namespace recsys::cli {

/// How a run is evaluated; recorded in config.json, so `recsys evaluate` and `recsys compare` can
/// rebuild (or check) the same split.
struct EvalSettings {
  std::string protocol = "split";  ///< split, leave-last-out, cv or none
  double test_size = 0.2;          ///< split: share of interactions held out
  std::uint64_t seed = 42;         ///< split shuffles, sampled negatives, fold assignment
  std::int64_t k = 10;             ///< leave-last-out: the list length of HR@K and NDCG@K
  std::int64_t negatives = 100;    ///< leave-last-out: unseen items ranked against the held-out one
  std::int64_t folds = 5;          ///< cv: stratified folds

  json::Value to_json() const {
    json::Value v = json::Value::object();
    v["protocol"] = protocol;
    v["seed"] = seed;
    if (protocol == "split") v["test_size"] = test_size;
    if (protocol == "leave-last-out") v["k"] = k, v["negatives"] = negatives;
    if (protocol == "cv") v["folds"] = folds;
    return v;
  }
  static EvalSettings from_json(const json::Value& v) {
    EvalSettings s;
    s.protocol = v.at("protocol").as_string();
    s.seed = v.at("seed").as_uint64();
    if (const json::Value* x = v.find("test_size")) s.test_size = x->as_double();
    if (const json::Value* x = v.find("k")) s.k = x->as_int64();
    if (const json::Value* x = v.find("negatives")) s.negatives = x->as_int64();
    if (const json::Value* x = v.find("folds")) s.folds = x->as_int64();
    return s;
  }
};

/// The options that choose a protocol, shared by train's --help.
inline std::vector<OptionSpec> eval_options() {
  return {{"eval", "P", "split (hold out a share), leave-last-out (HR@K, NDCG@K), cv (K-fold) or none", "split"},
          {"test-size", "P", "split: share of interactions held out", "0.2"},
          {"split-seed", "N", "seed of the split, the sampled negatives and the folds", "42"},
          {"k", "N", "leave-last-out: list length of HR@K and NDCG@K", "10"},
          {"eval-negatives", "N", "leave-last-out: sampled unseen items ranked against the held-out one", "100"},
          {"folds", "N", "cv: number of stratified folds", "5"}};
}

inline EvalSettings eval_settings(const Args& args) {
  EvalSettings s;
  s.protocol = args.choice("eval", {"split", "leave-last-out", "cv", "none"});
  s.test_size = args.number("test-size", 0.01, 0.99);
  s.seed = static_cast<std::uint64_t>(args.integer("split-seed", 0));
  s.k = args.integer("k", 1, 100000);
  s.negatives = args.integer("eval-negatives", 1, 100000000);
  s.folds = args.integer("folds", 2, 1000);
  return s;
}

/// The training part of the data and what is held out from it.
struct Prepared {
  rec::Dataset train, test;               ///< split: the two parts; leave-last-out: test empty
  std::optional<rec::LeaveLastOut> llo;   ///< leave-last-out: held-out items and negatives
};

inline Prepared prepare(const rec::Dataset& data, const EvalSettings& s) {
  Prepared p;
  if (s.protocol == "split") {
    rec::TrainTest tt = rec::split_interactions(data, s.test_size, s.seed);
    p.train = std::move(tt.train);
    p.test = std::move(tt.test);
  } else if (s.protocol == "leave-last-out") {
    p.llo = rec::leave_last_out(data, s.negatives, s.seed);
    p.train = p.llo->train;
  } else {  // cv and none fit the final model on everything
    p.train = data;
  }
  return p;
}

/// The held-out interactions as (user_id, item_id) rows: recommend never suggests them.
inline UnitTable held_out_table(const rec::Dataset& data, const Prepared& p) {
  UnitTable t;
  t.key_names = {"user_id", "item_id"};
  t.keys.resize(2);
  t.value_names = {"held_out"};
  t.values.resize(1);
  const auto add = [&](std::int64_t u, std::int64_t i) {
    t.keys[0].push_back(data.user_id(u));
    t.keys[1].push_back(data.item(i).id);
    t.values[0].push_back(1.0);
  };
  for (const rec::Interaction& r : p.test.interactions()) add(r.user, r.item);
  if (p.llo)
    for (std::size_t n = 0; n < p.llo->users.size(); ++n) add(p.llo->users[n], p.llo->held_out[n]);
  return t;
}

/// The Bayes-optimal like accuracy the synthetic generator wrote beside user_data.csv, if any.
inline std::optional<double> bayes_accuracy(const DataSource& s) {
  namespace fs = std::filesystem;
  if (s.format != "synthetic") return std::nullopt;
  const fs::path dir = s.dir.empty() ? fs::path(s.users).parent_path() : fs::path(s.dir);
  const fs::path summary = dir / "synthetic_summary.json";
  if (!fs::is_regular_file(summary)) return std::nullopt;
  const json::Value v = read_json(summary);
  const json::Value* b = v.find("bayes_accuracy");
  return b && b->is_number() ? std::optional(b->as_double()) : std::nullopt;
}

/// What an evaluation produced: metrics.json's body, the per-unit tables and the printed report.
struct Evaluation {
  json::Value metrics = json::Value::object();
  UnitTable per_user, per_row;
  std::string report;
};

namespace protocol_detail {

inline json::Value to_json(const rec::ClassificationMetrics& m) {
  json::Value v = json::Value::object();
  v["n"] = m.n;
  v["threshold"] = m.threshold;
  v["accuracy"] = m.accuracy;
  v["precision"] = m.precision;
  v["recall"] = m.recall;
  v["f1"] = m.f1;
  if (!std::isnan(m.auc)) v["auc"] = m.auc;
  return v;
}

inline json::Value to_json(const rec::RatingMetrics& m) {
  json::Value v = json::Value::object();
  v["n"] = m.n;
  v["rmse"] = m.rmse;
  v["mae"] = m.mae;
  return v;
}

inline std::vector<std::string> row(const std::string& name, const rec::ClassificationMetrics& m) {
  return {name, fixed(m.accuracy), fixed(m.precision), fixed(m.recall), fixed(m.f1), fixed(m.auc)};
}

/// True when the model's scores are predicted ratings (so RMSE and MAE apply).
inline bool predicts_ratings(const rec::Recommender& model) {
  return model.name() == "mf" && model.options().loss == "mse";
}

inline std::string percent(double share) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f%%", 100 * share);
  return buf;
}

}  // namespace protocol_detail

/// Evaluates a trained model under the split or leave-last-out protocol, beside the baselines.
inline Evaluation evaluate(const rec::Recommender& model, const rec::Dataset& data, const Prepared& p,
                           const EvalSettings& s, const DataSource& source) {
  using namespace protocol_detail;
  Evaluation e;
  e.metrics["model"] = model.name();
  e.metrics["protocol"] = s.protocol;
  e.metrics["train_interactions"] = p.train.size();
  std::string& out = e.report;
  if (s.protocol == "split") {
    e.metrics["test_interactions"] = p.test.size();
    const std::vector<int> labels = rec::liked_labels(p.test);
    const std::vector<double> scores = model.predict(p.test);
    std::int64_t likes = 0;
    for (int y : labels) likes += y;
    const double like_rate = static_cast<double>(likes) / static_cast<double>(labels.size());
    char head[256];
    std::snprintf(head, sizeof head, "held-out %s of the interactions: %lld ratings, liked = rating >= %g (%.1f%% liked)\n",
                  percent(s.test_size).c_str(), static_cast<long long>(p.test.size()), data.like_threshold(),
                  100 * like_rate);
    out += head;
    TextTable t({"model", "accuracy", "precision", "recall", "F1", "AUC"});
    json::Value baselines = json::Value::object();
    e.per_row.key_names = {"user_id", "item_id"};
    e.per_row.keys.resize(2);
    for (const rec::Interaction& r : p.test.interactions()) {
      e.per_row.keys[0].push_back(data.user_id(r.user));
      e.per_row.keys[1].push_back(data.item(r.item).id);
    }
    e.per_row.value_names = {"label", "score"};
    e.per_row.values = {std::vector<double>(labels.begin(), labels.end()), scores};
    if (const std::optional<double> threshold = model.decision_threshold()) {
      const rec::ClassificationMetrics m = rec::classification_metrics(model.name(), labels, scores, *threshold);
      e.metrics["classification"] = to_json(m);
      t.add(row(model.name(), m));
      e.per_row.value_names.push_back("correct");
      e.per_row.values.push_back(m.correct);
    } else {  // scores that rank but do not predict a like: only the AUC applies
      json::Value c = json::Value::object();
      c["n"] = p.test.size();
      if (likes > 0 && likes < p.test.size()) {
        const double auc = metrics::roc_auc(labels, scores);
        c["auc"] = auc;
        t.add({model.name(), "-", "-", "-", "-", fixed(auc)});
      }
      e.metrics["classification"] = c;
    }
    // The majority class: what a model that learned nothing about users and items scores.
    const std::vector<double> constant(labels.size(), like_rate >= 0.5 ? 1.0 : 0.0);
    const rec::ClassificationMetrics majority = rec::classification_metrics("majority", labels, constant, 0.5);
    baselines["majority_class"] = to_json(majority);
    t.add(row("majority class", majority));
    if (model.name() != "popularity" && model.name() != "review") {
      rec::Popularity pop;
      pop.fit(p.train);
      const std::vector<double> ps = pop.predict(p.test);
      if (likes > 0 && likes < p.test.size()) {
        const double auc = metrics::roc_auc(labels, ps);
        json::Value pj = json::Value::object();
        pj["auc"] = auc;
        baselines["popularity"] = pj;
        t.add({"popularity", "-", "-", "-", "-", fixed(auc)});
      }
    }
    // The bound holds for models of (user, item); review text is written after the rating, so it
    // carries more than (user, item) does and a review model may pass the bound.
    const std::optional<double> bayes = bayes_accuracy(source);
    if (bayes) {
      baselines["bayes_accuracy"] = *bayes;
      if (model.name() != "review") t.add({"Bayes-optimal", fixed(*bayes), "-", "-", "-", "-"});
    }
    out += t.to_string();
    if (bayes && model.name() != "review")
      out += "  (Bayes-optimal: predicting with the generator's own like probabilities, the best any model of\n"
             "   (user, movie) can do on average)\n";
    if (predicts_ratings(model)) {
      const rec::RatingMetrics m = rec::rating_metrics(model.name(), scores, p.test);
      const rec::RatingMetrics g = rec::global_mean_baseline(p.train, p.test);
      const rec::RatingMetrics im = rec::item_mean_baseline(p.train, p.test);
      e.metrics["rating"] = to_json(m);
      baselines["global_mean"] = to_json(g);
      baselines["item_mean"] = to_json(im);
      TextTable r({"rating predictor", "RMSE", "MAE"});
      r.add({model.name(), fixed(m.rmse), fixed(m.mae)});
      r.add({"item mean", fixed(im.rmse), fixed(im.mae)});
      r.add({"global mean", fixed(g.rmse), fixed(g.mae)});
      out += r.to_string();
      std::vector<double> abs_err, sq_err;
      for (double d : m.errors) abs_err.push_back(std::fabs(d)), sq_err.push_back(d * d);
      e.per_row.value_names.insert(e.per_row.value_names.end(), {"abs_error", "squared_error"});
      e.per_row.values.push_back(std::move(abs_err));
      e.per_row.values.push_back(std::move(sq_err));
    }
    e.metrics["baselines"] = baselines;
  } else if (s.protocol == "leave-last-out") {
    const rec::LeaveLastOut& llo = *p.llo;
    const std::string hr = "hr@" + std::to_string(s.k), ndcg = "ndcg@" + std::to_string(s.k);
    char head[256];
    std::snprintf(head, sizeof head,
                  "leave-last-out: %lld users; each one's last liked item ranked among %lld sampled unseen items\n",
                  static_cast<long long>(llo.users.size()), static_cast<long long>(s.negatives));
    out += head;
    const rec::RankingMetrics m = rec::evaluate_ranking(model, llo, s.k);
    TextTable t({"model", "HR@" + std::to_string(s.k), "NDCG@" + std::to_string(s.k)});
    t.add({model.name(), fixed(m.hit_rate), fixed(m.ndcg)});
    json::Value r = json::Value::object();
    r["users"] = static_cast<std::int64_t>(m.users.size());
    r["k"] = s.k;
    r[hr] = m.hit_rate;
    r[ndcg] = m.ndcg;
    e.metrics["ranking"] = r;
    json::Value baselines = json::Value::object();
    if (model.name() != "popularity") {
      rec::Popularity pop;
      pop.fit(llo.train);
      const rec::RankingMetrics b = rec::evaluate_ranking(pop, llo, s.k);
      json::Value bj = json::Value::object();
      bj[hr] = b.hit_rate;
      bj[ndcg] = b.ndcg;
      baselines["popularity"] = bj;
      t.add({"popularity", fixed(b.hit_rate), fixed(b.ndcg)});
    }
    // A random ranking puts the held-out item in the top K with probability K / (negatives + 1).
    const double chance = std::min(1.0, static_cast<double>(s.k) / static_cast<double>(s.negatives + 1));
    baselines["random_hr"] = chance;
    t.add({"random", fixed(chance), "-"});
    e.metrics["baselines"] = baselines;
    out += t.to_string();
    e.per_user.key_names = {"user_id"};
    e.per_user.keys.resize(1);
    for (std::int64_t u : m.users) e.per_user.keys[0].push_back(data.user_id(u));
    e.per_user.value_names = {hr, ndcg};
    e.per_user.values = {m.hits, m.ndcgs};
  }
  return e;
}

/// Stratified K-fold cross-validation of a model kind (one fresh model per fold), as a report.
inline Evaluation cross_validate(const std::string& kind, const rec::Dataset& data, const rec::FitOptions& options,
                                 const EvalSettings& s) {
  Evaluation e;
  const rec::CrossValidation cv = rec::cross_validate(kind, data, options, s.folds, s.seed);
  e.metrics["model"] = kind;
  e.metrics["protocol"] = "cv";
  TextTable t({"fold", "test rows", "accuracy", "precision", "recall", "F1", "AUC"});
  json::Value folds = json::Value::array();
  for (std::size_t f = 0; f < cv.folds.size(); ++f) {
    const rec::ClassificationMetrics& m = cv.folds[f];
    t.add({std::to_string(f + 1), std::to_string(m.n), fixed(m.accuracy), fixed(m.precision), fixed(m.recall),
           fixed(m.f1), fixed(m.auc)});
    folds.push_back(protocol_detail::to_json(m));
  }
  t.add({"mean", "", fixed(cv.mean_accuracy), "", "", fixed(cv.mean_f1), fixed(cv.mean_auc)});
  json::Value c = json::Value::object();
  c["folds"] = s.folds;
  c["accuracy_mean"] = cv.mean_accuracy;
  c["accuracy_std"] = cv.std_accuracy;
  c["f1_mean"] = cv.mean_f1;
  c["auc_mean"] = cv.mean_auc;
  c["per_fold"] = folds;
  e.metrics["cv"] = c;
  char head[160];
  std::snprintf(head, sizeof head, "%lld-fold stratified cross-validation over %lld interactions (liked = rating >= %g)\n",
                static_cast<long long>(s.folds), static_cast<long long>(data.size()), data.like_threshold());
  char tail[160];
  std::snprintf(tail, sizeof tail, "  accuracy %.4f +- %.4f (mean +- sample std over folds)\n", cv.mean_accuracy,
                cv.std_accuracy);
  e.report = head + t.to_string() + tail;
  return e;
}

}  // namespace recsys::cli
