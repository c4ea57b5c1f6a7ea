// tools/recsys/cmd_compare.hpp — `recsys compare RUN_A RUN_B`: A/B comparison of two runs on the same users, with a paired-bootstrap confidence interval.
#pragma once

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "recsys/metrics/ab_test.hpp"
#include "recsys/metrics/classification.hpp"

#include "args.hpp"
#include "run_folder.hpp"
#include "text_table.hpp"

namespace recsys::cli {

inline const CommandSpec& compare_spec() {
  static const CommandSpec spec{
      .name = "compare",
      .summary = "A/B comparison of two runs on the same held-out users: the difference with its confidence interval.",
      .details = "Both runs must have been evaluated on the same data and split (their config.json fingerprints\n"
                 "agree). Units are paired: each user (ranking metrics, from per_user.csv) or each held-out\n"
                 "rating (accuracy, auc, rmse, mae, from per_row.csv) counts once for A and once for B, and a\n"
                 "paired bootstrap resamples units, so differences between users cancel out of the interval.\n"
                 "Metrics: any column of per_user.csv (hr@10, ndcg@10, ...), or accuracy, auc, rmse, mae.",
      .positionals = {{"RUN_A", "run folder of model A (the baseline)"}, {"RUN_B", "run folder of model B"}},
      .options = {{"metric", "NAME", "metric to compare; default ndcg@10 when both runs have it, else accuracy", ""},
                  {"resamples", "N", "bootstrap resamples", "10000"},
                  {"confidence", "P", "two-sided confidence level of the interval", "0.95"},
                  {"seed", "N", "bootstrap seed", "42"}},
      .examples = "  recsys compare runs/popularity runs/mf\n  recsys compare runs/review runs/ranker --metric auc\n"};
  return spec;
}

namespace compare_detail {

/// One run's side of the comparison.
struct Side {
  std::string path, model;
  json::Value config;
};

/// True for a metric compare knows: accuracy, auc, rmse, mae (per held-out rating), mrr and
/// hr@K, recall@K, ndcg@K (per user).
inline bool known_metric(const std::string& m) {
  if (m == "accuracy" || m == "auc" || m == "rmse" || m == "mae" || m == "mrr") return true;
  for (const char* p : {"hr@", "recall@", "ndcg@"}) {
    const std::string prefix = p;
    if (m.size() > prefix.size() && m.compare(0, prefix.size(), prefix) == 0 &&
        m.find_first_not_of("0123456789", prefix.size()) == std::string::npos && m[prefix.size()] != '0')
      return true;
  }
  return false;
}

inline bool lower_is_better(const std::string& metric) { return metric == "rmse" || metric == "mae"; }

/// The per-row column a row metric is the mean of (auc and rmse are not plain means).
inline std::string row_column(const std::string& metric) {
  if (metric == "accuracy") return "correct";
  if (metric == "mae") return "abs_error";
  if (metric == "rmse") return "squared_error";
  if (metric == "auc") return "score";
  return "";
}

/// Rows of `b` reordered to match `a`'s keys; the key sets must be equal.
inline std::vector<std::size_t> align(const UnitTable& a, const UnitTable& b, const std::string& what) {
  std::unordered_map<std::string, std::size_t> where;
  for (std::size_t r = 0; r < b.rows(); ++r) where.emplace(b.key(r), r);
  std::vector<std::size_t> order;
  order.reserve(a.rows());
  for (std::size_t r = 0; r < a.rows(); ++r) {
    const auto it = where.find(a.key(r));
    RECSYS_CHECK(it != where.end(), "the runs were evaluated on different ", what, ": A has ", a.rows(), ", B has ",
                 b.rows(), ", and A's '", a.keys[0][r], "' is missing from B");
    order.push_back(it->second);
  }
  RECSYS_CHECK(a.rows() == b.rows(), "the runs were evaluated on different ", what, ": A has ", a.rows(), ", B has ",
               b.rows());
  return order;
}

inline const std::vector<double>& column(const UnitTable& t, const std::string& name, const std::string& run,
                                         const std::string& file) {
  const std::ptrdiff_t c = t.find(name);
  if (name == "correct")
    RECSYS_CHECK(c >= 0, "run '", run, "' has no per-rating accuracy: its model's scores do not predict likes ",
                 "(compare with --metric auc)");
  if (name == "squared_error" || name == "abs_error")
    RECSYS_CHECK(c >= 0, "run '", run, "' has no rating errors: its model does not predict ratings (only mf with ",
                 "--loss mse does)");
  RECSYS_CHECK(c >= 0, "run '", run, "' has no ", name, " column in ", file);
  return t.values[static_cast<std::size_t>(c)];
}

}  // namespace compare_detail

inline int run_compare(const Args& args) {
  using namespace compare_detail;
  metrics::BootstrapOptions boot;
  boot.resamples = args.integer("resamples", 1, 10'000'000);
  boot.confidence = args.number("confidence", 0.5, 0.9999);
  boot.seed = static_cast<std::uint64_t>(args.integer("seed", 0));
  if (args.given("metric") && !known_metric(args.str("metric")))
    throw UsageError("--metric must be accuracy, auc, rmse, mae, mrr, hr@K, recall@K or ndcg@K, got '" +
                     args.str("metric") + "'");

  Side side[2];
  RunFolder runs[2];
  for (int k = 0; k < 2; ++k) {
    side[k].path = args.positional(static_cast<std::size_t>(k));
    runs[k] = RunFolder::open(side[k].path);
    side[k].config = read_json(runs[k].config());
    side[k].model = member(side[k].config, "model", runs[k].config()).as_string();
  }
  // Paired units only mean something on the same data, split and protocol.
  for (const char* key : {"data_fingerprint", "evaluation"}) {
    const json::Value& a = member(side[0].config, key, runs[0].config());
    const json::Value& b = member(side[1].config, key, runs[1].config());
    RECSYS_CHECK(a == b, "the runs were not evaluated alike: their config.json \"", key, "\" entries differ (",
                 json::dump(a), " vs ", json::dump(b), "); train both on the same data with the same --seed");
  }

  // Default: the ranking metric when both runs rank, else accuracy when both predict likes, else AUC.
  std::string metric = args.str("metric");
  if (metric.empty()) {
    const auto both_have = [&](const std::function<std::filesystem::path(const RunFolder&)>& file, std::size_t keys,
                               const std::string& column) {
      for (const RunFolder& r : runs)
        if (!std::filesystem::is_regular_file(file(r)) || UnitTable::read(file(r), keys).find(column) < 0) return false;
      return true;
    };
    if (both_have(&RunFolder::per_user, 1, "ndcg@10")) metric = "ndcg@10";
    else if (both_have(&RunFolder::per_row, 2, "correct")) metric = "accuracy";
    else metric = "auc";
  }

  metrics::ABTestResult r;
  std::string unit;
  const std::string row_col = row_column(metric);
  if (row_col.empty()) {  // a per-user ranking metric: the mean over users
    UnitTable t[2];
    for (int k = 0; k < 2; ++k) {
      RECSYS_CHECK(std::filesystem::is_regular_file(runs[k].per_user()), "run '", side[k].path,
                   "' has no per_user.csv, so it has no per-user ", metric, " (a ranking model's run has one)");
      t[k] = UnitTable::read(runs[k].per_user(), 1);
      column(t[k], metric, side[k].path, "per_user.csv");
    }
    const auto order = align(t[0], t[1], "users");
    const auto& a = column(t[0], metric, side[0].path, "per_user.csv");
    const auto& b_raw = column(t[1], metric, side[1].path, "per_user.csv");
    std::vector<double> b(order.size());
    for (std::size_t i = 0; i < order.size(); ++i) b[i] = b_raw[order[i]];
    r = metrics::ab_test(a, b, boot);
    unit = "users";
  } else {  // a held-out-rating metric
    UnitTable t[2];
    for (int k = 0; k < 2; ++k) {
      RECSYS_CHECK(std::filesystem::is_regular_file(runs[k].per_row()), "run '", side[k].path,
                   "' has no per_row.csv, so it has no per-rating ", metric);
      t[k] = UnitTable::read(runs[k].per_row(), 2);
      column(t[k], row_col, side[k].path, "per_row.csv");
      if (metric == "auc") column(t[k], "label", side[k].path, "per_row.csv");
    }
    const auto order = align(t[0], t[1], "held-out ratings");
    const auto& a = column(t[0], row_col, side[0].path, "per_row.csv");
    std::vector<double> b(order.size());
    {
      const auto& b_raw = column(t[1], row_col, side[1].path, "per_row.csv");
      for (std::size_t i = 0; i < order.size(); ++i) b[i] = b_raw[order[i]];
    }
    const auto n = static_cast<std::int64_t>(a.size());
    if (metric == "auc") {
      const auto& label = column(t[0], "label", side[0].path, "per_row.csv");
      std::vector<int> y(label.begin(), label.end());
      std::vector<int> ys;
      std::vector<double> sa, sb;
      r = metrics::paired_bootstrap(
          n,
          [&](std::span<const std::int64_t> rows) {
            ys.clear(), sa.clear(), sb.clear();
            for (std::int64_t i : rows) {
              ys.push_back(y[static_cast<std::size_t>(i)]);
              sa.push_back(a[static_cast<std::size_t>(i)]);
              sb.push_back(b[static_cast<std::size_t>(i)]);
            }
            return std::pair(metrics::roc_auc(ys, sa), metrics::roc_auc(ys, sb));
          },
          boot);
    } else if (metric == "rmse") {
      r = metrics::paired_bootstrap(
          n,
          [&](std::span<const std::int64_t> rows) {
            double ea = 0, eb = 0;
            for (std::int64_t i : rows) ea += a[static_cast<std::size_t>(i)], eb += b[static_cast<std::size_t>(i)];
            const auto m = static_cast<double>(rows.size());
            return std::pair(std::sqrt(ea / m), std::sqrt(eb / m));
          },
          boot);
    } else {
      r = metrics::ab_test(a, b, boot);
    }
    unit = "held-out ratings";
  }

  for (const RunFolder& run : runs) run.check_unchanged();  // all read from the folders RunFolder::open verified
  std::printf("A/B comparison of %s over %lld %s (paired bootstrap, %lld resamples, seed %llu)\n", metric.c_str(),
              static_cast<long long>(r.n), unit.c_str(), static_cast<long long>(r.resamples),
              static_cast<unsigned long long>(boot.seed));
  TextTable t({"", "run", "model", metric});
  t.add({"A", side[0].path, side[0].model, fixed(r.metric_a)});
  t.add({"B", side[1].path, side[1].model, fixed(r.metric_b)});
  std::printf("%s", t.to_string().c_str());
  std::printf("difference B - A: %+.4f, %.0f%% CI [%+.4f, %+.4f], p = %.4f\n", r.difference, 100 * r.confidence,
              r.ci_low, r.ci_high, r.p_value);
  const bool significant = r.ci_low > 0 || r.ci_high < 0;
  const bool b_better = lower_is_better(metric) ? r.difference < 0 : r.difference > 0;
  if (!significant) std::printf("verdict: no significant difference at this confidence level\n");
  else std::printf("verdict: %s (%s) is better on %s\n", b_better ? "B" : "A", (b_better ? side[1] : side[0]).model.c_str(), metric.c_str());
  return 0;
}

}  // namespace recsys::cli
