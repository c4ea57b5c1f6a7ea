// recsys/metrics/ranking.hpp — top-K metrics of recommendation lists (precision/recall/hit rate/NDCG/MAP@K, MRR, coverage) and sklearn's dcg/ndcg scores.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <span>
#include <vector>

#include "recsys/metrics/common.hpp"

namespace recsys::metrics {

// ---------------------------------------------------------------------------------------------
// Recommendation lists. `ranked` is one user's list of item ids, best first; `relevant` is the set
// of items that user actually liked in the held-out data (order and repeats ignored). Only the first
// k entries of `ranked` count. Conventions, which papers and libraries do not all share:
//   precision@k = hits / k          (a list shorter than k is penalised, as in TREC's P@k)
//   recall@k    = hits / |relevant|
//   hit rate@k  = 1 if any hit, else 0
//   NDCG@k      = sum over hits at 0-based rank r of 1/log2(r+2), divided by the same sum for a
//                 perfect list: min(k, |relevant|) hits at the top (binary relevance)
//   AP@k        = sum over hits at rank r of precision@(r+1), divided by min(k, |relevant|)
//                 (the Kaggle / ml_metrics apk definition); MAP@k is its mean over users
//   RR@k        = 1 / (1-based rank of the first hit), 0 when none is in the top k; MRR is its mean
// Recall, NDCG and AP divide by a quantity that is 0 for an empty relevant set: they throw there,
// and evaluate_ranking() skips such users (and says how many it skipped).
// ---------------------------------------------------------------------------------------------

namespace detail {

/// hit[r] for the first min(k, |ranked|) entries, plus the deduplicated size of `relevant`.
struct Hits {
  std::vector<char> hit;
  std::int64_t n_relevant = 0;
  std::int64_t count() const { return std::accumulate(hit.begin(), hit.end(), std::int64_t{0}); }
};

inline Hits find_hits(const char* name, std::span<const std::int64_t> ranked, std::span<const std::int64_t> relevant,
                      std::int64_t k, bool need_relevant) {
  RECSYS_CHECK(k >= 1, name, ": k must be at least 1, got ", k);
  std::vector<std::int64_t> rel(relevant.begin(), relevant.end());
  std::sort(rel.begin(), rel.end());
  rel.erase(std::unique(rel.begin(), rel.end()), rel.end());
  RECSYS_CHECK(!need_relevant || !rel.empty(), name, ": the relevant set is empty, so the metric is 0/0");
  const std::size_t n = std::min(ranked.size(), static_cast<std::size_t>(k));
  // A repeated item would count its hit twice; a recommender must not list an item twice.
  std::vector<std::int64_t> top(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(n));
  std::sort(top.begin(), top.end());
  const auto dup = std::adjacent_find(top.begin(), top.end());
  RECSYS_CHECK(dup == top.end(), name, ": item ", (dup == top.end() ? 0 : *dup), " appears twice in the top ", k,
               " of the ranked list");
  Hits h;
  h.n_relevant = static_cast<std::int64_t>(rel.size());
  h.hit.resize(n);
  for (std::size_t r = 0; r < n; ++r) h.hit[r] = std::binary_search(rel.begin(), rel.end(), ranked[r]);
  return h;
}

/// 1 / log2(rank + 2) for a 0-based rank: the DCG discount.
inline double discount(std::int64_t rank) { return 1.0 / std::log2(static_cast<double>(rank) + 2.0); }

}  // namespace detail

/// Fraction of the top k that is relevant.
inline double precision_at_k(std::span<const std::int64_t> ranked, std::span<const std::int64_t> relevant,
                             std::int64_t k) {
  const auto h = detail::find_hits("precision_at_k", ranked, relevant, k, false);
  return static_cast<double>(h.count()) / static_cast<double>(k);
}

/// Fraction of the relevant items found in the top k.
inline double recall_at_k(std::span<const std::int64_t> ranked, std::span<const std::int64_t> relevant,
                          std::int64_t k) {
  const auto h = detail::find_hits("recall_at_k", ranked, relevant, k, true);
  return static_cast<double>(h.count()) / static_cast<double>(h.n_relevant);
}

/// 1 when at least one relevant item is in the top k.
inline double hit_rate_at_k(std::span<const std::int64_t> ranked, std::span<const std::int64_t> relevant,
                            std::int64_t k) {
  return detail::find_hits("hit_rate_at_k", ranked, relevant, k, false).count() > 0 ? 1.0 : 0.0;
}

/// Binary-relevance NDCG of the top k.
inline double ndcg_at_k(std::span<const std::int64_t> ranked, std::span<const std::int64_t> relevant, std::int64_t k) {
  const auto h = detail::find_hits("ndcg_at_k", ranked, relevant, k, true);
  double dcg = 0, ideal = 0;
  for (std::size_t r = 0; r < h.hit.size(); ++r)
    if (h.hit[r]) dcg += detail::discount(static_cast<std::int64_t>(r));
  for (std::int64_t r = 0; r < std::min(k, h.n_relevant); ++r) ideal += detail::discount(r);
  return dcg / ideal;
}

/// Average precision of the top k, normalised by min(k, |relevant|).
inline double average_precision_at_k(std::span<const std::int64_t> ranked, std::span<const std::int64_t> relevant,
                                     std::int64_t k) {
  const auto h = detail::find_hits("average_precision_at_k", ranked, relevant, k, true);
  double sum = 0;
  std::int64_t hits = 0;
  for (std::size_t r = 0; r < h.hit.size(); ++r) {
    if (!h.hit[r]) continue;
    ++hits;
    sum += static_cast<double>(hits) / static_cast<double>(r + 1);
  }
  return sum / static_cast<double>(std::min(k, h.n_relevant));
}

/// 1 / rank of the first relevant item within the top k (0 when there is none).
inline double reciprocal_rank(std::span<const std::int64_t> ranked, std::span<const std::int64_t> relevant,
                              std::int64_t k) {
  const auto h = detail::find_hits("reciprocal_rank", ranked, relevant, k, false);
  for (std::size_t r = 0; r < h.hit.size(); ++r)
    if (h.hit[r]) return 1.0 / static_cast<double>(r + 1);
  return 0.0;
}

/// Means over users of the top-k metrics above.
struct RankingSummary {
  std::int64_t k = 0;
  std::int64_t users = 0;          // users averaged over
  std::int64_t skipped_users = 0;  // users with an empty relevant set
  double precision = 0, recall = 0, hit_rate = 0, ndcg = 0, map = 0, mrr = 0;
};

/// Averages every top-k metric over the users that have at least one relevant item.
inline RankingSummary evaluate_ranking(std::span<const std::vector<std::int64_t>> ranked,
                                       std::span<const std::vector<std::int64_t>> relevant, std::int64_t k) {
  RECSYS_CHECK(ranked.size() == relevant.size(), "evaluate_ranking: ", ranked.size(), " ranked lists but ",
               relevant.size(), " relevant sets (one of each per user)");
  RankingSummary s;
  s.k = k;
  for (std::size_t u = 0; u < ranked.size(); ++u) {
    if (relevant[u].empty()) {
      ++s.skipped_users;
      continue;
    }
    ++s.users;
    s.precision += precision_at_k(ranked[u], relevant[u], k);
    s.recall += recall_at_k(ranked[u], relevant[u], k);
    s.hit_rate += hit_rate_at_k(ranked[u], relevant[u], k);
    s.ndcg += ndcg_at_k(ranked[u], relevant[u], k);
    s.map += average_precision_at_k(ranked[u], relevant[u], k);
    s.mrr += reciprocal_rank(ranked[u], relevant[u], k);
  }
  RECSYS_CHECK(s.users > 0, "evaluate_ranking: no user has a relevant item (", ranked.size(), " users)");
  const double n = static_cast<double>(s.users);
  for (double* m : {&s.precision, &s.recall, &s.hit_rate, &s.ndcg, &s.map, &s.mrr}) *m /= n;
  return s;
}

/// Fraction of a catalogue of items 0..catalogue_size-1 that appears in at least one user's top k.
inline double catalogue_coverage(std::span<const std::vector<std::int64_t>> ranked, std::int64_t catalogue_size,
                                 std::int64_t k) {
  RECSYS_CHECK(catalogue_size >= 1, "catalogue_coverage: catalogue_size must be at least 1, got ", catalogue_size);
  RECSYS_CHECK(k >= 1, "catalogue_coverage: k must be at least 1, got ", k);
  std::vector<char> seen(static_cast<std::size_t>(catalogue_size), 0);
  std::int64_t distinct = 0;
  for (std::size_t u = 0; u < ranked.size(); ++u) {
    const std::size_t n = std::min(ranked[u].size(), static_cast<std::size_t>(k));
    for (std::size_t r = 0; r < n; ++r) {
      const std::int64_t item = ranked[u][r];
      RECSYS_CHECK(item >= 0 && item < catalogue_size, "catalogue_coverage: user ", u, " lists item ", item,
                   ", outside the catalogue [0, ", catalogue_size, ")");
      distinct += !seen[static_cast<std::size_t>(item)];
      seen[static_cast<std::size_t>(item)] = 1;
    }
  }
  return static_cast<double>(distinct) / static_cast<double>(catalogue_size);
}

// ---------------------------------------------------------------------------------------------
// Scored documents, as sklearn.metrics.dcg_score / ndcg_score see them: one query's graded
// relevances (linear gains, not 2^rel - 1) and the model's scores for the same documents.
// Documents with equal scores share the average of their gains over their positions (sklearn's
// ignore_ties=False), so the value does not depend on how a sort breaks ties. k = 0 means no cutoff.
// ---------------------------------------------------------------------------------------------

namespace detail {

inline void check_scored(const char* name, std::span<const double> relevance, std::span<const double> score,
                         std::int64_t k) {
  RECSYS_CHECK(relevance.size() == score.size(), name, ": relevance has ", relevance.size(), " documents but score has ",
               score.size());
  RECSYS_CHECK(relevance.size() > 1, name, ": needs more than one document per query, got ", relevance.size());
  RECSYS_CHECK(k >= 0, name, ": k must be at least 1 (or 0 for no cutoff), got ", k);
  check_finite(name, "relevance", relevance);
  check_finite(name, "score", score);
}

/// DCG with tied scores averaged; discounts beyond rank k are zero.
inline double tie_averaged_dcg(std::span<const double> relevance, std::span<const double> score, std::int64_t k) {
  const std::size_t n = relevance.size();
  const std::size_t cutoff = k == 0 ? n : std::min(n, static_cast<std::size_t>(k));
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return score[a] > score[b]; });
  double dcg = 0;
  for (std::size_t start = 0; start < n && start < cutoff;) {
    std::size_t end = start;
    double gain = 0;
    while (end < n && score[order[end]] == score[order[start]]) gain += relevance[order[end++]];
    double discounts = 0;
    for (std::size_t r = start; r < std::min(end, cutoff); ++r) discounts += discount(static_cast<std::int64_t>(r));
    dcg += gain / static_cast<double>(end - start) * discounts;
    start = end;
  }
  return dcg;
}

}  // namespace detail

