// tests/rec/models_test.cpp — each recommender's formula checked by hand, its inputs (no leakage), determinism across seeds and thread counts, save/reload, and its errors.
#include "rec/rec_test_util.hpp"
#include "test_util.hpp"

#include <cmath>
#include <map>
#include <set>

#include <recsys/rec/recommender.hpp>

using namespace recsys;
using recsys::testing::TempDir;

namespace {

/// Small widths and one epoch: enough to exercise the code paths quickly.
rec::FitOptions tiny(const std::string& kind) {
  rec::FitOptions o = rec::default_options(kind);
  o.epochs = 1;
  o.batch_size = 64;
  o.embedding_dim = o.filters = o.lstm_units = 8;
  o.max_length = 20;
  o.history = 3;
  o.item_tokens = 6;
  o.negatives = 1;
  o.factors = 4;
  o.seed = 5;
  return o;
}

bool same_weights(const NamedTensors& a, const NamedTensors& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t k = 0; k < a.size(); ++k)
    if (a[k].first != b[k].first || !recsys::testing::bitwise_equal(a[k].second, b[k].second)) return false;
  return true;
}

}  // namespace

TEST_CASE("rec mf: scores are mu + b_u + b_i + p_u . q_i (mse) and b_i + p_u . q_i (bpr)") {
  const rec::Dataset d = recsys::testing::tiny_dataset();
  for (const char* loss : {"mse", "bpr"}) {
    rec::FitOptions o = tiny("mf");
    o.loss = loss;
    o.epochs = 3;
    rec::MatrixFactorization mf(o);
    mf.fit(d);
    const rec::FactorModel& f = mf.factors();
    const auto p = f.user_factors.embeddings(), q = f.item_factors.embeddings();
    const auto bu = f.user_bias.embeddings(), bi = f.item_bias.embeddings();
    const std::vector<std::int64_t> items{4, 0, 2};
    const std::vector<double> got = mf.score(1, items);
    for (std::size_t n = 0; n < items.size(); ++n) {
      const std::int64_t i = items[n];
      double expect = bi.at<double>({i, 0});
      for (std::int64_t k = 0; k < 4; ++k) expect += p.at<double>({1, k}) * q.at<double>({i, k});
      if (std::string(loss) == "mse") expect += mf.global_mean() + bu.at<double>({1, 0});
      CHECK(got[n] == doctest::Approx(expect).epsilon(1e-9));
    }
    CHECK(mf.global_mean() == (std::string(loss) == "mse" ? doctest::Approx(29.0 / 8) : doctest::Approx(0.0)));
    CHECK(mf.decision_threshold().has_value() == (std::string(loss) == "mse"));
  }
}

TEST_CASE("rec mf: training lowers the loss and beats the item mean on the synthetic site") {
  const rec::Dataset& site = recsys::testing::small_site();
  const rec::TrainTest tt = rec::split_interactions(site, 0.2, 42);
  rec::FitOptions o = rec::default_options("mf");
  o.seed = 1;
  o.batch_size = 128;  // a small data set needs more steps than MovieLens' default
  o.l2 = 0.3;
  auto mf = rec::make_recommender("mf", o);
  const History h = mf->fit(tt.train);
  REQUIRE(h.epochs() == 20);
  CHECK(h["loss"].back() < h["loss"].front() - 0.1);
  CHECK(h["rmse"].back() < h["rmse"].front() - 0.1);
  const rec::RatingMetrics m = rec::evaluate_ratings(*mf, tt.test);
  const rec::RatingMetrics item = rec::item_mean_baseline(tt.train, tt.test);
  const rec::RatingMetrics global = rec::global_mean_baseline(tt.train, tt.test);
  MESSAGE("synthetic 80/20: mf RMSE ", m.rmse, " MAE ", m.mae, "; item mean ", item.rmse, "; global mean ", global.rmse);
  CHECK(m.rmse < item.rmse - 0.03);
  CHECK(m.rmse < global.rmse - 0.05);
  CHECK(m.mae < item.mae);
}

TEST_CASE("rec mf: errors name the option") {
  const rec::Dataset d = recsys::testing::tiny_dataset();
  rec::FitOptions o = tiny("mf");
  o.loss = "hinge";
  CHECK_THROWS_WITH_AS(rec::MatrixFactorization(o).fit(d), doctest::Contains("mf.fit: loss must be 'mse' or 'bpr', got 'hinge'"),
                       recsys::Error);
  o = tiny("mf");
  o.factors = 0;
  CHECK_THROWS_WITH_AS(rec::MatrixFactorization(o).fit(d), doctest::Contains("factors must be positive"), recsys::Error);
  o = tiny("mf");
  o.loss = "bpr";
  o.negatives = 0;
  CHECK_THROWS_WITH_AS(rec::MatrixFactorization(o).fit(d), doctest::Contains("bpr needs negatives > 0"), recsys::Error);
}

