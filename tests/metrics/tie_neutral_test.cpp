// tests/metrics/tie_neutral_test.cpp — tie-neutral ranking metrics: hand-worked cases, the chance level, and a brute force over every order of the tied candidates.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include <recsys/metrics/ranking.hpp>

using namespace recsys;
using namespace recsys::metrics;

namespace {

/// Mean of a metric over every permutation of equal scores: sort by (score desc, random rank) for all
/// orders of the candidates, keeping only orders that respect the scores; each tie order is equally likely.
struct Brute {
  std::vector<double> hit, recall, ndcg;
  double rr = 0;
};

Brute brute_force(const std::vector<double>& scores, const std::vector<std::uint8_t>& rel, const std::vector<std::int64_t>& ks) {
  std::vector<int> perm(scores.size());
  std::iota(perm.begin(), perm.end(), 0);
  Brute b;
  b.hit.assign(ks.size(), 0);
  b.recall = b.ndcg = b.hit;
  double orders = 0;
  const double n_rel = std::count(rel.begin(), rel.end(), 1);
  do {
    bool ok = true;  // a list ordered by score (non-increasing)
    for (std::size_t p = 1; p < perm.size(); ++p)
      if (scores[static_cast<std::size_t>(perm[p - 1])] < scores[static_cast<std::size_t>(perm[p])]) ok = false;
    if (!ok) continue;
    orders += 1;
    for (std::size_t q = 0; q < ks.size(); ++q) {
      double hits = 0, dcg = 0, ideal = 0;
      for (std::int64_t p = 0; p < std::min<std::int64_t>(ks[q], static_cast<std::int64_t>(perm.size())); ++p)
        if (rel[static_cast<std::size_t>(perm[static_cast<std::size_t>(p)])]) hits += 1, dcg += 1 / std::log2(p + 2.0);
      for (std::int64_t p = 0; p < std::min<std::int64_t>(ks[q], static_cast<std::int64_t>(n_rel)); ++p) ideal += 1 / std::log2(p + 2.0);
      b.hit[q] += hits > 0;
      b.recall[q] += hits / n_rel;
      b.ndcg[q] += dcg / ideal;
    }
    for (std::size_t p = 0; p < perm.size(); ++p)
      if (rel[static_cast<std::size_t>(perm[p])]) {
        b.rr += 1.0 / static_cast<double>(p + 1);
        break;
      }
  } while (std::next_permutation(perm.begin(), perm.end()));
  for (auto* v : {&b.hit, &b.recall, &b.ndcg})
    for (double& x : *v) x /= orders;
  b.rr /= orders;
  return b;
}

}  // namespace

TEST_CASE("tie_neutral_metrics: a ranking without ties gets the usual values") {
  // Candidates by score: c2 (0.9), c0 (0.5), c3 (0.3), c1 (0.1); c3 is the target, at 0-based rank 2.
  const std::vector<double> s{0.5, 0.1, 0.9, 0.3};
  const std::vector<std::uint8_t> rel{0, 0, 0, 1};
  const std::vector<std::int64_t> ks{1, 2, 3};
  const TieNeutralMetrics m = tie_neutral_metrics(s, rel, ks);
  CHECK(m.hit == std::vector<double>{0, 0, 1});
  CHECK(m.recall == std::vector<double>{0, 0, 1});
  CHECK(m.ndcg[2] == doctest::Approx(1 / std::log2(4.0)));
  CHECK(m.reciprocal_rank == doctest::Approx(1.0 / 3));
}

