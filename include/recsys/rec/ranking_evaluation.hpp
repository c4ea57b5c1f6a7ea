// recsys/rec/ranking_evaluation.hpp — full-ranking (or sampled) evaluation of a recommender on a Holdout: every user's candidates scored in blocks, tie-neutral HR/Recall/NDCG@K and MRR, catalogue coverage, the chance level of the candidates actually used, and warnings for constant or non-finite scores.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "recsys/core/error.hpp"
#include "recsys/core/parallel.hpp"
#include "recsys/metrics/ranking.hpp"
#include "recsys/rec/holdout.hpp"
#include "recsys/rec/interface.hpp"

namespace recsys::rec {

/// Writes every catalogue item's score for each of `users` into out (users.size() × items, row-major).
using BlockScorer = std::function<void(std::span<const std::int64_t> users, std::span<double> out)>;

/// What the evaluation computes.
struct RankingOptions {
  std::vector<std::int64_t> ks{10, 20};  ///< list lengths of HR@K, Recall@K, NDCG@K and coverage@K
  std::int64_t block_users = 64;         ///< users scored per block (memory: block × items doubles)
  std::uint64_t seed = 42;               ///< ties inside the top-K lists that coverage counts
};

/// Per-user and mean ranking metrics of one scorer on one Holdout.
struct RankingReport {
  std::string model;
  std::vector<std::int64_t> ks;
  std::vector<std::int64_t> users;          ///< evaluated users, as in the Holdout
  std::vector<std::string> names;           ///< "hr@10", "recall@10", "ndcg@10", ..., "mrr"
  std::vector<std::vector<double>> values;  ///< values[metric][user]
  std::vector<double> means;                ///< per metric, the mean over users
  std::vector<double> coverage;             ///< per k: share of the catalogue in at least one user's top k
  std::vector<double> chance_hit, chance_ndcg;  ///< per k: what a random order scores on these candidates
  double mean_candidates = 0;               ///< candidates per user, on average
  std::int64_t constant_users = 0;          ///< users whose candidates all got the same score
  std::int64_t nonfinite_users = 0;         ///< users with a NaN or infinite candidate score

