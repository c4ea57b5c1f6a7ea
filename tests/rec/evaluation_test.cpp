// tests/rec/evaluation_test.cpp — the evaluation protocols by hand: splits, rating baselines, leave-last-out with sampled negatives, HR/NDCG of a known ranking, classification metrics, cross-validation, per-user values for A/B tests.
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

TEST_CASE("rec evaluation: leave-last-out holds out each user's last like and samples unseen negatives") {
  const rec::Dataset d = recsys::testing::tiny_dataset();
  const rec::LeaveLastOut s = rec::leave_last_out(d, 100, 42);
  // ann: m0 (t1) and m1 (t2) liked → m1 held out; bob: m0 (t1), m3 (t2) → m3; cat liked one item only.
  CHECK(s.users == std::vector<std::int64_t>{0, 1});
  CHECK(s.held_out == std::vector<std::int64_t>{1, 3});
  CHECK(s.train.size() == 6);
  // Fewer than 100 unseen items: all of them.
  CHECK(s.negatives[0] == std::vector<std::int64_t>{3, 4});
  CHECK(s.negatives[1] == std::vector<std::int64_t>{1, 2, 4});

  const rec::Dataset& site = recsys::testing::small_site();
  const rec::LeaveLastOut a = rec::leave_last_out(site, 50, 7), b = rec::leave_last_out(site, 50, 7);
  const rec::LeaveLastOut c = rec::leave_last_out(site, 50, 8);
  CHECK(a.negatives == b.negatives);
  CHECK(a.negatives != c.negatives);
  const auto seen = site.seen_matrix();
  for (std::size_t n = 0; n < a.users.size(); ++n) {
    const auto& neg = a.negatives[n];
    CHECK(neg.size() == 50);
    CHECK(std::set<std::int64_t>(neg.begin(), neg.end()).size() == 50);
    for (std::int64_t i : neg) CHECK_FALSE(seen[static_cast<std::size_t>(a.users[n])][static_cast<std::size_t>(i)]);
  }
  CHECK(a.train.size() + static_cast<std::int64_t>(a.users.size()) == site.size());
  CHECK_THROWS_WITH_AS(rec::leave_last_out(d, 0), doctest::Contains("negatives must be at least 1"), recsys::Error);
  std::vector<rec::Interaction> dislikes = d.interactions();
  for (auto& r : dislikes) r.rating = 1;
  CHECK_THROWS_WITH_AS(rec::leave_last_out(d.with_interactions(dislikes)), doctest::Contains("no interaction is liked"),
                       recsys::Error);
}

TEST_CASE("rec evaluation: HR@K and NDCG@K of a known ranking, per user") {
  const rec::Dataset d = recsys::testing::tiny_dataset();
  const rec::LeaveLastOut s = rec::leave_last_out(d, 100, 42);
  FixedScores model({5, 4, 3, 2, 1});  // ranks items by index
  model.fit(s.train);
  // ann: candidates {1, 3, 4} → m1 first. bob: {3, 1, 2, 4} → order 1, 2, 3, 4: m3 third.
  const rec::RankingMetrics k1 = rec::evaluate_ranking(model, s, 1);
  CHECK(k1.hits == std::vector<double>{1, 0});
  CHECK(k1.hit_rate == 0.5);
  const rec::RankingMetrics k3 = rec::evaluate_ranking(model, s, 3);
  CHECK(k3.users == std::vector<std::int64_t>{0, 1});
  CHECK(k3.hits == std::vector<double>{1, 1});
  CHECK(k3.ndcgs[0] == doctest::Approx(1.0));
  CHECK(k3.ndcgs[1] == doctest::Approx(0.5));  // 1 / log2(2 + 2)
  CHECK(k3.ndcg == doctest::Approx(0.75));
  CHECK(k3.model == "fixed");
  // The per-user values feed a paired A/B test directly.
  FixedScores reversed({1, 2, 3, 4, 5});
  reversed.fit(s.train);
  const rec::RankingMetrics r3 = rec::evaluate_ranking(reversed, s, 3);
  const metrics::ABTestResult ab = metrics::ab_test(r3.ndcgs, k3.ndcgs, {.resamples = 200});
  CHECK(ab.metric_b == doctest::Approx(k3.ndcg));
  CHECK(ab.metric_a == doctest::Approx(r3.ndcg));
  CHECK_THROWS_WITH_AS(rec::evaluate_ranking(model, s, 0), doctest::Contains("k must be at least 1"), recsys::Error);
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
