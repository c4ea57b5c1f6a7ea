// tests/rec/review_linear_test.cpp — ReviewLinear: scikit-learn's optimum on a hand-made corpus, predictions by hand, save/load, errors.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <recsys/recsys.hpp>

#include "rec_test_util.hpp"

using namespace recsys;

namespace {

// The corpus of tests/golden/review_linear_fixtures.py, in its order (liked: rating 5, else 1).
const std::vector<std::pair<const char*, bool>> kReviews = {
    {"a great fun film", true},  {"not good at all", false},  {"great acting and a great story", true},
    {"dull and not fun", false}, {"good fun", true},          {"not great", false},
    {"a story told well", true}, {"awful acting", false},     {"good story, good acting", true},
    {"not a good film", false},  {"fun, fun, fun", true},     {"dull story told badly", false}};

rec::Dataset corpus() {
  std::vector<rec::Item> items(kReviews.size());
  std::vector<rec::Interaction> rows;
  for (std::size_t k = 0; k < kReviews.size(); ++k) {
    items[k].id = "r" + std::to_string(k);
    rows.push_back({static_cast<std::int64_t>(k % 3), static_cast<std::int64_t>(k), kReviews[k].second ? 5.0 : 1.0,
                    static_cast<std::int64_t>(k), kReviews[k].first});
  }
  return rec::Dataset({"u0", "u1", "u2"}, std::move(items), std::move(rows));
}

rec::FitOptions options(double l2 = 0.05) {
  rec::FitOptions o = rec::default_options("review-linear");
  o.l2 = l2;
  return o;
}

/// term -> weight from the sklearn fixture; the bias under "<bias>".
std::map<std::string, double> sklearn_optimum() {
  std::ifstream in(std::string(RECSYS_TEST_FIXTURES) + "/rec/review_linear.csv");
  REQUIRE(in.good());
  std::map<std::string, double> w;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    const auto comma = line.rfind(',');
    w[line.substr(0, comma)] = std::stod(line.substr(comma + 1));
  }
  return w;
}

}  // namespace

TEST_CASE("rec review-linear: reaches scikit-learn's optimum (TF-IDF 1-2-grams, C = 1 / (l2 N))") {
  rec::ReviewLinear m(options());
  const History h = m.fit(corpus());
  const std::map<std::string, double> want = sklearn_optimum();
  REQUIRE(m.terms().size() + 1 == want.size());  // the same vocabulary, bigrams included
  double worst = 0;
  for (std::size_t t = 0; t < m.terms().size(); ++t) {
    INFO("term '", m.terms()[t], "'");
    REQUIRE(want.count(m.terms()[t]) == 1);
    worst = std::max(worst, std::fabs(m.weights()[t] - want.at(m.terms()[t])));
  }
  worst = std::max(worst, std::fabs(m.bias() - want.at("<bias>")));
  CHECK(worst < 1e-4);
  // The objective goes down and ends at its minimum: the last epochs no longer move it.
  const std::vector<double>& loss = h["loss"];
  REQUIRE(loss.size() == 300);
  CHECK(loss.back() < loss.front());
  CHECK(std::fabs(loss[loss.size() - 2] - loss.back()) < 1e-9);
  CHECK(h["accuracy"].back() == 1.0);  // the corpus is separable
}