/// Discounted cumulative gain of one query's documents ranked by score.
inline double dcg(std::span<const double> relevance, std::span<const double> score, std::int64_t k = 0) {
  detail::check_scored("dcg", relevance, score, k);
  return detail::tie_averaged_dcg(relevance, score, k);
}

/// DCG divided by the DCG of the ideal order; 0 when every relevance is 0 (as sklearn).
inline double ndcg(std::span<const double> relevance, std::span<const double> score, std::int64_t k = 0) {
  detail::check_scored("ndcg", relevance, score, k);
  for (std::size_t i = 0; i < relevance.size(); ++i)
    RECSYS_CHECK(relevance[i] >= 0, "ndcg: relevance[", i, "] is ", relevance[i], " (NDCG needs non-negative gains)");
  std::vector<double> ideal(relevance.begin(), relevance.end());
  std::sort(ideal.begin(), ideal.end(), std::greater<>());
  const std::size_t cutoff = k == 0 ? ideal.size() : std::min(ideal.size(), static_cast<std::size_t>(k));
  double best = 0;
  for (std::size_t r = 0; r < cutoff; ++r) best += ideal[r] * detail::discount(static_cast<std::int64_t>(r));
  return best == 0 ? 0.0 : detail::tie_averaged_dcg(relevance, score, k) / best;
}

