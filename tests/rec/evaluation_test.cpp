// tests/rec/evaluation_test.cpp — the evaluation protocols by hand: splits, rating baselines, classification metrics, cross-validation, per-user values for A/B tests.
#include "rec/rec_test_util.hpp"

#include <set>

#include <recsys/rec/evaluation.hpp>

using namespace recsys;

namespace {

/// A recommender whose score is a fixed number per item (score of item i = table[i]).
class FixedScores : public rec::Recommender {
 public:
  explicit FixedScores(std::vector<double> table, std::optional<double> threshold = std::nullopt)
      : rec::Recommender({}), table_(std::move(table)), threshold_(threshold) {}
  std::string name() const override { return "fixed"; }
  std::optional<double> decision_threshold() const override { return threshold_; }

 protected:
  History fit_model(const rec::Dataset&, const rec::FitOptions&) override { return {}; }
  void score_items(std::int64_t, std::span<const std::int64_t> items, std::span<double> out) const override {
    for (std::size_t n = 0; n < items.size(); ++n) out[n] = table_[static_cast<std::size_t>(items[n])];
  }
  NamedTensors state_tensors() const override { return {}; }
  void restore(const rec::Dataset&, const rec::FitOptions&, const json::Value&, const NamedTensors&) override {}

 private:
  std::vector<double> table_;
  std::optional<double> threshold_;
};

}  // namespace

TEST_CASE("rec evaluation: seeded splits, plain and stratified") {
  const rec::Dataset d = recsys::testing::tiny_dataset();
  const rec::TrainTest a = rec::split_interactions(d, 0.25, 42);
  CHECK(a.train.size() == 6);
  CHECK(a.test.size() == 2);
  CHECK(a.test.num_items() == 5);  // the catalogue stays whole
  const rec::TrainTest b = rec::split_interactions(d, 0.25, 42);
  CHECK(a.test[0].item == b.test[0].item);
  CHECK(a.test[1].user == b.test[1].user);
  // Stratified: 5 liked and 3 not liked; a test set of 4 takes 2 or 3 liked (sklearn's rounding), never 0 or 4.
  const rec::TrainTest s = rec::split_interactions(d, 0.5, 1, true);
  std::int64_t liked = 0;
  for (const rec::Interaction& r : s.test.interactions()) liked += s.test.liked(r);
  CHECK(s.test.size() == 4);
  CHECK((liked == 2 || liked == 3));
  CHECK_THROWS_WITH_AS(rec::split_interactions(d.subset(std::vector<std::int64_t>{0})),
                       doctest::Contains("needs at least 2 interactions"), recsys::Error);
}

TEST_CASE("rec evaluation: rating baselines by hand") {
  const rec::Dataset d = recsys::testing::tiny_dataset();
  // train: rows 0-5 (mean 21/6 = 3.5; m0 has 5, 4, 2 → 11/3); test: cat's m1 = 5 and m4 = 3.
  const rec::Dataset train = d.subset(std::vector<std::int64_t>{0, 1, 2, 3, 4, 5});
  const rec::Dataset test = d.subset(std::vector<std::int64_t>{6, 7});
  const rec::RatingMetrics g = rec::global_mean_baseline(train, test);
  CHECK(g.rmse == doctest::Approx(std::sqrt((1.5 * 1.5 + 0.5 * 0.5) / 2)));
  CHECK(g.mae == doctest::Approx(1.0));
  CHECK(g.errors == std::vector<double>{-1.5, 0.5});
  // m1's only training rating is 4; m4 has none, so it gets the global mean 3.5.
  const rec::RatingMetrics i = rec::item_mean_baseline(train, test);
  CHECK(i.model == "item_mean");
  CHECK(i.errors == std::vector<double>{-1.0, 0.5});
  CHECK(i.rmse == doctest::Approx(std::sqrt((1.0 + 0.25) / 2)));
  CHECK(i.mae == doctest::Approx(0.75));
  const std::vector<double> three{1.0};
  CHECK_THROWS_WITH_AS(rec::rating_metrics("x", three, test), doctest::Contains("1 predictions for 2 test interactions"),
                       recsys::Error);
}

TEST_CASE("rec evaluation: classification metrics by hand") {
  const std::vector<int> y{1, 0, 1, 1, 0};
  const std::vector<double> p{0.9, 0.6, 0.4, 0.8, 0.1};
  const rec::ClassificationMetrics m = rec::classification_metrics("x", y, p, 0.5);
  CHECK(m.accuracy == doctest::Approx(0.6));
  CHECK(m.precision == doctest::Approx(2.0 / 3));
  CHECK(m.recall == doctest::Approx(2.0 / 3));
  CHECK(m.f1 == doctest::Approx(2.0 / 3));
  CHECK(m.auc == doctest::Approx(5.0 / 6));
  CHECK(m.correct == std::vector<double>{1, 0, 0, 1, 1});
  const rec::ClassificationMetrics at_07 = rec::classification_metrics("x", y, p, 0.7);
  CHECK(at_07.accuracy == doctest::Approx(0.8));
  const std::vector<int> ones{1, 1};
  const std::vector<double> two{0.2, 0.9};
  CHECK(std::isnan(rec::classification_metrics("x", ones, two, 0.5).auc));
  CHECK_THROWS_WITH_AS(rec::classification_metrics("x", y, two, 0.5), doctest::Contains("5 labels but 2 scores"),
                       recsys::Error);

  // Through a model: liked rows of the tiny data set against fixed item scores at threshold 0.5.
  const rec::Dataset d = recsys::testing::tiny_dataset();
  FixedScores model({0.9, 0.8, 0.1, 0.7, 0.2}, 0.5);
  model.fit(d);
  const rec::ClassificationMetrics c = rec::evaluate_classification(model, d);
  // Predicted liked: rows on m0, m1, m3 (6 rows); truly liked: 5 rows; cat's m0 (2 stars) is the one mistake.
  CHECK(c.n == 8);
  CHECK(c.accuracy == doctest::Approx(7.0 / 8));
  CHECK(c.recall == doctest::Approx(1.0));
  CHECK(c.precision == doctest::Approx(5.0 / 6));
  FixedScores no_threshold({1, 1, 1, 1, 1});
  no_threshold.fit(d);
  CHECK_THROWS_WITH_AS(rec::evaluate_classification(no_threshold, d), doctest::Contains("model 'fixed' does not predict likes"),
                       recsys::Error);
}

TEST_CASE("rec evaluation: stratified K-fold cross-validation fits one fresh model per fold") {
  const rec::Dataset& site = recsys::testing::small_site();
  std::vector<std::int64_t> rows(600);
  for (std::size_t k = 0; k < rows.size(); ++k) rows[k] = static_cast<std::int64_t>(k);
  const rec::Dataset part = site.subset(rows);
  rec::FitOptions o = rec::default_options("review");
  o.epochs = 1;
  o.embedding_dim = o.filters = o.lstm_units = 8;
  o.max_length = 30;
  const rec::CrossValidation cv = rec::cross_validate("review", part, o, 3, 42);
  REQUIRE(cv.folds.size() == 3);
  std::int64_t n = 0;
  double mean = 0;
  for (const auto& f : cv.folds) {
    n += f.n;
    mean += f.accuracy / 3;
    CHECK((f.n == 200));
  }
  CHECK(n == 600);
  CHECK(cv.mean_accuracy == doctest::Approx(mean));
  CHECK(cv.std_accuracy >= 0);
  CHECK_THROWS_WITH_AS(rec::cross_validate("popularity", part, rec::default_options("popularity"), 3),
                       doctest::Contains("does not predict likes"), recsys::Error);
}
