// tools/recsys/protocol.hpp — the evaluation protocols of `recsys train` and `recsys evaluate` (held-out split, leave-last-out, cross-validation) on top of rec/evaluation.hpp, with the baselines each is reported beside.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "recsys/io/json.hpp"
#include "recsys/rec/diagnostics.hpp"
#include "recsys/rec/evaluation.hpp"

#include "args.hpp"
#include "data_source.hpp"
#include "run_folder.hpp"
#include "text_table.hpp"

namespace recsys::cli {

/// How a run is evaluated; recorded in config.json, so `recsys evaluate` and `recsys compare` can
/// rebuild (or check) the same split.
struct EvalSettings {
  std::string protocol = "split";  ///< split, leave-last-out, temporal, cv or none
  double test_size = 0.2;          ///< split: share of interactions held out; temporal: share after the cut
  std::uint64_t seed = 42;         ///< split shuffles, timestamp ties, sampled negatives, fold assignment
  std::vector<std::int64_t> ks{10, 20};  ///< ranking: the list lengths of HR@K, Recall@K, NDCG@K
  std::int64_t negatives = 0;      ///< ranking: 0 = full ranking; N = the targets among N sampled unseen items
  std::string sampling = "uniform";  ///< ranking, sampled: uniform or popularity
  std::string target = "any";      ///< ranking: any interaction can be held out, or only liked ones
  std::int64_t folds = 5;          ///< cv: stratified folds

  bool ranking() const { return protocol == "leave-last-out" || protocol == "temporal"; }
  rec::HoldoutOptions holdout() const {
    return {.protocol = protocol, .target = target, .temporal_fraction = test_size, .negatives = negatives,
            .sampling = sampling, .seed = seed};
  }

  json::Value to_json() const {
    json::Value v = json::Value::object();
    v["protocol"] = protocol;
    v["seed"] = seed;
    if (protocol == "split" || protocol == "temporal") v["test_size"] = test_size;
    if (ranking()) {
      json::Value k = json::Value::array();
      for (std::int64_t x : ks) k.push_back(x);
      v["ks"] = std::move(k);
      v["negatives"] = negatives;
      v["sampling"] = sampling;
      v["target"] = target;
      v["description"] = holdout().describe();
    }
    if (protocol == "cv") v["folds"] = folds;
    return v;
  }
  static EvalSettings from_json(const json::Value& v) {
    EvalSettings s;
    s.protocol = v.at("protocol").as_string();
    s.seed = v.at("seed").as_uint64();
    if (const json::Value* x = v.find("test_size")) s.test_size = x->as_double();
    if (const json::Value* x = v.find("ks")) {
      s.ks.clear();
      for (const json::Value& k : x->as_array()) s.ks.push_back(k.as_int64());
    }
    if (const json::Value* x = v.find("negatives")) s.negatives = x->as_int64();
    if (const json::Value* x = v.find("sampling")) s.sampling = x->as_string();
    if (const json::Value* x = v.find("target")) s.target = x->as_string();
    if (const json::Value* x = v.find("folds")) s.folds = x->as_int64();
    return s;
  }
};

/// The options that choose a protocol, shared by train's --help.
inline std::vector<OptionSpec> eval_options() {
  return {{"eval", "P",
           "split (hold out a share: accuracy, AUC, RMSE), leave-last-out or temporal (ranking: HR, NDCG, "
           "Recall@K, MRR), cv (K-fold) or none",
           "split"},
          {"test-size", "P", "split: share of interactions held out; temporal: share after the time cut", "0.2"},
          {"split-seed", "N", "seed of the split, of timestamp ties, of the sampled negatives and of the folds", "42"},
          {"k", "K[,K...]", "ranking: list lengths of HR@K, Recall@K, NDCG@K and coverage@K", "10,20"},
          {"eval-negatives", "N", "ranking: 0 ranks every unseen item (full ranking); N ranks the targets among N "
                                  "sampled unseen items (written to candidates.csv)", "0"},
          {"eval-sampling", "S", "ranking with --eval-negatives: uniform or popularity (by training count)", "uniform"},
          {"eval-target", "T", "ranking: any (each user's latest interaction) or liked (latest liked one)", "any"},
          {"folds", "N", "cv: number of stratified folds", "5"}};
}

inline EvalSettings eval_settings(const Args& args) {
  EvalSettings s;
  s.protocol = args.choice("eval", {"split", "leave-last-out", "temporal", "cv", "none"});
  s.test_size = args.number("test-size", 0.01, 0.99);
  s.seed = static_cast<std::uint64_t>(args.integer("split-seed", 0));
  s.ks.clear();
  const std::string ks = args.str("k");
  for (std::size_t at = 0; at <= ks.size();) {
    const std::size_t comma = std::min(ks.find(',', at), ks.size());
    const std::string part = ks.substr(at, comma - at);
    std::int64_t k = 0;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), k);
    if (ec != std::errc() || end != part.data() + part.size() || part.empty() || k < 1 || k > 100000)
      throw UsageError("--k expects list lengths between 1 and 100000 separated by commas, got '" + ks + "'");
    s.ks.push_back(k);
    at = comma + 1;
  }
  s.negatives = args.integer("eval-negatives", 0, 100000000);
  s.sampling = args.choice("eval-sampling", {"uniform", "popularity"});
  s.target = args.choice("eval-target", {"any", "liked"});
  s.folds = args.integer("folds", 2, 1000);
  return s;
}