namespace detail {

/// Mean over the rows of two (queries, documents) tensors of fn(row relevance, row score).
template <class F>
double mean_over_queries(const char* name, const Tensor& y_true, const Tensor& y_score, F fn) {
  RECSYS_CHECK(y_true.defined() && y_score.defined(), name, ": undefined tensor");
  RECSYS_CHECK(y_true.dim() == 2 && y_true.shape() == y_score.shape(), name,
               ": y_true and y_score must both be (queries, documents), got ", y_true.shape(), " and ",
               y_score.shape());
  RECSYS_CHECK(y_true.size(0) > 0, name, ": no queries");
  const std::vector<double> rel = y_true.to_vector<double>(), sc = y_score.to_vector<double>();
  const auto docs = static_cast<std::size_t>(y_true.size(1));
  double sum = 0;
  for (std::size_t q = 0; q < static_cast<std::size_t>(y_true.size(0)); ++q)
    sum += fn(std::span<const double>(rel).subspan(q * docs, docs), std::span<const double>(sc).subspan(q * docs, docs));
  return sum / static_cast<double>(y_true.size(0));
}

}  // namespace detail

/// sklearn's dcg_score: the mean DCG over queries (rows).
inline double dcg_score(const Tensor& y_true, const Tensor& y_score, std::int64_t k = 0) {
  return detail::mean_over_queries("dcg", y_true, y_score,
                                   [k](std::span<const double> r, std::span<const double> s) { return dcg(r, s, k); });
}
/// sklearn's ndcg_score: the mean NDCG over queries (rows).
inline double ndcg_score(const Tensor& y_true, const Tensor& y_score, std::int64_t k = 0) {
  return detail::mean_over_queries("ndcg", y_true, y_score,
                                   [k](std::span<const double> r, std::span<const double> s) { return ndcg(r, s, k); });
}

}  // namespace recsys::metrics