TEST_CASE("rec content: cosine between the rating-weighted profile and the item's TF-IDF vector") {
  const rec::Dataset d = recsys::testing::tiny_dataset();
  rec::ContentBased cb;
  cb.fit(d);
  const data::CsrMatrix& v = cb.item_vectors();
  CHECK(v.rows == 5);
  const auto dense = [&](std::int64_t i) {
    std::vector<double> x(static_cast<std::size_t>(v.cols), 0.0);
    for (std::int64_t c = 0; c < v.cols; ++c) x[static_cast<std::size_t>(c)] = v.at(i, c);
    return x;
  };
  // ann liked m0 (5 stars) and m1 (4 stars); m2 (1 star) is not in the profile.
  std::vector<double> profile(static_cast<std::size_t>(v.cols), 0.0);
  const auto x0 = dense(0), x1 = dense(1);
  for (std::size_t c = 0; c < profile.size(); ++c) profile[c] = (5 * x0[c] + 4 * x1[c]) / 9;
  double pn = 0;
  for (double x : profile) pn += x * x;
  pn = std::sqrt(pn);
  const std::vector<std::int64_t> items{0, 1, 2, 3, 4};
  const std::vector<double> got = cb.score(0, items);
  for (std::int64_t i = 0; i < 5; ++i) {
    const auto xi = dense(i);
    double dot = 0, xn = 0;
    for (std::size_t c = 0; c < xi.size(); ++c) dot += profile[c] * xi[c], xn += xi[c] * xi[c];
    CHECK(got[static_cast<std::size_t>(i)] == doctest::Approx(dot / (pn * std::sqrt(xn))).epsilon(1e-12));
  }
  // ann's unseen items: "Delta Quest" shares "quest" and "adventure" with her favourite, "Epsilon Love" shares "love".
  const auto recs = cb.recommend(0, 2);
  REQUIRE(recs.size() == 2);
  CHECK(recs[0].item == 3);
  CHECK(recs[1].item == 4);
  CHECK(recs[0].score > recs[1].score);
  CHECK(cb.terms().size() > 5);
}

TEST_CASE("rec sequence: input layout, and no sample sees its own interaction") {
  const rec::Dataset d = recsys::testing::tiny_dataset();
  rec::FitOptions o = tiny("sequence");
  o.history = 2;
  o.item_tokens = 4;
  o.negatives = 1;
  rec::SequenceRanker sr(o);
  sr.fit(d);
  CHECK(sr.sequence_length() == 12);
  // Item 0 "Alpha Quest (1990)", Adventure: i:m0 g:Adventure w:alpha w:quest.
  const auto t0 = sr.item_token_ids(0);
  CHECK(sr.vocabulary().word(t0[0]) == "i:m0");
  CHECK(sr.vocabulary().word(t0[1]) == "g:Adventure");
  CHECK(sr.vocabulary().word(t0[2]) == "w:alpha");
  CHECK(sr.vocabulary().word(t0[3]) == "w:quest");
  // cat (2) liked only m1 in her history: her rows are [pad x4][m1][candidate].
  CHECK(sr.history_of(2) == std::vector<std::int64_t>{1});
  CHECK(sr.history_of(0) == std::vector<std::int64_t>{0, 1});  // ann: m0 (t1), m1 (t2) liked; m2 (t3) not
  const std::vector<std::int32_t> row = sr.input_row(3, sr.history_of(2));
  const auto t1 = sr.item_token_ids(1), t3 = sr.item_token_ids(3);
  CHECK(std::vector<std::int32_t>(row.begin(), row.begin() + 4) == std::vector<std::int32_t>(4, 0));
  CHECK(std::vector<std::int32_t>(row.begin() + 4, row.begin() + 8) == std::vector<std::int32_t>(t1.begin(), t1.end()));
  CHECK(std::vector<std::int32_t>(row.begin() + 8, row.end()) == std::vector<std::int32_t>(t3.begin(), t3.end()));

  // Decode every training sample back into items: the candidate is the interaction's item (or a
  // negative the user never saw, label 0); the history holds only items the user liked earlier.
  std::map<std::vector<std::int32_t>, std::int64_t> item_of;
  for (std::int64_t i = 0; i < d.num_items(); ++i) {
    const auto t = sr.item_token_ids(i);
    item_of[std::vector<std::int32_t>(t.begin(), t.end())] = i;
  }
  const auto samples = sr.training_samples(d);
  REQUIRE(samples.x.size(0) == 2 * d.size());
  const std::int32_t* x = samples.x.data<std::int32_t>();
  for (std::int64_t n = 0; n < samples.x.size(0); ++n) {
    const rec::Interaction& target = d[samples.rows[static_cast<std::size_t>(n)]];
    const bool negative = n % 2 == 1;
    std::vector<std::int64_t> blocks;
    for (std::int64_t b = 0; b < 3; ++b) {
      const std::vector<std::int32_t> block(x + n * 12 + b * 4, x + n * 12 + b * 4 + 4);
      if (block == std::vector<std::int32_t>(4, 0)) continue;
      REQUIRE(item_of.count(block) == 1);
      blocks.push_back(item_of[block]);
    }
    REQUIRE(!blocks.empty());
    const std::int64_t candidate = blocks.back();
    blocks.pop_back();
    const float label = samples.y.data<float>()[n];
    if (negative) {
      CHECK(label == 0.0f);
      for (const rec::Interaction& r : d.interactions()) CHECK_FALSE((r.user == target.user && r.item == candidate));
    } else {
      CHECK(candidate == target.item);
      CHECK(label == (d.liked(target) ? 1.0f : 0.0f));
    }
    for (std::int64_t h : blocks) {
      CHECK(h != target.item);
      bool earlier_like = false;
      for (const rec::Interaction& r : d.interactions())
        earlier_like |= r.user == target.user && r.item == h && d.liked(r) && r.timestamp < target.timestamp;
      CHECK(earlier_like);
    }
  }
}

