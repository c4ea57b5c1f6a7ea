// tests/rec/pipeline_test.cpp — the whole pipeline (generate or read data, clean, train, evaluate, save, reload in a fresh model, recommend) with quality bars a broken model cannot pass: on generated data, a MovieLens sample and the UCI sentences.
#include "rec/rec_test_util.hpp"

#include <recsys/rec/evaluation.hpp>

using namespace recsys;
using recsys::testing::TempDir;

namespace {

/// Sizes that train in seconds on two cores; the CLI and the demo use the real ones.
rec::FitOptions quick(const std::string& kind) {
  rec::FitOptions o = rec::default_options(kind);
  o.seed = 1;
  if (kind == "mf") {
    o.loss = "bpr";
    o.epochs = 10;
    o.batch_size = 256;
    o.l2 = 0.01;
    o.threads = 1;  // tiny steps: one thread is fastest, and results do not depend on it
  }
  if (kind == "sequence") {
    o.epochs = 5;
    o.embedding_dim = o.filters = o.lstm_units = 32;
    o.history = 4;
    o.item_tokens = 8;
    o.negatives = 4;
    o.batch_size = 64;
    o.lr = 0.003;
  }
  if (kind == "review") {
    o.epochs = 5;
    o.embedding_dim = o.filters = o.lstm_units = 32;
    o.max_length = 40;
  }
  return o;
}

/// Ranking metrics of `kind` trained on the split's training part.
rec::RankingReport ranking(const std::string& kind, const rec::Holdout& split, rec::FitOptions o) {
  auto model = rec::make_recommender(kind, o);
  model->fit(split.train);
  return rec::evaluate_ranking(*model, split);
}

}  // namespace

TEST_CASE("rec pipeline: generated site: clean, train, save, reload in another model, recommend unseen titles") {
  TempDir dir("pipeline");
  const data::SyntheticSummary summary =
      data::write_synthetic(dir.file("site"), {.users = 120, .items = 150, .ratings = 4000, .seed = 11});
  const rec::Dataset data = rec::load_synthetic(dir.file("site"));
  CHECK(data.cleaning().duplicate_rows == summary.duplicate_rating_rows);
  CHECK(data.cleaning().missing_reviews == summary.missing_reviews);
  const rec::TrainTest tt = rec::split_interactions(data, 0.2, 42);
  for (const std::string& kind : rec::recommender_kinds()) {
    INFO("model ", kind);
    rec::FitOptions o = quick(kind);
    o.epochs = std::min(o.epochs, 2);
    auto model = rec::make_recommender(kind, o);
    model->fit(tt.train);
    model->save(dir.file(kind));
    const auto reloaded = rec::load_recommender(dir.file(kind));  // what another process does
    const std::string user = data.user_id(17);
    const auto list = reloaded->recommend(user, 10);
    REQUIRE(list.size() == 10);
    CHECK(list == model->recommend(user, 10));
    for (std::size_t k = 0; k < list.size(); ++k) {
      CHECK_FALSE(std::binary_search(reloaded->seen(17).begin(), reloaded->seen(17).end(), list[k].item));
      CHECK_FALSE(reloaded->data().item(list[k].item).title.empty());
      if (k > 0) CHECK(list[k - 1].score >= list[k].score);
    }
    // The same seed gives the same list.
    auto again = rec::make_recommender(kind, o);
    again->fit(tt.train);
    CHECK(again->recommend(user, 10) == list);
  }
}

TEST_CASE("rec pipeline: a taste-driven site: every model beats popularity on HR@10, MF beats the rating baselines") {
  TempDir dir("taste");
  // People choose by taste more than by popularity here, so a model that learned nothing personal
  // cannot beat the popularity list (measured: popularity 0.21, content 0.36, mf 0.40, sequence 0.33).
  data::write_synthetic(dir.str(), {.users = 400, .items = 400, .ratings = 20000, .seed = 1, .selection_strength = 3,
                                    .popularity_exponent = 0.3});
  const rec::Dataset data = rec::load_synthetic(dir.str());
  // Each user's last liked item among 100 sampled unseen ones (ties count neutrally).
  const rec::Holdout split = rec::make_holdout(data, {.target = "liked", .negatives = 100});
  const double pop = ranking("popularity", split, quick("popularity")).mean("hr@10");
  const rec::RankingReport mf = ranking("mf", split, quick("mf"));
  const rec::RankingReport seq = ranking("sequence", split, quick("sequence"));
  const rec::RankingReport content = ranking("content", split, quick("content"));
  MESSAGE("HR@10 popularity ", pop, ", mf ", mf.mean("hr@10"), ", sequence ", seq.mean("hr@10"), ", content ",
          content.mean("hr@10"), " (chance ", mf.chance_hit[0], ")");
  CHECK(pop > mf.chance_hit[0]);  // above chance (10 of 101), so the bars below mean something
  CHECK(mf.mean("hr@10") > pop + 0.1);
  CHECK(seq.mean("hr@10") > pop + 0.05);
  CHECK(content.mean("hr@10") > pop + 0.05);
  CHECK(mf.mean("ndcg@10") > seq.mean("ndcg@10") - 0.1);

  const rec::TrainTest tt = rec::split_interactions(data, 0.2, 42);
  rec::FitOptions o = rec::default_options("mf");
  o.batch_size = 256;
  o.l2 = 0.3;
  auto rating_mf = rec::make_recommender("mf", o);
  rating_mf->fit(tt.train);
  const rec::RatingMetrics m = rec::evaluate_ratings(*rating_mf, tt.test);
  const rec::RatingMetrics item = rec::item_mean_baseline(tt.train, tt.test);
  MESSAGE("RMSE mf ", m.rmse, ", item mean ", item.rmse);
  CHECK(m.rmse < item.rmse - 0.03);
}