namespace recsys::metrics {

// ---------------------------------------------------------------------------------------------
// Ranking one user's candidates by score, with ties counted neutrally. Sorting breaks ties by some
// accident (catalogue index, file order), and on real catalogues that accident correlates with
// popularity, so a model with many tied scores looks better or worse than it is. Here every group
// of equal scores is taken in a uniformly random order and each metric is its *expectation* over
// those orders, computed exactly (no sampling, no seed). A model whose scores are all equal gets
// exactly the chance level; a model without ties gets the usual values.
// NaN scores rank below every number (and tie with each other).
// ---------------------------------------------------------------------------------------------

/// Expected top-k metrics of one user: hit rate, recall and NDCG at each k asked, and the
/// reciprocal rank of the first relevant candidate (no cutoff).
struct TieNeutralMetrics {
  std::vector<double> hit, recall, ndcg;  ///< one per k, in the order of `ks`
  double reciprocal_rank = 0;
};

namespace detail {

inline double finite_or_lowest(double s) { return std::isnan(s) ? -std::numeric_limits<double>::infinity() : s; }

/// P(at least one of r marked items lands in the first s of m uniformly shuffled slots).
inline double hit_probability(std::int64_t m, std::int64_t r, std::int64_t s) {
  if (s <= 0 || r <= 0) return 0.0;
  if (s >= m || r > m - s) return 1.0;
  double miss = 1.0;  // C(m - r, s) / C(m, s)
  for (std::int64_t t = 0; t < s; ++t) miss *= static_cast<double>(m - r - t) / static_cast<double>(m - t);
  return 1.0 - miss;
}

/// Sum of the DCG discounts of positions [from, to) that lie before k.
inline double discount_sum(std::int64_t from, std::int64_t to, std::int64_t k) {
  double s = 0;
  for (std::int64_t p = from; p < std::min(to, k); ++p) s += discount(p);
  return s;
}

/// Ideal DCG of r relevant items at cutoff k.
inline double ideal_dcg(std::int64_t r, std::int64_t k) { return discount_sum(0, std::min(r, k), k); }

}  // namespace detail

/// Tie-neutral metrics of one user. scores[c] is candidate c's score; relevant[c] != 0 marks the
/// held-out items among the candidates. At least one candidate must be relevant. O(n log r) for n
/// candidates and r relevant ones, so a whole catalogue per user is cheap.
inline TieNeutralMetrics tie_neutral_metrics(std::span<const double> scores, std::span<const std::uint8_t> relevant,
                                             std::span<const std::int64_t> ks) {
  RECSYS_CHECK(scores.size() == relevant.size(), "tie_neutral_metrics: ", scores.size(), " scores but ",
               relevant.size(), " relevance flags");
  for (std::int64_t k : ks) RECSYS_CHECK(k >= 1, "tie_neutral_metrics: k must be at least 1, got ", k);
  // The distinct scores of the relevant candidates, best first, with how many relevant items hold each.
  std::vector<double> values;
  for (std::size_t c = 0; c < scores.size(); ++c)
    if (relevant[c]) values.push_back(detail::finite_or_lowest(scores[c]));
  RECSYS_CHECK(!values.empty(), "tie_neutral_metrics: no candidate is relevant");
  const auto n_relevant = static_cast<std::int64_t>(values.size());
  std::sort(values.begin(), values.end(), std::greater<>());
  std::vector<std::int64_t> rel_count;
  {
    std::size_t w = 0;
    for (std::size_t v = 0; v < values.size(); ++v) {
      if (v > 0 && values[v] == values[w - 1]) {
        ++rel_count.back();
        continue;
      }
      values[w++] = values[v];
      rel_count.push_back(1);
    }
    values.resize(w);
  }
  // For each group j: how many candidates score above values[j] (its first position) and equal it (its size).
  const std::size_t groups = values.size();
  std::vector<std::int64_t> above(groups + 1, 0), equal(groups, 0);
  for (double raw : scores) {
    const double s = detail::finite_or_lowest(raw);
    // First group whose value is <= s (values descend).
    const auto j = static_cast<std::size_t>(
        std::lower_bound(values.begin(), values.end(), s, std::greater<>()) - values.begin());
    if (j < groups && values[j] == s) {
      ++equal[j];
      ++above[j + 1];  // above every later group
    } else {
      ++above[j];
    }
  }
  for (std::size_t j = 1; j < groups; ++j) above[j] += above[j - 1];

  TieNeutralMetrics m;
  for (std::int64_t k : ks) {
    double dcg = 0, hits = 0;
    for (std::size_t j = 0; j < groups; ++j) {
      const std::int64_t g = above[j], size = equal[j], r = rel_count[j];
      if (g >= k) break;
      // Each relevant item of the group sits at a uniformly random one of the group's positions.
      const double share = static_cast<double>(r) / static_cast<double>(size);
      dcg += share * detail::discount_sum(g, g + size, k);
      hits += share * static_cast<double>(std::min(g + size, k) - g);
    }
    // Only the best group holding a relevant item decides whether there is a hit in the top k.
    m.hit.push_back(detail::hit_probability(equal[0], rel_count[0], k - above[0]));
    m.recall.push_back(hits / static_cast<double>(n_relevant));
    m.ndcg.push_back(dcg / detail::ideal_dcg(n_relevant, k));
  }
  // The first relevant item is the earliest of the best group's r relevant positions among its m:
  // P(offset j) = C(m - 1 - j, r - 1) / C(m, r), built up term by term.
  {
    const std::int64_t g = above[0], size = equal[0], r = rel_count[0];
    double p = static_cast<double>(r) / static_cast<double>(size), rr = 0;
    for (std::int64_t j = 0; j <= size - r && p > 0; ++j) {
      rr += p / static_cast<double>(g + j + 1);
      if (j + 1 <= size - r) p *= static_cast<double>(size - j - r) / static_cast<double>(size - 1 - j);
    }
    m.reciprocal_rank = rr;
  }
  return m;
}

/// What a random order of n candidates with r relevant ones scores in expectation: HR@k and NDCG@k.
/// Equal to tie_neutral_metrics of n equal scores.
struct ChanceLevel {
  double hit = 0, ndcg = 0;
};
inline ChanceLevel chance_level(std::int64_t candidates, std::int64_t relevant, std::int64_t k) {
  RECSYS_CHECK(candidates >= relevant && relevant >= 1, "chance_level: needs 1 <= relevant <= candidates, got ",
               relevant, " of ", candidates);
  RECSYS_CHECK(k >= 1, "chance_level: k must be at least 1, got ", k);
  ChanceLevel c;
  c.hit = detail::hit_probability(candidates, relevant, k);
  c.ndcg = static_cast<double>(relevant) / static_cast<double>(candidates) * detail::discount_sum(0, candidates, k) /
           detail::ideal_dcg(relevant, k);
  return c;
}

}  // namespace recsys::metrics