TEST_CASE("rec sequence: errors name the option") {
  const rec::Dataset d = recsys::testing::tiny_dataset();
  rec::FitOptions o = tiny("sequence");
  o.history = -1;
  CHECK_THROWS_WITH_AS(rec::SequenceRanker(o).fit(d), doctest::Contains("sequence.fit: history must be >= 0, got -1"),
                       recsys::Error);
  o = tiny("sequence");
  o.vocab_size = 2;
  CHECK_THROWS_WITH_AS(rec::SequenceRanker(o).fit(d), doctest::Contains("vocab_size must be at least 3"), recsys::Error);
  o = tiny("sequence");
  o.history = 0;
  o.pool_size = 2;
  CHECK_THROWS_WITH_AS(rec::SequenceRanker(o).fit(d), doctest::Contains("too short for kernel_size 6 and pool_size 2"),
                       recsys::Error);
}

TEST_CASE("rec review: reads reviews, scores items by their reviews, handles rows without text") {
  const rec::Dataset d = recsys::testing::tiny_dataset();
  rec::FitOptions o = tiny("review");
  o.epochs = 2;
  rec::ReviewClassifier rc(o);
  const History h = rc.fit(d);
  CHECK(h.has("loss"));
  CHECK(h.has("accuracy"));
  CHECK(rc.vocabulary().size() == 10);  // <pad> + 9 distinct words
  const Tensor x = rc.encode({"great fun", "unknown words lovely"});
  CHECK(x.shape() == Shape{2, 20});
  CHECK(x.at<std::int64_t>({1, 19}) == rc.vocabulary().index("lovely"));
  CHECK(x.at<std::int64_t>({1, 18}) == 0);  // unknown words are dropped, as Keras does without an OOV token
  // Item scores: the mean of its reviews' probabilities.
  const std::vector<double> p = rc.predict_texts({"great fun", "good", "dull"});
  CHECK(rc.item_scores()[0] == doctest::Approx((p[0] + p[1] + p[2]) / 3).epsilon(1e-6));
  CHECK(rc.score(1, std::vector<std::int64_t>{0})[0] == rc.item_scores()[0]);
  // predict(): the review when there is one, else the item's score.
  std::vector<rec::Interaction> rows{{0, 3, 5, 9, "awful"}, {1, 4, 5, 9, ""}};
  const std::vector<double> got = rc.predict(d.with_interactions(rows));
  CHECK(got[0] == doctest::Approx(rc.predict_texts({"awful"})[0]));
  CHECK(got[1] == rc.item_scores()[4]);
  CHECK(*rc.decision_threshold() == 0.5);
}

