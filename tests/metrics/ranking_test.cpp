// tests/metrics/ranking_test.cpp — top-K recommendation metrics by hand, their agreement with the scored (sklearn-style) forms, and error messages.
#include <doctest/doctest.h>

#include <cmath>
#include <numeric>
#include <vector>

#include <recsys/metrics/classification.hpp>
#include <recsys/metrics/ranking.hpp>

#include "test_util.hpp"

using namespace recsys;
using namespace recsys::metrics;
using doctest::Approx;
using doctest::Contains;

namespace {
using Ids = std::vector<std::int64_t>;
}

TEST_CASE("top-k metrics of one list by hand") {
  const Ids ranked{5, 3, 9, 1, 7}, relevant{8, 7, 3};  // hits at 0-based ranks 1 and 4
  CHECK(precision_at_k(ranked, relevant, 5) == Approx(0.4));
  CHECK(precision_at_k(ranked, relevant, 3) == Approx(1.0 / 3));
  CHECK(recall_at_k(ranked, relevant, 5) == Approx(2.0 / 3));
  CHECK(recall_at_k(ranked, relevant, 2) == Approx(1.0 / 3));
  CHECK(hit_rate_at_k(ranked, relevant, 1) == 0.0);
  CHECK(hit_rate_at_k(ranked, relevant, 2) == 1.0);
  const double dcg = 1 / std::log2(3.0) + 1 / std::log2(6.0);
  const double ideal = 1 + 1 / std::log2(3.0) + 1 / std::log2(4.0);
  CHECK(ndcg_at_k(ranked, relevant, 5) == Approx(dcg / ideal));
  CHECK(ndcg_at_k(ranked, relevant, 2) == Approx((1 / std::log2(3.0)) / (1 + 1 / std::log2(3.0))));
  // Precision at the hits: 1/2 and 2/5; normalised by min(5, 3).
  CHECK(average_precision_at_k(ranked, relevant, 5) == Approx((0.5 + 0.4) / 3));
  CHECK(average_precision_at_k(ranked, relevant, 2) == Approx(0.5 / 2));
  CHECK(reciprocal_rank(ranked, relevant, 5) == 0.5);
  CHECK(reciprocal_rank(ranked, relevant, 1) == 0.0);
  // A list shorter than k: precision still divides by k.
  CHECK(precision_at_k(Ids{3}, relevant, 5) == Approx(0.2));
  CHECK(ndcg_at_k(Ids{3, 7, 8}, relevant, 10) == Approx(1.0));
  CHECK(average_precision_at_k(Ids{3, 7, 8}, relevant, 10) == Approx(1.0));
  // Repeats in `relevant` do not count twice; precision and hit rate are defined for an empty set.
  CHECK(recall_at_k(ranked, Ids{3, 3, 7}, 5) == 1.0);
  CHECK(precision_at_k(ranked, Ids{}, 5) == 0.0);
  CHECK(hit_rate_at_k(ranked, Ids{}, 5) == 0.0);
}

TEST_CASE("evaluate_ranking averages over users with relevant items, catalogue_coverage counts distinct items") {
  const std::vector<Ids> ranked{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}};
  const std::vector<Ids> relevant{{2}, {}, {9, 0}};
  const RankingSummary s = evaluate_ranking(ranked, relevant, 3);
  CHECK(s.users == 2);
  CHECK(s.skipped_users == 1);
  CHECK(s.k == 3);
  CHECK(s.precision == Approx((1.0 / 3 + 1.0 / 3) / 2));
  CHECK(s.recall == Approx((1.0 + 0.5) / 2));
  CHECK(s.hit_rate == 1.0);
  CHECK(s.mrr == Approx((0.5 + 1.0 / 3) / 2));
  CHECK(s.map == Approx((0.5 + (1.0 / 3) / 2) / 2));
  CHECK(s.ndcg == Approx((1 / std::log2(3.0) + (1 / std::log2(4.0)) / (1 + 1 / std::log2(3.0))) / 2));
  CHECK(catalogue_coverage(ranked, 20, 3) == Approx(9.0 / 20));
  CHECK(catalogue_coverage(std::vector<Ids>{{0, 1, 2}, {2, 3, 4}}, 10, 2) == Approx(0.4));
}