  /// The mean of a metric by name ("ndcg@10"); throws naming the ones there are.
  double mean(const std::string& name) const { return means[index(name)]; }
  /// The per-user values of a metric.
  const std::vector<double>& per_user(const std::string& name) const { return values[index(name)]; }
  std::size_t index(const std::string& name) const {
    for (std::size_t m = 0; m < names.size(); ++m)
      if (names[m] == name) return m;
    std::string all;
    for (const std::string& n : names) all += (all.empty() ? "" : ", ") + n;
    RECSYS_FAIL("RankingReport: no metric '", name, "' (have ", all, ")");
  }
  /// Human-readable warnings (empty when nothing looks wrong).
  std::vector<std::string> warnings() const {
    std::vector<std::string> w;
    if (constant_users > 0)
      w.push_back(model + " gave every candidate the same score for " + std::to_string(constant_users) + " of " +
                  std::to_string(users.size()) +
                  " users: their metrics are the chance level (ties count neutrally), not a ranking");
    if (nonfinite_users > 0)
      w.push_back(model + " gave NaN or infinite scores to candidates of " + std::to_string(nonfinite_users) +
                  " users (NaN ranks last)");
    return w;
  }
};

namespace detail {

/// The k best candidates of one user for coverage, ties broken by a seeded key of (user, item) (never
/// by catalogue index, which would favour the same low-index items for every constant scorer).
inline void top_k_items(std::span<const double> scores, std::span<const std::int64_t> items, std::int64_t k,
                        std::uint64_t user_seed, std::vector<std::pair<double, std::uint64_t>>& work,
                        std::vector<std::int64_t>& out) {
  work.clear();
  for (std::size_t c = 0; c < scores.size(); ++c) {
    const double s = std::isnan(scores[c]) ? -std::numeric_limits<double>::infinity() : scores[c];
    work.emplace_back(s, (static_cast<std::uint64_t>(philox_block(user_seed, static_cast<std::uint64_t>(items[c])).v[0]) << 32) |
                             static_cast<std::uint64_t>(c));
  }
  const auto n = std::min(static_cast<std::size_t>(k), work.size());
  std::partial_sort(work.begin(), work.begin() + static_cast<std::ptrdiff_t>(n), work.end(),
                    [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  out.clear();
  for (std::size_t r = 0; r < n; ++r) out.push_back(items[static_cast<std::size_t>(work[r].second & 0xFFFFFFFFull)]);
}

}  // namespace detail

/// Evaluates `scorer` on `split`: each evaluated user's candidates are every item without a training
/// interaction of theirs (full ranking) or the targets plus the user's sampled negatives; metrics are
/// tie-neutral expectations (metrics::tie_neutral_metrics). Users are scored `block_users` at a time
/// and ranked in parallel; results do not depend on the thread count.
inline RankingReport evaluate_ranking(const BlockScorer& scorer, std::int64_t num_items, const Holdout& split,
                                      const RankingOptions& o = {}, std::string model = "model") {
  RECSYS_CHECK(!o.ks.empty(), "evaluate_ranking: no list length k given");
  for (std::int64_t k : o.ks) RECSYS_CHECK(k >= 1, "evaluate_ranking: k must be at least 1, got ", k);
  RECSYS_CHECK(o.block_users >= 1, "evaluate_ranking: block_users must be at least 1, got ", o.block_users);
  RECSYS_CHECK(!split.users.empty(), "evaluate_ranking: the split has no users");
  RECSYS_CHECK(num_items == split.train.num_items(), "evaluate_ranking: the scorer has ", num_items,
               " items, the split's catalogue ", split.train.num_items());
  const std::size_t n_users = split.users.size(), n_k = o.ks.size();
  RankingReport rep;
  rep.model = std::move(model);
  rep.ks = o.ks;
  rep.users = split.users;
  for (std::int64_t k : o.ks)
    for (const char* m : {"hr@", "recall@", "ndcg@"}) rep.names.push_back(m + std::to_string(k));
  rep.names.push_back("mrr");
  rep.values.assign(rep.names.size(), std::vector<double>(n_users, 0.0));
  std::vector<std::vector<double>> chance_hit(n_k, std::vector<double>(n_users)), chance_ndcg = chance_hit;
  std::vector<double> n_candidates(n_users);
  std::vector<std::uint8_t> constant(n_users, 0), nonfinite(n_users, 0);
  // Top-k lists for coverage: per user, the longest k's list (shorter k use its prefix).
  const std::int64_t k_max = *std::max_element(o.ks.begin(), o.ks.end());
  std::vector<std::vector<std::int64_t>> tops(n_users);

  const std::vector<std::vector<std::int64_t>> seen = split.train.seen_items();

  const auto items = static_cast<std::size_t>(num_items);
  std::vector<double> block;
  for (std::size_t first = 0; first < n_users; first += static_cast<std::size_t>(o.block_users)) {
    const std::size_t count = std::min(static_cast<std::size_t>(o.block_users), n_users - first);
    block.assign(count * items, 0.0);
    scorer(std::span<const std::int64_t>(split.users).subspan(first, count), block);
#pragma omp parallel
    {
      std::vector<double> scores;
      std::vector<std::uint8_t> relevant;
      std::vector<std::int64_t> candidates;
      std::vector<std::pair<double, std::uint64_t>> work;
#pragma omp for schedule(dynamic, 4)
      for (std::int64_t b = 0; b < static_cast<std::int64_t>(count); ++b) {
        const std::size_t n = first + static_cast<std::size_t>(b);
        const std::span<const double> row(block.data() + static_cast<std::size_t>(b) * items, items);
        const auto& rel = split.relevant[n];
        const auto& user_seen = seen[static_cast<std::size_t>(split.users[n])];
        candidates.clear();
        if (split.full_ranking) {
          std::size_t s = 0;
          for (std::size_t i = 0; i < items; ++i) {
            while (s < user_seen.size() && user_seen[s] < static_cast<std::int64_t>(i)) ++s;
            if (s < user_seen.size() && user_seen[s] == static_cast<std::int64_t>(i)) continue;
            candidates.push_back(static_cast<std::int64_t>(i));
          }
        } else {
          std::merge(rel.begin(), rel.end(), split.negatives[n].begin(), split.negatives[n].end(),
                     std::back_inserter(candidates));
        }
        scores.clear();
        relevant.clear();
        double lo = std::numeric_limits<double>::infinity(), hi = -lo;
        bool bad = false;
        for (std::int64_t c : candidates) {
          const double s = row[static_cast<std::size_t>(c)];
          scores.push_back(s);
          relevant.push_back(std::binary_search(rel.begin(), rel.end(), c) ? 1 : 0);
          if (!std::isfinite(s)) bad = true;
          else lo = std::min(lo, s), hi = std::max(hi, s);
        }
        nonfinite[n] = bad;
        constant[n] = !bad && hi - lo <= 1e-12 * std::max(1.0, std::fabs(hi));
        const metrics::TieNeutralMetrics m = metrics::tie_neutral_metrics(scores, relevant, o.ks);
        for (std::size_t q = 0; q < n_k; ++q) {
          rep.values[3 * q][n] = m.hit[q];
          rep.values[3 * q + 1][n] = m.recall[q];
          rep.values[3 * q + 2][n] = m.ndcg[q];
          const metrics::ChanceLevel c = metrics::chance_level(static_cast<std::int64_t>(candidates.size()),
                                                               static_cast<std::int64_t>(rel.size()), o.ks[q]);
          chance_hit[q][n] = c.hit;
          chance_ndcg[q][n] = c.ndcg;
        }
        rep.values.back()[n] = m.reciprocal_rank;
        n_candidates[n] = static_cast<double>(candidates.size());
        detail::top_k_items(scores, candidates, k_max, o.seed ^ (0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(split.users[n] + 1)),
                            work, tops[n]);
      }
    }
  }
  // Means in user order (a fixed summation order: the same on any thread count).
  const auto mean_of = [&](const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return s / static_cast<double>(v.size());
  };
  for (const auto& v : rep.values) rep.means.push_back(mean_of(v));
  for (std::size_t q = 0; q < n_k; ++q) {
    rep.chance_hit.push_back(mean_of(chance_hit[q]));
    rep.chance_ndcg.push_back(mean_of(chance_ndcg[q]));
    rep.coverage.push_back(metrics::catalogue_coverage(tops, num_items, o.ks[q]));
  }
  rep.mean_candidates = mean_of(n_candidates);
  for (std::size_t n = 0; n < n_users; ++n) rep.constant_users += constant[n], rep.nonfinite_users += nonfinite[n];
  return rep;
}

/// evaluate_ranking of a trained model (its score_users, a block at a time). The model must have
/// been trained on split.train's catalogue.
inline RankingReport evaluate_ranking(const Recommender& model, const Holdout& split, const RankingOptions& o = {}) {
  RECSYS_CHECK(model.data().num_items() == split.train.num_items() && model.data().num_users() == split.train.num_users(),
               "evaluate_ranking: the model knows ", model.data().num_users(), " users and ", model.data().num_items(),
               " items, the split ", split.train.num_users(), " and ", split.train.num_items());
  return evaluate_ranking([&](std::span<const std::int64_t> users, std::span<double> out) { model.score_users(users, out); },
                          model.data().num_items(), split, o, model.name());
}

}  // namespace recsys::rec
