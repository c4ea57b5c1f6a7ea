// tests/rec/tuning_test.cpp — choosing settings on validation rows (the grid product, the best point, the refit options), the split diagnostics that warn about leakage, and MF's learned "liked" cut.
#include "rec/rec_test_util.hpp"

#include <recsys/rec/diagnostics.hpp>
#include <recsys/rec/evaluation.hpp>
#include <recsys/rec/tuning.hpp>

using namespace recsys;

TEST_CASE("tuning: the grid is the product of the axes, the first varying slowest") {
  const std::vector<json::Value> g = rec::grid_points({{"l2", {0.1, 0.2}}, {"factors", {8, 16, 32}}});
  REQUIRE(g.size() == 6);
  CHECK(json::dump(g[0]) == "{\"l2\":0.1,\"factors\":8}");
  CHECK(json::dump(g[5]) == "{\"l2\":0.2,\"factors\":32}");
  CHECK_THROWS_WITH_AS(rec::grid_points({{"l2", {}}}), doctest::Contains("axis 'l2' has no values"), Error);
}

TEST_CASE("tuning: every point is fitted and scored on the validation rows, the best one's options come back") {
  const rec::Dataset& site = recsys::testing::small_site();
  const rec::Holdout test = rec::make_holdout(site, {});
  const rec::Holdout validation = rec::make_validation(test, {});
  CHECK(validation.train.size() < test.train.size());
  rec::FitOptions base = rec::default_options("mf");
  base.loss = "bpr";
  base.epochs = 2;
  base.threads = 1;
  std::vector<double> seen_l2;
  const rec::TuningResult r = rec::tune(
      "mf", base, validation.train,
      [&](const rec::Recommender& m) {
        CHECK(m.data().size() == validation.train.size());  // fitted on the validation fit rows only
        seen_l2.push_back(m.options().l2);
        return -std::fabs(m.options().l2 - 0.01);  // a score that prefers l2 = 0.01
      },
      "closeness", true, {{"l2", {0.001, 0.01, 0.1}}});
  CHECK(seen_l2 == std::vector<double>{0.001, 0.01, 0.1});
  CHECK(r.grid_size() == 3);
  CHECK(r.best == 1);
  CHECK(r.chosen.l2 == 0.01);
  CHECK(r.chosen.epochs == 2);  // everything else as given
  CHECK(r.to_json().at("grid_size").as_int64() == 3);
  CHECK(json::dump(r.to_json().at("chosen")) == "{\"l2\":0.01}");
  // Without a grid of its own the model's declared one is used.
  CHECK(rec::make_recommender("mf", base)->tuning_grid().size() == 2);
}

TEST_CASE("split diagnostics: copied reviews, cold items and an untouched catalogue are counted and warned about") {
  const rec::Dataset d = recsys::testing::tiny_dataset();
  // ann's m2 row copies her m1 review, rating and time onto another item (a product-variant dump).
  std::vector<rec::Interaction> rows = d.interactions();
  rows.push_back({0, 4, 4, 2, "lovely"});
  const rec::Dataset copied = d.with_interactions(rows);
  const rec::Dataset train = copied.subset(std::vector<std::int64_t>{0, 1, 3, 5});
  const rec::Dataset test = copied.subset(std::vector<std::int64_t>{8, 4});
  const rec::SplitDiagnostics s = rec::diagnose_split(train, test);
  CHECK(s.test_rows == 2);
  CHECK(s.duplicated_in_train == 1);  // row 8 copies row 1
  CHECK(s.cold_item_rows == 2);       // m4 and m3 have no training row
  CHECK(s.never_interacted == 1);     // m2: neither in train nor in test
  const std::vector<std::string> w = s.warnings();
  REQUIRE(w.size() == 2);
  CHECK(w[0].find("50% of the test rows (1) have an exact copy") != std::string::npos);
  CHECK(w[1].find("training never saw") != std::string::npos);
  CHECK(s.to_json().at("warnings").as_array().size() == 2);
  const rec::SplitDiagnostics clean = rec::diagnose_split(d.subset(std::vector<std::int64_t>{0, 1, 2, 3, 4, 5}),
                                                          d.subset(std::vector<std::int64_t>{6}));
  CHECK(clean.duplicated_in_train == 0);
  CHECK(clean.warnings().empty());
}

TEST_CASE("best_accuracy_threshold and MF's learned cut for liked") {
  const std::vector<int> y{0, 0, 1, 0, 1, 1};
  const std::vector<double> s{1, 2, 3, 3.5, 4, 5};
  // Cutting between 2 and 3 misclassifies one row (3.5); nothing does better.
  CHECK(metrics::best_accuracy_threshold(y, s) == doctest::Approx(2.5));
  const std::vector<int> all_ones{1, 1};
  const std::vector<double> two{0.3, 0.7};
  CHECK(metrics::best_accuracy_threshold(all_ones, two) < 0.3);  // everything positive
  const std::vector<double> nan{0.3, NAN};
  CHECK_THROWS_WITH_AS(metrics::best_accuracy_threshold(all_ones, nan), doctest::Contains("best_accuracy_threshold"), Error);
  // A rating model's cut is learned from the training rows and survives save/load.
  const rec::Dataset& site = recsys::testing::small_site();
  const rec::TrainTest tt = rec::split_interactions(site, 0.2, 42);
  rec::FitOptions o = rec::default_options("mf");
  o.epochs = 3;
  o.threads = 1;
  auto mf = rec::make_recommender("mf", o);
  mf->fit(tt.train);
  const double cut = *mf->decision_threshold();
  CHECK(cut != 4.0);
  std::vector<int> liked;
  for (const rec::Interaction& r : tt.train.interactions()) liked.push_back(tt.train.liked(r));
  const std::vector<double> p = mf->predict(tt.train);
  CHECK(rec::classification_metrics("mf", liked, p, cut).accuracy >=
        rec::classification_metrics("mf", liked, p, 4.0).accuracy);
  recsys::testing::TempDir dir("mf_cut");
  mf->save(dir.str());
  CHECK(*rec::load_recommender(dir.str())->decision_threshold() == cut);
}