TEST_CASE("rec pipeline: the review classifier and the sequence ranker classify held-out likes on the site") {
  TempDir dir("likes");
  const data::SyntheticSummary s = data::write_synthetic(dir.str(), {.users = 300, .items = 300, .ratings = 12000, .seed = 2});
  const rec::Dataset data = rec::load_synthetic(dir.str());
  const rec::TrainTest tt = rec::split_interactions(data, 0.2, 42, true);
  auto review = rec::make_recommender("review", quick("review"));
  review->fit(tt.train);
  const rec::ClassificationMetrics r = rec::evaluate_classification(*review, tt.test);
  auto seq = rec::make_recommender("sequence", quick("sequence"));
  seq->fit(tt.train);
  const rec::ClassificationMetrics q = rec::evaluate_classification(*seq, tt.test);
  const double majority = std::max(s.like_rate, 1 - s.like_rate);
  MESSAGE("accuracy: review ", r.accuracy, " (AUC ", r.auc, "), sequence ", q.accuracy, " (AUC ", q.auc,
          "); majority ", majority, ", Bayes-optimal ", s.bayes_accuracy);
  CHECK(r.accuracy > 0.7);
  CHECK(r.auc > 0.75);
  CHECK(r.accuracy < s.bayes_accuracy + 0.05);  // nothing beats the Bayes rate by more than noise
  // The ranker learns mostly what people pick (its negatives), less whether they like it: measured
  // AUC 0.56 here (0.64 when trained without negatives), where user-item models top out near 0.65.
  CHECK(q.auc > 0.54);
  CHECK(q.accuracy > majority - 0.02);
}

TEST_CASE("rec pipeline: MovieLens 5% sample: train, save, reload, recommend, and MF is below the item-mean RMSE") {
  const std::string dir = recsys::testing::shared_data("movielens-ml-latest-small");
  if (dir.empty()) return;
  const rec::Dataset sample = rec::load_movielens(dir).sample_users(0.05, 1);
  const rec::TrainTest tt = rec::split_interactions(sample, 0.2, 42);
  rec::FitOptions o = rec::default_options("mf");
  o.batch_size = 128;  // ~4k ratings: more, smaller steps than the full set's default
  o.l2 = 0.3;
  o.threads = 1;
  auto mf = rec::make_recommender("mf", o);
  mf->fit(tt.train);
  const rec::RatingMetrics m = rec::evaluate_ratings(*mf, tt.test);
  const rec::RatingMetrics item = rec::item_mean_baseline(tt.train, tt.test);
  const rec::RatingMetrics global = rec::global_mean_baseline(tt.train, tt.test);
  MESSAGE("5% sample, 80/20: mf RMSE ", m.rmse, " MAE ", m.mae, "; item mean ", item.rmse, "; global mean ", global.rmse);
  CHECK(m.rmse < item.rmse);
  CHECK(m.rmse < global.rmse);

  TempDir out("ml_mf");
  mf->save(out.str());
  const auto back = rec::load_recommender(out.str());
  const std::string user = back->data().user_id(tt.train[0].user);
  const auto list = back->recommend(user, 10);
  CHECK(list == mf->recommend(user, 10));
  for (const rec::ScoredItem& s : list) {
    CHECK_FALSE(std::binary_search(back->seen(tt.train[0].user).begin(), back->seen(tt.train[0].user).end(), s.item));
    CHECK(back->data().item(s.item).year > 1900);  // a real MovieLens title "Name (year)"
  }
}