/// The training part of the data and what is held out from it.
struct Prepared {
  rec::Dataset train, test;              ///< split: the two parts; ranking: test = the held-out rows
  std::optional<rec::Holdout> holdout;   ///< ranking: users, targets and candidates
  rec::SplitDiagnostics diagnostics;     ///< split and ranking: leakage and coverage checks
};

inline Prepared prepare(const rec::Dataset& data, const EvalSettings& s) {
  Prepared p;
  if (s.protocol == "split") {
    rec::TrainTest tt = rec::split_interactions(data, s.test_size, s.seed);
    p.train = std::move(tt.train);
    p.test = std::move(tt.test);
  } else if (s.ranking()) {
    p.holdout = rec::make_holdout(data, s.holdout());
    p.train = p.holdout->train;
    p.test = data.subset(p.holdout->test_rows);
  } else {  // cv and none fit the final model on everything
    p.train = data;
    return p;
  }
  p.diagnostics = rec::diagnose_split(p.train, p.test);
  return p;
}

/// The held-out interactions as (user_id, item_id) rows: recommend never suggests them.
inline UnitTable held_out_table(const rec::Dataset& data, const rec::Dataset& held_out) {
  UnitTable t;
  t.key_names = {"user_id", "item_id"};
  t.keys.resize(2);
  t.value_names = {"held_out"};
  t.values.resize(1);
  for (const rec::Interaction& r : held_out.interactions()) {
    t.keys[0].push_back(data.user_id(r.user));
    t.keys[1].push_back(data.item(r.item).id);
    t.values[0].push_back(1.0);
  }
  return t;
}

/// Sampled protocols: every user's candidates as rows (user_id, item_id, role), role "target" for a
/// held-out item and "negative" for a sampled one, so another system can be scored on exactly the
/// same lists. Empty under full ranking.
inline UnitTable candidates_table(const rec::Dataset& data, const Prepared& p) {
  UnitTable t;
  if (!p.holdout || p.holdout->full_ranking) return t;
  t.key_names = {"user_id", "item_id", "role"};
  t.keys.resize(3);
  const rec::Holdout& h = *p.holdout;
  for (std::size_t n = 0; n < h.users.size(); ++n)
    for (const auto& [items, role] : {std::pair{&h.relevant[n], "target"}, std::pair{&h.negatives[n], "negative"}})
      for (std::int64_t i : *items) {
        t.keys[0].push_back(data.user_id(h.users[n]));
        t.keys[1].push_back(data.item(i).id);
        t.keys[2].push_back(role);
      }
  return t;
}