TEST_CASE("tie_neutral_metrics: ties count as the expectation over random orders (hand-worked)") {
  // The target ties with 3 others at the top: it is at rank 0..3 with probability 1/4 each.
  const std::vector<double> s{1, 1, 1, 1, 0};
  const std::vector<std::uint8_t> rel{0, 1, 0, 0, 0};
  const std::vector<std::int64_t> ks{1, 2};
  const TieNeutralMetrics m = tie_neutral_metrics(s, rel, ks);
  CHECK(m.hit[0] == doctest::Approx(0.25));
  CHECK(m.hit[1] == doctest::Approx(0.5));
  CHECK(m.ndcg[1] == doctest::Approx((1 + 1 / std::log2(3.0)) / 4));
  CHECK(m.reciprocal_rank == doctest::Approx((1 + 0.5 + 1.0 / 3 + 0.25) / 4));
  // A constant scorer gets exactly the chance level.
  const std::vector<double> flat(24, 0.7);
  std::vector<std::uint8_t> one(24, 0);
  one[23] = 1;  // the last index: catalogue order would have put it last
  const std::vector<std::int64_t> k10{10};
  const TieNeutralMetrics c = tie_neutral_metrics(flat, one, k10);
  CHECK(c.hit[0] == doctest::Approx(10.0 / 24));
  CHECK(c.hit[0] == doctest::Approx(chance_level(24, 1, 10).hit));
  CHECK(c.ndcg[0] == doctest::Approx(chance_level(24, 1, 10).ndcg));
  // More slots than candidates: a certain hit.
  CHECK(chance_level(5, 1, 10).hit == doctest::Approx(1.0));
  CHECK(chance_level(10, 3, 2).hit == doctest::Approx(1 - (7.0 / 10) * (6.0 / 9)));
}

TEST_CASE("tie_neutral_metrics equals a brute force over every order of the tied candidates") {
  const std::vector<std::int64_t> ks{1, 2, 3, 5};
  const std::vector<std::vector<double>> cases{{3, 2, 2, 2, 1, 1, 0},
                                               {1, 1, 1, 1, 1, 1, 1},
                                               {5, 4, 3, 2, 1, 0, -1},
                                               {2, 2, 1, 1, 1, 0, 0},
                                               {NAN, 1, NAN, 1, 0, 2, 2}};
  const std::vector<std::vector<std::uint8_t>> rels{{0, 1, 0, 1, 0, 1, 0}, {0, 0, 1, 0, 1, 0, 0}, {0, 0, 0, 0, 1, 0, 1},
                                                    {1, 0, 0, 1, 1, 0, 1}, {1, 0, 0, 1, 0, 0, 0}};
  for (const auto& s : cases)
    for (const auto& rel : rels) {
      // NaN sorts last: the brute force sees it as -infinity.
      std::vector<double> plain(s);
      for (double& x : plain)
        if (std::isnan(x)) x = -INFINITY;
      const Brute b = brute_force(plain, rel, ks);
      const TieNeutralMetrics m = tie_neutral_metrics(s, rel, ks);
      for (std::size_t q = 0; q < ks.size(); ++q) {
        CHECK(m.hit[q] == doctest::Approx(b.hit[q]).epsilon(1e-12));
        CHECK(m.recall[q] == doctest::Approx(b.recall[q]).epsilon(1e-12));
        CHECK(m.ndcg[q] == doctest::Approx(b.ndcg[q]).epsilon(1e-12));
      }
      CHECK(m.reciprocal_rank == doctest::Approx(b.rr).epsilon(1e-12));
    }
}

TEST_CASE("tie_neutral_metrics and chance_level: errors name the problem") {
  const std::vector<double> s{1, 2};
  const std::vector<std::uint8_t> none{0, 0}, one{1};
  const std::vector<std::int64_t> k{10}, bad{0};
  CHECK_THROWS_WITH_AS(tie_neutral_metrics(s, none, k), doctest::Contains("no candidate is relevant"), Error);
  CHECK_THROWS_WITH_AS(tie_neutral_metrics(s, one, k), doctest::Contains("2 scores but 1 relevance flags"), Error);
  const std::vector<std::uint8_t> both{1, 1};
  CHECK_THROWS_WITH_AS(tie_neutral_metrics(s, both, bad), doctest::Contains("k must be at least 1"), Error);
  CHECK_THROWS_WITH_AS(chance_level(3, 4, 10), doctest::Contains("needs 1 <= relevant <= candidates"), Error);
}
