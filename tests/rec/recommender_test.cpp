// tests/rec/recommender_test.cpp — the Recommender interface: top-N by partial sort, exclusion of seen items, save/reload, errors; exercised through Popularity.
#include "rec/rec_test_util.hpp"

#include <recsys/rec/recommender.hpp>

using namespace recsys;
using recsys::testing::TempDir;

TEST_CASE("rec top_n: hand-worked partial sort with ties, NaN and exclusions") {
  const std::vector<double> scores{0.5, 2.0, -1.0, 2.0, std::nan(""), 0.7};
  const auto best = rec::top_n(scores, 3);
  REQUIRE(best.size() == 3);
  CHECK(best[0] == rec::ScoredItem{1, 2.0});  // tie with item 3: the lower index first
  CHECK(best[1] == rec::ScoredItem{3, 2.0});
  CHECK(best[2] == rec::ScoredItem{5, 0.7});
  const std::vector<std::uint8_t> exclude{0, 1, 0, 0, 0, 1};
  const auto rest = rec::top_n(scores, 10, exclude);
  REQUIRE(rest.size() == 4);  // fewer candidates than n: all of them, sorted
  CHECK(rest[0].item == 3);
  CHECK(rest[1].item == 0);
  CHECK(rest[2].item == 2);
  CHECK(rest[3].item == 4);  // NaN ranks last
  CHECK(rec::top_n(scores, 0).empty());
  CHECK_THROWS_WITH_AS(rec::top_n(scores, -1), doctest::Contains("n must be non-negative, got -1"), recsys::Error);
  const std::vector<std::uint8_t> short_mask{0, 1};
  CHECK_THROWS_WITH_AS(rec::top_n(scores, 2, short_mask), doctest::Contains("6 scores but 2 exclusion flags"),
                       recsys::Error);
}

TEST_CASE("rec popularity: counts, recommendations without seen items, batched lists") {
  const rec::Dataset d = recsys::testing::tiny_dataset();
  auto model = rec::make_recommender("popularity");
  CHECK(model->name() == "popularity");
  model->fit(d);
  const std::vector<std::int64_t> items{0, 1, 2, 3, 4};
  CHECK(model->score(0, items) == std::vector<double>{3, 2, 1, 1, 1});
  // ann (0) has seen items 0, 1, 2: left are 3 and 4 (tied at 1: the lower index first).
  const auto ann = model->recommend(0, 10);
  REQUIRE(ann.size() == 2);
  CHECK(ann[0] == rec::ScoredItem{3, 1.0});
  CHECK(ann[1] == rec::ScoredItem{4, 1.0});
  const auto all = model->recommend(0, 2, false);
  CHECK(all[0].item == 0);
  CHECK(all[1].item == 1);
  CHECK(model->recommend(std::string("bob"), 1)[0].item == 1);
  const std::vector<std::int64_t> users{2, 1};
  const auto lists = model->recommend(users, 3);
  REQUIRE(lists.size() == 2);
  CHECK(lists[0] == model->recommend(2, 3));
  CHECK(lists[1] == model->recommend(1, 3));
  CHECK(model->seen(1) == std::vector<std::int64_t>{0, 3});
  CHECK_FALSE(model->decision_threshold().has_value());
}