/// Checks that a run's candidates.csv lists exactly the candidates the rebuilt split ranks, so the
/// file is what every system was (and will be) scored on.
inline void check_candidates_file(const std::filesystem::path& path, const rec::Dataset& data, const Prepared& p) {
  const UnitTable rebuilt = candidates_table(data, p);
  if (rebuilt.rows() == 0) return;
  RECSYS_CHECK(std::filesystem::is_regular_file(path), "'", path.string(), "' is missing: a sampled run keeps the ",
               "candidates it was scored on");
  const data::Table t = data::read_csv(path.string(), [] {
    data::CsvOptions o;
    o.infer_types = false;
    return o;
  }());
  RECSYS_CHECK(t.num_rows() == static_cast<std::int64_t>(rebuilt.rows()) && t.num_columns() == 3, "'", path.string(),
               "' lists ", t.num_rows(), " candidates; the rebuilt split has ", rebuilt.rows());
  for (std::int64_t r = 0; r < t.num_rows(); ++r)
    for (std::int64_t c = 0; c < 3; ++c)
      RECSYS_CHECK(t.column(c).string_at(r) == rebuilt.keys[static_cast<std::size_t>(c)][static_cast<std::size_t>(r)],
                   "'", path.string(), "' data row ", r + 1, " differs from the rebuilt split's candidates (",
                   rebuilt.keys[0][static_cast<std::size_t>(r)], ", ", rebuilt.keys[1][static_cast<std::size_t>(r)],
                   ", ", rebuilt.keys[2][static_cast<std::size_t>(r)], ")");
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

inline std::string percent(double share) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f%%", 100 * share);
  return buf;
}

}  // namespace protocol_detail

/// A ranking protocol's report for any scorer (a model of ours, or a peer's exported scores): the
/// tie-neutral metrics at each K, MRR and coverage, beside popularity (when `with_popularity`) and
/// the chance level of these very candidates; warnings for constant and non-finite scores.
inline Evaluation evaluate_ranking(const rec::BlockScorer& scorer, const std::string& name, const rec::Dataset& data,
                                   const Prepared& p, const EvalSettings& s, bool with_popularity) {
  const rec::Holdout& h = *p.holdout;
  Evaluation e;
  e.metrics["model"] = name;
  e.metrics["protocol"] = s.protocol;
  const rec::RankingOptions options{.ks = s.ks, .seed = s.seed};
  const rec::RankingReport r = rec::evaluate_ranking(scorer, data.num_items(), h, options, name);
  char head[512];
  std::snprintf(head, sizeof head,
                "%s: %lld users, %lld held-out interactions; each ranked against %s (%.0f candidates per user on "
                "average); ties count neutrally\n",
                s.protocol.c_str(), static_cast<long long>(h.users.size()), static_cast<long long>(h.held_out_rows),
                h.full_ranking ? "every item the user has not interacted with"
                               : (std::to_string(s.negatives) + " " + s.sampling + "-sampled unseen items").c_str(),
                r.mean_candidates);
  e.report += head;
  if (s.protocol == "leave-last-out" && h.timestamp_ties > 0)
    e.report += "  (" + std::to_string(h.timestamp_ties) +
                " users had several interactions at their latest timestamp: the held-out one is the seeded choice "
                "among them, not the file's order)\n";
  std::vector<std::string> header{"model"};
  for (std::int64_t k : s.ks)
    for (const char* m : {"HR@", "NDCG@", "Recall@"}) header.push_back(m + std::to_string(k));
  header.push_back("MRR");
  header.push_back("coverage@" + std::to_string(s.ks.front()));
  TextTable t(header);
  const auto row_of = [&](const std::string& label, const rec::RankingReport& x) {
    std::vector<std::string> cells{label};
    for (std::int64_t k : s.ks)
      for (const char* m : {"hr@", "ndcg@", "recall@"}) cells.push_back(fixed(x.mean(m + std::to_string(k))));
    cells.push_back(fixed(x.mean("mrr")));
    cells.push_back(fixed(x.coverage.front()));
    return cells;
  };
  const auto to_json = [&](const rec::RankingReport& x) {
    json::Value v = json::Value::object();
    for (std::size_t m = 0; m < x.names.size(); ++m) v[x.names[m]] = x.means[m];
    for (std::size_t q = 0; q < x.ks.size(); ++q) v["coverage@" + std::to_string(x.ks[q])] = x.coverage[q];
    return v;
  };
  t.add(row_of(name, r));
  json::Value ranking = to_json(r);
  ranking["users"] = static_cast<std::int64_t>(h.users.size());
  ranking["held_out_rows"] = h.held_out_rows;
  ranking["full_ranking"] = h.full_ranking;
  ranking["mean_candidates"] = r.mean_candidates;
  ranking["timestamp_ties"] = h.timestamp_ties;
  ranking["constant_score_users"] = r.constant_users;
  ranking["nonfinite_score_users"] = r.nonfinite_users;
  json::Value warnings = json::Value::array();
  for (const std::string& w : r.warnings()) warnings.push_back(w);
  ranking["warnings"] = std::move(warnings);
  e.metrics["ranking"] = std::move(ranking);
  json::Value baselines = json::Value::object();
  if (with_popularity) {
    rec::Popularity pop;
    pop.fit(p.train);
    const rec::RankingReport b = rec::evaluate_ranking(pop, h, options);
    baselines["popularity"] = to_json(b);
    t.add(row_of("popularity", b));
  }
  // A random order of these candidates (the value a constant scorer gets).
  json::Value chance = json::Value::object();
  std::vector<std::string> cells{"random"};
  for (std::size_t q = 0; q < s.ks.size(); ++q) {
    chance["hr@" + std::to_string(s.ks[q])] = r.chance_hit[q];
    chance["ndcg@" + std::to_string(s.ks[q])] = r.chance_ndcg[q];
    cells.insert(cells.end(), {fixed(r.chance_hit[q]), fixed(r.chance_ndcg[q]), "-"});
  }
  cells.insert(cells.end(), {"-", "-"});
  t.add(cells);
  baselines["random"] = chance;
  e.metrics["baselines"] = baselines;
  e.report += t.to_string();
  for (const std::string& w : r.warnings()) e.report += "WARNING: " + w + "\n";
  e.per_user.key_names = {"user_id"};
  e.per_user.keys.resize(1);
  for (std::int64_t u : r.users) e.per_user.keys[0].push_back(data.user_id(u));
  e.per_user.value_names = r.names;
  e.per_user.values = r.values;
  return e;
}

