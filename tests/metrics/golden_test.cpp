// tests/metrics/golden_test.cpp — every metric scikit-learn also has, against sklearn's values on the same inputs (within 1e-9).
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <recsys/metrics/classification.hpp>
#include <recsys/metrics/ranking.hpp>
#include <recsys/metrics/regression.hpp>

#include "test_util.hpp"

using namespace recsys;
using namespace recsys::metrics;

namespace {

using Case = std::map<std::string, std::vector<double>>;

/// The cases of tests/golden/fixtures/metrics/sklearn_metrics.txt (format in make_metrics_fixtures.py).
std::map<std::string, Case> load_cases() {
  const std::string path = std::string(RECSYS_TEST_FIXTURES) + "/metrics/sklearn_metrics.txt";
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot open ", path);
  std::map<std::string, Case> cases;
  Case* current = nullptr;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::string key;
    ls >> key;
    if (key == "case") {
      std::string name;
      ls >> name;
      current = &cases[name];
      continue;
    }
    REQUIRE(current != nullptr);
    std::vector<double>& values = (*current)[key];
    for (double v; ls >> v;) values.push_back(v);
  }
  return cases;
}

std::vector<int> ints(const std::vector<double>& v) { return {v.begin(), v.end()}; }

double scalar(const Case& c, const std::string& key) {
  const auto it = c.find(key);
  REQUIRE_MESSAGE(it != c.end(), "fixture has no ", key);
  REQUIRE(it->second.size() == 1);
  return it->second[0];
}

constexpr double kTol = 1e-9;

#define CHECK_SKLEARN(c, key, value)                         \
  do {                                                       \
    const std::string metric_key = (key);                    \
    const double expected = scalar(c, metric_key);           \
    INFO(metric_key, ": ours ", value, ", sklearn ", expected); \
    CHECK(std::fabs((value) - expected) <= kTol);            \
  } while (0)

}  // namespace

TEST_CASE("binary classification metrics match sklearn") {
  const auto cases = load_cases();
  int checked = 0;
  for (const auto& [name, c] : cases) {
    if (name.rfind("binary", 0) != 0) continue;
    CAPTURE(name);
    const std::vector<int> yt = ints(c.at("y_true")), yp = ints(c.at("y_pred"));
    const std::vector<double>& score = c.at("y_score");
    const std::vector<double>& prob = c.at("y_prob");
    CHECK_SKLEARN(c, "accuracy", accuracy(yt, yp));
    CHECK_SKLEARN(c, "precision", precision(yt, yp));
    CHECK_SKLEARN(c, "recall", recall(yt, yp));
    CHECK_SKLEARN(c, "f1", f1(yt, yp));
    CHECK_SKLEARN(c, "precision_zd1", precision(yt, yp, {.zero_division = 1.0}));
    CHECK_SKLEARN(c, "roc_auc", roc_auc(yt, score));
    CHECK_SKLEARN(c, "average_precision", average_precision(yt, score));
    CHECK_SKLEARN(c, "log_loss", log_loss(yt, prob));
    const std::vector<int> labels{0, 1};
    const ConfusionMatrix cm = confusion_matrix(yt, yp, labels);
    const std::vector<double> expected_cm = c.at("confusion_matrix");
    REQUIRE(cm.counts.size() == expected_cm.size());
    for (std::size_t i = 0; i < cm.counts.size(); ++i) CHECK(cm.counts[i] == expected_cm[i]);
    ++checked;
  }
  CHECK(checked == 4);
}

TEST_CASE("binary metrics through the Tensor overloads match sklearn") {
  const Case c = load_cases().at("binary_unbalanced");
  // Labels as float32 (as a model's targets usually are), scores as float64.
  const Tensor yt = from_vector(c.at("y_true"), {static_cast<std::int64_t>(c.at("y_true").size())}).to(DType::float32);
  const Tensor yp = from_vector(c.at("y_pred"), {static_cast<std::int64_t>(c.at("y_pred").size())}).to(DType::int64);
  const Tensor score = from_vector(c.at("y_score"), {static_cast<std::int64_t>(c.at("y_score").size()), 1});
  const Tensor prob = from_vector(c.at("y_prob"), {static_cast<std::int64_t>(c.at("y_prob").size())});
  CHECK_SKLEARN(c, "accuracy", accuracy(yt, yp));
  CHECK_SKLEARN(c, "accuracy", binary_accuracy(yt, prob));  // y_pred was prob > 0.5
  CHECK_SKLEARN(c, "precision", precision(yt, yp));
  CHECK_SKLEARN(c, "recall", recall(yt, yp));
  CHECK_SKLEARN(c, "f1", f1(yt, yp));
  CHECK_SKLEARN(c, "roc_auc", roc_auc(yt, score));
  CHECK_SKLEARN(c, "average_precision", average_precision(yt, score));
  CHECK_SKLEARN(c, "log_loss", log_loss(yt, prob));
  CHECK(confusion_matrix(yt, yp).count(1, 1) == c.at("confusion_matrix")[3]);
}