TEST_CASE("rec recommender: errors for unknown users and items, untrained models and bad options") {
  const rec::Dataset d = recsys::testing::tiny_dataset();
  auto model = rec::make_recommender("popularity");
  CHECK_THROWS_WITH_AS(model->recommend(0), doctest::Contains("popularity.recommend: the model is not trained"),
                       recsys::Error);
  model->fit(d);
  const std::vector<std::int64_t> bad_item{7};
  CHECK_THROWS_WITH_AS(model->score(0, bad_item), doctest::Contains("popularity.score: item index 7 is outside [0, 5)"),
                       recsys::Error);
  CHECK_THROWS_WITH_AS(model->recommend(3), doctest::Contains("user index 3 is outside [0, 3)"), recsys::Error);
  CHECK_THROWS_WITH_AS(model->recommend(std::string("zed")), doctest::Contains("unknown user id 'zed'"), recsys::Error);
  CHECK_THROWS_WITH_AS(model->recommend(0, -2), doctest::Contains("n must be non-negative"), recsys::Error);
  rec::FitOptions o;
  o.epochs = 0;
  CHECK_THROWS_WITH_AS(model->fit(d, o), doctest::Contains("popularity.fit: epochs must be positive, got 0"),
                       recsys::Error);
  o = {};
  o.optimizer = "rmsprop";
  CHECK_THROWS_WITH_AS(model->fit(d, o), doctest::Contains("optimizer must be 'adam' or 'sgd', got 'rmsprop'"),
                       recsys::Error);
  CHECK_THROWS_WITH_AS(model->fit(d.subset(std::vector<std::int64_t>{})), doctest::Contains("no interactions"),
                       recsys::Error);
  CHECK_THROWS_WITH_AS(rec::make_recommender("knn"), doctest::Contains("unknown model 'knn' (expected one of review"),
                       recsys::Error);
  rec::Item lone;
  lone.id = "a";
  const rec::Dataset other({"x"}, {lone}, {{0, 0, 5, 0, ""}});
  CHECK_THROWS_WITH_AS(model->predict(other), doctest::Contains("predict on a split of the same data set"),
                       recsys::Error);
}

TEST_CASE("rec recommender: save and load_recommender give the same scores and lists") {
  const rec::Dataset d = recsys::testing::tiny_dataset();
  auto model = rec::make_recommender("popularity");
  model->fit(d);
  TempDir dir("pop_save");
  model->save(dir.str());
  const auto back = rec::load_recommender(dir.str());
  CHECK(back->name() == "popularity");
  CHECK(back->data().user_ids() == d.user_ids());
  for (std::int64_t u = 0; u < d.num_users(); ++u) {
    CHECK(back->score_all(u) == model->score_all(u));
    CHECK(back->recommend(u, 5) == model->recommend(u, 5));
  }
}

TEST_CASE("rec recommender: load_recommender on bad folders and files") {
  TempDir dir("bad_model");
  CHECK_THROWS_WITH_AS(rec::load_recommender(dir.file("missing")), doctest::Contains("no folder"), recsys::Error);
  CHECK_THROWS_WITH_AS(rec::load_recommender(dir.str()), doctest::Contains("not a saved model folder"), recsys::Error);
  recsys::testing::write_text(dir.file("model.json"), "{\"format\": \"recsys-recommender\", \"model\": ");
  CHECK_THROWS_WITH_AS(rec::load_recommender(dir.str()), doctest::Contains("model.json': json: line 1"), recsys::Error);
  recsys::testing::write_text(dir.file("model.json"), "{\"format\": \"other\"}");
  CHECK_THROWS_WITH_AS(rec::load_recommender(dir.str()), doctest::Contains("is not a recsys model file"), recsys::Error);
  recsys::testing::write_text(dir.file("model.json"), "{\"format\": \"recsys-recommender\", \"model\": \"knn\"}");
  CHECK_THROWS_WITH_AS(rec::load_recommender(dir.str()), doctest::Contains("unknown model 'knn'"), recsys::Error);

  // A real save with a damaged weights file.
  auto model = rec::make_recommender("popularity");
  model->fit(recsys::testing::tiny_dataset());
  model->save(dir.str());
  recsys::testing::write_text(dir.file("model.safetensors"), "garbage");
  CHECK_THROWS_AS(rec::load_recommender(dir.str()), recsys::Error);
  std::filesystem::remove(dir.file("model.safetensors"));
  CHECK_THROWS_WITH_AS(rec::load_recommender(dir.str()), doctest::Contains("no file"), recsys::Error);
}