/// Evaluates a trained model under the split or a ranking protocol, beside the baselines.
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
    if (model.name() != "popularity" && model.capabilities().ranks_items) {
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
      if (!model.capabilities().needs_reviews) t.add({"Bayes-optimal", fixed(*bayes), "-", "-", "-", "-"});
    }
    out += t.to_string();
    if (bayes && !model.capabilities().needs_reviews)
      out += "  (Bayes-optimal: predicting with the generator's own like probabilities, the best any model of\n"
             "   (user, movie) can do on average)\n";
    if (model.capabilities().predicts_ratings) {
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
  } else if (s.ranking()) {
    RECSYS_CHECK(model.capabilities().ranks_items, "--eval ", s.protocol, ": ", model.name(),
                 " scores are not personal rankings; use --eval split or cv");
    const rec::Popularity* self = dynamic_cast<const rec::Popularity*>(&model);
    e = evaluate_ranking(
        [&](std::span<const std::int64_t> users, std::span<double> out) { model.score_users(users, out); },
        model.name(), data, p, s, self == nullptr);
    e.metrics["model"] = model.name();
    e.metrics["train_interactions"] = p.train.size();
  }
  if (p.holdout || s.protocol == "split") {
    e.metrics["diagnostics"] = p.diagnostics.to_json();
    for (const std::string& w : p.diagnostics.warnings()) e.report += "WARNING: " + w + "\n";
  }
  return e;
}

/// Stratified K-fold cross-validation of a model kind (one fresh model per fold), as a report.
/// `choose` (nested tuning, from --tune) picks each fold's settings from that fold's training rows.
/// per_row holds every row's out-of-fold score and its fold, so peers can be run on the same folds.
inline Evaluation cross_validate(const std::string& kind, const rec::Dataset& data, const rec::FitOptions& options,
                                 const EvalSettings& s, const rec::FoldOptions& choose = {}) {
  Evaluation e;
  const rec::CrossValidation cv = rec::cross_validate(kind, data, options, s.folds, s.seed, choose);
  e.per_row.key_names = {"user_id", "item_id"};
  e.per_row.keys.resize(2);
  e.per_row.value_names = {"label", "score", "correct", "fold"};
  e.per_row.values.resize(4);
  for (std::int64_t r = 0; r < data.size(); ++r) {
    const auto row = static_cast<std::size_t>(r);
    e.per_row.keys[0].push_back(data.user_id(data[r].user));
    e.per_row.keys[1].push_back(data.item(data[r].item).id);
    e.per_row.values[0].push_back(data.liked(data[r]) ? 1.0 : 0.0);
    e.per_row.values[1].push_back(cv.scores[row]);
    e.per_row.values[2].push_back(cv.correct[row]);
    e.per_row.values[3].push_back(static_cast<double>(cv.fold_of_row[row] + 1));
  }
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
  if (choose) {
    json::Value chosen = json::Value::array();
    for (const rec::FitOptions& o : cv.fold_options) chosen.push_back(o.to_json());
    c["fold_options"] = std::move(chosen);
  }
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