TEST_CASE("multiclass averages match sklearn") {
  const Case c = load_cases().at("multiclass");
  const std::vector<int> yt = ints(c.at("y_true")), yp = ints(c.at("y_pred"));
  CHECK_SKLEARN(c, "accuracy", accuracy(yt, yp));
  const ConfusionMatrix cm = confusion_matrix(yt, yp);
  CHECK(cm.labels == ints(c.at("labels")));
  const std::vector<double> expected_cm = c.at("confusion_matrix");
  REQUIRE(cm.counts.size() == expected_cm.size());
  for (std::size_t i = 0; i < cm.counts.size(); ++i) CHECK(cm.counts[i] == expected_cm[i]);
  for (const auto& [avg, tag] : {std::pair{Average::micro, "micro"}, std::pair{Average::macro, "macro"},
                                 std::pair{Average::weighted, "weighted"}}) {
    CAPTURE(tag);
    const std::string suffix = std::string("_") + tag;
    CHECK_SKLEARN(c, "precision" + suffix, precision(yt, yp, {.average = avg}));
    CHECK_SKLEARN(c, "recall" + suffix, recall(yt, yp, {.average = avg}));
    CHECK_SKLEARN(c, "f1" + suffix, f1(yt, yp, {.average = avg}));
  }
}

TEST_CASE("regression metrics match sklearn") {
  const Case c = load_cases().at("regression");
  const std::vector<double>& y = c.at("y_reg_true");
  const std::vector<double>& p = c.at("y_reg_pred");
  CHECK_SKLEARN(c, "mse", mse(y, p));
  CHECK_SKLEARN(c, "rmse", rmse(y, p));
  CHECK_SKLEARN(c, "mae", mae(y, p));
  const auto n = static_cast<std::int64_t>(y.size());
  CHECK_SKLEARN(c, "mse", mse(from_vector(y, {n}), from_vector(p, {n}).to(DType::float64)));
  CHECK_SKLEARN(c, "rmse", rmse(from_vector(y, {n, 1}), from_vector(p, {n, 1})));
  CHECK_SKLEARN(c, "mae", mae(from_vector(y, {1, n}), from_vector(p, {n})));
}

TEST_CASE("dcg and ndcg scores match sklearn, tied scores included") {
  const auto cases = load_cases();
  for (const char* name : {"ndcg_ties", "ndcg_no_ties"}) {
    CAPTURE(name);
    const Case& c = cases.at(name);
    const auto rows = static_cast<std::int64_t>(scalar(c, "rows"));
    const auto cols = static_cast<std::int64_t>(c.at("rel").size()) / rows;
    const Tensor rel = from_vector(c.at("rel"), {rows, cols});
    const Tensor score = from_vector(c.at("score"), {rows, cols});
    CHECK_SKLEARN(c, "ndcg", ndcg_score(rel, score));
    CHECK_SKLEARN(c, "dcg", dcg_score(rel, score));
    for (int k : {1, 3, 5}) {
      CAPTURE(k);
      CHECK_SKLEARN(c, "ndcg_k" + std::to_string(k), ndcg_score(rel, score, k));
      CHECK_SKLEARN(c, "dcg_k" + std::to_string(k), dcg_score(rel, score, k));
    }
    const std::vector<double>& per_row = c.at("ndcg_rows");
    for (std::int64_t r = 0; r < rows; ++r) {
      const std::span<const double> rr(c.at("rel").data() + r * cols, static_cast<std::size_t>(cols));
      const std::span<const double> sr(c.at("score").data() + r * cols, static_cast<std::size_t>(cols));
      CHECK(std::fabs(ndcg(rr, sr) - per_row[static_cast<std::size_t>(r)]) <= kTol);
    }
  }
}