TEST_CASE("rec pipeline: MovieLens leave-last-out: MF beats popularity, the sequence ranker is far above chance") {
  const std::string dir = recsys::testing::shared_data("movielens-ml-latest-small");
  if (dir.empty()) return;
  const rec::Dataset all = rec::load_movielens(dir);
  // MF on all 610 users (a few seconds), each user's last like among 100 sampled unseen items;
  // measured HR@10: mf 0.78, popularity 0.65. (Under full ranking this MF is no better than
  // popularity: tests/rec/neighbourhood_test.cpp holds the full-ranking bars.)
  const rec::Holdout split = rec::make_holdout(all, {.target = "liked", .negatives = 100});
  const rec::RankingReport pop = ranking("popularity", split, quick("popularity"));
  const rec::RankingReport mf = ranking("mf", split, quick("mf"));
  const metrics::ABTestResult ab = metrics::ab_test(pop.per_user("hr@10"), mf.per_user("hr@10"), {.resamples = 2000});
  MESSAGE("ml-latest-small HR@10: popularity ", pop.mean("hr@10"), ", mf ", mf.mean("hr@10"), " (difference ",
          ab.difference, ", 95% CI [", ab.ci_low, ", ", ab.ci_high, "])");
  CHECK(ab.ci_low > 0.05);
  CHECK(mf.mean("ndcg@10") > pop.mean("ndcg@10") + 0.05);

  // The sequence ranker on a quarter of the users (its training is the expensive one); measured
  // HR@10 0.58-0.64 where popularity scores 0.66 and a constant scorer 0.1.
  const rec::Holdout quarter = rec::make_holdout(all.sample_users(0.25, 1), {.target = "liked", .negatives = 100});
  const double seq = ranking("sequence", quarter, quick("sequence")).mean("hr@10");
  const double pop_q = ranking("popularity", quarter, quick("popularity")).mean("hr@10");
  MESSAGE("25% of users HR@10: sequence ", seq, ", popularity ", pop_q);
  CHECK(seq > 0.5);
  CHECK(seq > pop_q - 0.12);
}

TEST_CASE("rec pipeline: the review classifier on the UCI sentences") {
  const std::string dir = recsys::testing::shared_data("uci-sentiment-labelled-sentences");
  if (dir.empty()) return;
  const rec::Dataset uci = rec::load_uci_sentences(dir);
  const rec::TrainTest tt = rec::split_interactions(uci, 0.2, 42, true);
  auto model = rec::make_recommender("review", quick("review"));
  model->fit(tt.train);
  const rec::ClassificationMetrics m = rec::evaluate_classification(*model, tt.test);
  MESSAGE("UCI (3 sources pooled), held-out 20%: accuracy ", m.accuracy, ", F1 ", m.f1, ", AUC ", m.auc);
  CHECK(m.accuracy > 0.7);
  CHECK(m.auc > 0.8);
  // One source, 5-fold stratified cross-validation: every fold clears chance.
  const rec::Dataset yelp = uci.subset([&] {
    std::vector<std::int64_t> rows;
    for (std::int64_t r = 0; r < uci.size(); ++r)
      if (uci.user_id(uci[r].user) == "yelp") rows.push_back(r);
    return rows;
  }());
  const rec::CrossValidation cv = rec::cross_validate("review", yelp, quick("review"), 5, 42);
  MESSAGE("yelp 5-fold CV accuracy ", cv.mean_accuracy, " +- ", cv.std_accuracy);
  CHECK(cv.mean_accuracy > 0.65);
  for (const rec::ClassificationMetrics& f : cv.folds) CHECK(f.accuracy > 0.55);
}

TEST_CASE("rec pipeline: review-linear on each UCI source, 5-fold CV with each fold's l2 chosen inside the fold") {
  const std::string dir = recsys::testing::shared_data("uci-sentiment-labelled-sentences");
  if (dir.empty()) return;
  const rec::Dataset uci = rec::load_uci_sentences(dir);
  const rec::FitOptions o = rec::default_options("review-linear");
  // Measured (README): 0.826 / 0.793 / 0.818, beside scikit-learn's TF-IDF + LR on the same folds.
  for (const char* source : {"amazon_cells", "imdb", "yelp"}) {
    const rec::Dataset one = uci.subset([&] {
      std::vector<std::int64_t> rows;
      for (std::int64_t r = 0; r < uci.size(); ++r)
        if (uci.user_id(uci[r].user) == source) rows.push_back(r);
      return rows;
    }());
    const rec::CrossValidation cv =
        rec::cross_validate("review-linear", one, o, 5, 42, rec::tune_each_fold("review-linear", o, 0.2, 42));
    MESSAGE(source, " review-linear 5-fold CV accuracy ", cv.mean_accuracy, " +- ", cv.std_accuracy);
    CHECK(cv.mean_accuracy > 0.76);
    REQUIRE(cv.fold_options.size() == 5);
    for (const rec::FitOptions& f : cv.fold_options)  // a point of the grid
      CHECK((f.l2 == 3e-5 || f.l2 == 1e-4 || f.l2 == 3e-4 || f.l2 == 1e-3));
    // Every row is scored once, out of its fold.
    CHECK(std::count(cv.fold_of_row.begin(), cv.fold_of_row.end(), -1) == 0);
    CHECK(cv.scores.size() == static_cast<std::size_t>(one.size()));
  }
}