TEST_CASE("list metrics agree with the scored forms when every item is ranked") {
  // Score n items at random; the ranked list is the items sorted by score. With every relevant item
  // in the list, AP@n equals sklearn-style average_precision and binary NDCG@k equals ndcg(k).
  Generator gen(7);
  for (int trial = 0; trial < 20; ++trial) {
    const std::int64_t n = 5 + static_cast<std::int64_t>(gen.below(30));
    std::vector<double> score(static_cast<std::size_t>(n)), rel(static_cast<std::size_t>(n));
    std::vector<int> label(static_cast<std::size_t>(n));
    Ids relevant;
    for (std::int64_t i = 0; i < n; ++i) {
      score[static_cast<std::size_t>(i)] = gen.uniform();
      label[static_cast<std::size_t>(i)] = gen.uniform() < 0.3 || i == 0;
      rel[static_cast<std::size_t>(i)] = label[static_cast<std::size_t>(i)];
      if (label[static_cast<std::size_t>(i)]) relevant.push_back(i);
    }
    Ids ranked(static_cast<std::size_t>(n));
    std::iota(ranked.begin(), ranked.end(), std::int64_t{0});
    std::sort(ranked.begin(), ranked.end(), [&](std::int64_t a, std::int64_t b) {
      return score[static_cast<std::size_t>(a)] > score[static_cast<std::size_t>(b)];
    });
    CHECK(average_precision_at_k(ranked, relevant, n) == Approx(average_precision(label, score)).epsilon(1e-12));
    for (std::int64_t k : {std::int64_t{1}, std::int64_t{3}, n}) {
      CHECK(ndcg_at_k(ranked, relevant, k) == Approx(ndcg(rel, score, k)).epsilon(1e-12));
    }
  }
}

TEST_CASE("dcg and ndcg of scored documents by hand") {
  const std::vector<double> rel{3, 2, 0}, score{0.9, 0.1, 0.5};
  CHECK(dcg(rel, score) == Approx(3 + 0 / std::log2(3.0) + 2 / std::log2(4.0)));
  CHECK(ndcg(rel, score) == Approx(4 / (3 + 2 / std::log2(3.0))));
  CHECK(dcg(rel, score, 1) == Approx(3.0));
  // Tied scores share the average gain: (1 + 0) / 2 over discounts 1 and 1/log2(3).
  CHECK(ndcg(std::vector<double>{1, 0}, std::vector<double>{0.5, 0.5}) == Approx(0.5 * (1 + 1 / std::log2(3.0))));
  CHECK(ndcg(std::vector<double>{0, 0}, std::vector<double>{0.1, 0.2}) == 0.0);
  CHECK(ndcg_score(tensor({1.0, 0.0, 0.0, 1.0}, {2, 2}), tensor({0.9, 0.1, 0.9, 0.1}, {2, 2})) ==
        Approx((1 + 1 / std::log2(3.0) / (1.0)) / 2));
}

TEST_CASE("ranking metric errors") {
  const Ids ranked{1, 2, 3}, relevant{2};
  CHECK_THROWS_WITH_AS(precision_at_k(ranked, relevant, 0), Contains("precision_at_k: k must be at least 1, got 0"),
                       Error);
  CHECK_THROWS_WITH_AS(recall_at_k(ranked, Ids{}, 2), Contains("recall_at_k: the relevant set is empty"), Error);
  CHECK_THROWS_WITH_AS(ndcg_at_k(ranked, Ids{}, 2), Contains("ndcg_at_k: the relevant set is empty"), Error);
  CHECK_THROWS_WITH_AS(average_precision_at_k(ranked, Ids{}, 2),
                       Contains("average_precision_at_k: the relevant set is empty"), Error);
  CHECK_THROWS_WITH_AS(hit_rate_at_k(Ids{4, 2, 4}, relevant, 3),
                       Contains("hit_rate_at_k: item 4 appears twice in the top 3"), Error);
  CHECK_NOTHROW(hit_rate_at_k(Ids{4, 2, 4}, relevant, 2));  // the repeat is outside the top 2
  CHECK_THROWS_WITH_AS(evaluate_ranking(std::vector<Ids>{ranked}, std::vector<Ids>{}, 2),
                       Contains("evaluate_ranking: 1 ranked lists but 0 relevant sets"), Error);
  CHECK_THROWS_WITH_AS(evaluate_ranking(std::vector<Ids>{ranked}, std::vector<Ids>{Ids{}}, 2),
                       Contains("evaluate_ranking: no user has a relevant item"), Error);
  CHECK_THROWS_WITH_AS(catalogue_coverage(std::vector<Ids>{ranked}, 3, 3),
                       Contains("catalogue_coverage: user 0 lists item 3, outside the catalogue [0, 3)"), Error);
  CHECK_THROWS_WITH_AS(catalogue_coverage(std::vector<Ids>{ranked}, 0, 3),
                       Contains("catalogue_coverage: catalogue_size must be at least 1"), Error);
  const std::vector<double> one{1.0}, two{1.0, 0.0};
  CHECK_THROWS_WITH_AS(dcg(one, one), Contains("dcg: needs more than one document per query, got 1"), Error);
  CHECK_THROWS_WITH_AS(ndcg(std::vector<double>{-1.0, 0.0}, two),
                       Contains("ndcg: relevance[0] is -1 (NDCG needs non-negative gains)"), Error);
  CHECK_THROWS_WITH_AS(ndcg(two, std::vector<double>{1.0, 0.0, 2.0}),
                       Contains("ndcg: relevance has 2 documents but score has 3"), Error);
  CHECK_THROWS_WITH_AS(ndcg(two, two, -1), Contains("ndcg: k must be at least 1 (or 0 for no cutoff), got -1"), Error);
  CHECK_THROWS_WITH_AS(ndcg_score(zeros({2, 3}), zeros({3, 2})),
                       Contains("ndcg: y_true and y_score must both be (queries, documents)"), Error);
}