TEST_CASE("rec review: errors") {
  rec::Dataset d = recsys::testing::tiny_dataset();
  std::vector<rec::Interaction> rows = d.interactions();
  for (auto& r : rows) r.review.clear();
  CHECK_THROWS_WITH_AS(rec::ReviewClassifier(tiny("review")).fit(d.with_interactions(rows)),
                       doctest::Contains("review.fit: none of the 8 training interactions has a review"), recsys::Error);
  rec::FitOptions o = tiny("review");
  o.max_length = 2;
  CHECK_THROWS_WITH_AS(rec::ReviewClassifier(o).fit(d), doctest::Contains("sequences of 2 tokens are too short"),
                       recsys::Error);
  o = tiny("review");
  o.vocab_size = 1;
  CHECK_THROWS_WITH_AS(rec::ReviewClassifier(o).fit(d), doctest::Contains("vocab_size must be at least 2"),
                       recsys::Error);
}

TEST_CASE("rec models: the same seed gives the same weights and lists with 1 and 2 threads") {
  const rec::Dataset& site = recsys::testing::small_site();
  for (const std::string kind : {"mf", "sequence", "review"}) {
    INFO("model ", kind);
    rec::FitOptions o = tiny(kind);
    o.threads = 1;
    auto a = rec::make_recommender(kind, o);
    a->fit(site);
    o.threads = 2;
    auto b = rec::make_recommender(kind, o);
    b->fit(site);
    for (std::int64_t u : {0, 7, 150}) CHECK(a->recommend(u, 10) == b->recommend(u, 10));
    if (kind == "mf") {
      const rec::FactorModel& fa = dynamic_cast<rec::MatrixFactorization&>(*a).factors();
      const rec::FactorModel& fb = dynamic_cast<rec::MatrixFactorization&>(*b).factors();
      CHECK(recsys::testing::bitwise_equal(fa.user_factors.embeddings(), fb.user_factors.embeddings()));
      CHECK(recsys::testing::bitwise_equal(fa.item_factors.embeddings(), fb.item_factors.embeddings()));
      CHECK(recsys::testing::bitwise_equal(fa.item_bias.embeddings(), fb.item_bias.embeddings()));
    } else if (kind == "sequence") {
      CHECK(same_weights(dynamic_cast<rec::SequenceRanker&>(*a).network().named_parameters(),
                         dynamic_cast<rec::SequenceRanker&>(*b).network().named_parameters()));
    } else {
      CHECK(same_weights(dynamic_cast<rec::ReviewClassifier&>(*a).network().named_parameters(),
                         dynamic_cast<rec::ReviewClassifier&>(*b).network().named_parameters()));
    }
    // A different seed trains a different model.
    o.seed = 6;
    auto c = rec::make_recommender(kind, o);
    c->fit(site);
    CHECK(c->score_all(7) != a->score_all(7));
  }
}

TEST_CASE("rec models: save and load_recommender give identical scores, lists and predictions") {
  const rec::Dataset& site = recsys::testing::small_site();
  const rec::TrainTest tt = rec::split_interactions(site, 0.2, 3);
  for (const std::string& kind : rec::recommender_kinds()) {
    INFO("model ", kind);
    auto model = rec::make_recommender(kind, tiny(kind));
    model->fit(tt.train);
    TempDir dir("save_" + kind);
    model->save(dir.str());
    const auto back = rec::load_recommender(dir.str());
    CHECK(back->name() == kind);
    CHECK(back->options().to_json() == model->options().to_json());
    CHECK(back->decision_threshold() == model->decision_threshold());
    for (std::int64_t u : {0, 42, 199}) {
      CHECK(back->score_all(u) == model->score_all(u));
      CHECK(back->recommend(u, 10) == model->recommend(u, 10));
      for (const rec::ScoredItem& s : back->recommend(u, 50))
        CHECK_FALSE(std::binary_search(back->seen(u).begin(), back->seen(u).end(), s.item));
    }
    CHECK(back->predict(tt.test) == model->predict(tt.test));
  }
}

TEST_CASE("rec models: a saved folder refuses weights of the wrong shape") {
  const rec::Dataset d = recsys::testing::tiny_dataset();
  auto model = rec::make_recommender("mf", tiny("mf"));
  model->fit(d);
  TempDir dir("mf_shape");
  model->save(dir.str());
  // Same folder, but model.json now asks for 5 factors: the saved tensors have 4.
  std::string text = recsys::rec::detail::read_text_file(dir.file("model.json"), "test");
  const auto at = text.find("\"factors\": 4");
  REQUIRE(at != std::string::npos);
  text.replace(at, 12, "\"factors\": 5");
  recsys::testing::write_text(dir.file("model.json"), text);
  CHECK_THROWS_WITH_AS(rec::load_recommender(dir.str()), doctest::Contains("mf.load: tensor 'user_factors.embeddings' is"),
                       recsys::Error);
}