TEST_CASE("rec review-linear: P(liked) = sigmoid(w . tfidf(text) + b), and rows without a review get their item's score") {
  const rec::Dataset d = corpus();
  rec::ReviewLinear m(options());
  m.fit(d);
  data::TfidfVectorizerOptions vo;
  vo.counts.ngram_max = 2;
  data::TfidfVectorizer v(vo);
  std::vector<std::string> texts;
  for (const auto& r : kReviews) texts.push_back(r.first);
  v.fit(texts);
  REQUIRE(v.feature_names() == m.terms());
  const data::CsrMatrix x = v.transform({"not fun at all, a great film"});
  double z = m.bias();
  for (std::int64_t k = 0; k < x.nnz(); ++k)
    z += x.data[static_cast<std::size_t>(k)] * m.weights()[static_cast<std::size_t>(x.indices[static_cast<std::size_t>(k)])];
  CHECK(m.predict_texts({"not fun at all, a great film"})[0] == doctest::Approx(1 / (1 + std::exp(-z))).epsilon(1e-12));
  CHECK(m.predict_texts({"zebra"})[0] == doctest::Approx(1 / (1 + std::exp(-m.bias()))).epsilon(1e-12));
  // An item's score is the mean P(liked) of its training reviews; a row without text gets it.
  CHECK(m.item_scores()[2] == doctest::Approx(m.predict_texts({kReviews[2].first})[0]).epsilon(1e-12));
  std::vector<rec::Interaction> rows{{0, 2, 5, 99, ""}, {1, 3, 1, 99, "great fun"}};
  const std::vector<double> p = m.predict(d.with_interactions(rows));
  CHECK(p[0] == m.item_scores()[2]);
  CHECK(p[1] == m.predict_texts({"great fun"})[0]);
  CHECK(*m.decision_threshold() == 0.5);
  CHECK_FALSE(m.capabilities().ranks_items);
}

TEST_CASE("rec review-linear: the same fit on 1 and 2 threads, and save and load keep every prediction") {
  const rec::Dataset d = corpus();
  rec::FitOptions o = options(1e-3);
  o.threads = 1;
  rec::ReviewLinear a(o);
  a.fit(d);
  o.threads = 2;
  rec::ReviewLinear b(o);
  b.fit(d);
  CHECK(a.weights() == b.weights());
  CHECK(a.bias() == b.bias());
  recsys::testing::TempDir dir("review_linear_save");
  a.save(dir.str());
  const auto back = rec::load_recommender(dir.str());
  CHECK(back->name() == "review-linear");
  CHECK(back->predict(d) == a.predict(d));
  CHECK(dynamic_cast<const rec::ReviewLinear&>(*back).predict_texts({"great, not dull"}) ==
        a.predict_texts({"great, not dull"}));
}

TEST_CASE("rec review-linear: errors name the option, and a damaged folder does not load") {
  const rec::Dataset d = corpus();
  rec::FitOptions o = options(-1);
  CHECK_THROWS_WITH_AS(rec::ReviewLinear(o).fit(d), doctest::Contains("review-linear.fit: l2 must be finite and >= 0, got -1"),
                       Error);
  o = options();
  o.epochs = 0;
  CHECK_THROWS_WITH_AS(rec::ReviewLinear(o).fit(d), doctest::Contains("review-linear.fit: epochs must be positive, got 0"),
                       Error);
  o = options();
  o.optimizer = "sgd";
  o.lr = 1e300;  // the weights overflow on the second step
  CHECK_THROWS_WITH_AS(rec::ReviewLinear(o).fit(d), doctest::Contains("lower --lr"), Error);
  std::vector<rec::Interaction> rows = d.interactions();
  for (auto& r : rows) r.review.clear();
  CHECK_THROWS_WITH_AS(rec::ReviewLinear(options()).fit(d.with_interactions(rows)),
                       doctest::Contains("review-linear.fit: none of the 12 training interactions has a review"), Error);

  rec::ReviewLinear m(options());
  m.fit(d);
  recsys::testing::TempDir dir("review_linear_damaged");
  m.save(dir.str());
  std::string text = rec::detail::read_text_file(dir.file("model.json"), "test");
  const auto at = text.find("\"acting and\"");
  REQUIRE(at != std::string::npos);
  text.replace(at, 12, "\"zzz\"");  // the vocabulary is no longer in order
  recsys::testing::write_text(dir.file("model.json"), text);
  CHECK_THROWS_WITH_AS(rec::load_recommender(dir.str()), doctest::Contains("set_vocabulary needs distinct terms in ascending"),
                       Error);
}
