// tests/rec/ranking_evaluation_test.cpp — ranking protocols: which rows leave-last-out and the temporal cut hold out (ties never by file order), sampled candidates, full-ranking metrics against a brute-force reference, and the chance level of a constant scorer.
#include "rec/rec_test_util.hpp"

#include <set>

#include <recsys/rec/evaluation.hpp>

using namespace recsys;

namespace {

/// Scores from a fixed table: item i scores table[i] for every user (or table[u * items + i] when per-user).
class TableScorer : public rec::Recommender {
 public:
  explicit TableScorer(std::vector<double> table, bool per_user = false)
      : rec::Recommender({}), table_(std::move(table)), per_user_(per_user) {}
  std::string name() const override { return "table"; }

 protected:
  History fit_model(const rec::Dataset&, const rec::FitOptions&) override { return {}; }
  void score_items(std::int64_t u, std::span<const std::int64_t> items, std::span<double> out) const override {
    const std::size_t base = per_user_ ? static_cast<std::size_t>(u * data().num_items()) : 0;
    for (std::size_t n = 0; n < items.size(); ++n) out[n] = table_[base + static_cast<std::size_t>(items[n])];
  }
  NamedTensors state_tensors() const override { return {}; }
  void restore(const rec::Dataset&, const rec::FitOptions&, const json::Value&, const NamedTensors&) override {}

 private:
  std::vector<double> table_;
  bool per_user_;
};

/// (user id, item id) of every held-out row: what a split means, independent of indices.
std::set<std::pair<std::string, std::string>> held_pairs(const rec::Dataset& d, const rec::Holdout& h) {
  std::set<std::pair<std::string, std::string>> s;
  for (std::size_t n = 0; n < h.users.size(); ++n)
    for (std::int64_t i : h.relevant[n]) s.emplace(d.user_id(h.users[n]), d.item(i).id);
  return s;
}

}  // namespace

TEST_CASE("holdout: leave-last-out holds out each user's latest interaction") {
  const rec::Dataset d = recsys::testing::tiny_dataset();
  // ann's latest is m2 (t3, 1 star: a target under "any"), bob's m3 (t2), cat's m4 (t6).
  const rec::Holdout h = rec::make_holdout(d, {});
  CHECK(h.users == std::vector<std::int64_t>{0, 1, 2});
  CHECK(h.relevant == std::vector<std::vector<std::int64_t>>{{2}, {3}, {4}});
  CHECK(h.train.size() == 5);
  CHECK(h.full_ranking);
  CHECK(h.timestamp_ties == 0);
  // "liked" targets: ann's last liked is m1 (t2); cat's only like is m1, so cat is not evaluated.
  const rec::Holdout l = rec::make_holdout(d, {.target = "liked"});
  CHECK(l.users == std::vector<std::int64_t>{0, 1});
  CHECK(l.relevant == std::vector<std::vector<std::int64_t>>{{1}, {3}});
  CHECK(l.train.size() == 6);
}

TEST_CASE("holdout: timestamp ties are broken by a seeded rule, not by file order") {
  const rec::Dataset& site = recsys::testing::small_site();
  // Day-granular timestamps: most users have several rows on their last day.
  std::vector<rec::Interaction> rows = site.interactions();
  for (rec::Interaction& r : rows) r.timestamp /= 86400 * 30;
  const rec::Dataset coarse = site.with_interactions(rows);
  Generator gen(3);
  shuffle(rows.begin(), rows.end(), gen);
  const rec::Dataset shuffled = site.with_interactions(rows);
  const rec::Holdout a = rec::make_holdout(coarse, {.seed = 5}), b = rec::make_holdout(shuffled, {.seed = 5});
  CHECK(a.timestamp_ties > 0);
  CHECK(a.timestamp_ties == b.timestamp_ties);
  CHECK(held_pairs(coarse, a) == held_pairs(shuffled, b));
  // Another seed chooses other rows among the tied ones; the untied users keep theirs.
  const rec::Holdout c = rec::make_holdout(coarse, {.seed = 6});
  CHECK(held_pairs(coarse, c) != held_pairs(coarse, a));
  // The held-out row is always one with the user's latest timestamp.
  for (std::size_t n = 0; n < a.users.size(); ++n) {
    std::int64_t latest = 0, chosen = -1;
    for (const rec::Interaction& r : coarse.interactions())
      if (r.user == a.users[n]) {
        latest = std::max(latest, r.timestamp);
        if (r.item == a.relevant[n][0]) chosen = r.timestamp;
      }
    CHECK(chosen == latest);
  }
}

TEST_CASE("holdout: the temporal cut trains on the past and tests each user's future") {
  const rec::Dataset& site = recsys::testing::small_site();
  const rec::Holdout h = rec::make_holdout(site, {.protocol = "temporal", .temporal_fraction = 0.25});
  for (const rec::Interaction& r : h.train.interactions()) CHECK(r.timestamp < h.time_cut);
  std::int64_t after = 0;
  for (const rec::Interaction& r : site.interactions()) after += r.timestamp >= h.time_cut;
  CHECK(after == doctest::Approx(0.25 * static_cast<double>(site.size())).epsilon(0.02));
  CHECK(h.train.size() == site.size() - after);
  std::int64_t targets = 0;
  for (std::size_t n = 0; n < h.users.size(); ++n) {
    targets += static_cast<std::int64_t>(h.relevant[n].size());
    bool has_train = false;
    for (const rec::Interaction& r : h.train.interactions()) has_train |= r.user == h.users[n];
    CHECK(has_train);
  }
  CHECK(targets == h.held_out_rows);
  CHECK(targets <= after);
}

TEST_CASE("holdout: sampled negatives are distinct unseen items, seeded, and popularity-weighted on request") {
  const rec::Dataset& site = recsys::testing::small_site();
  const rec::Holdout a = rec::make_holdout(site, {.negatives = 50, .seed = 7});
  const rec::Holdout b = rec::make_holdout(site, {.negatives = 50, .seed = 7});
  const rec::Holdout c = rec::make_holdout(site, {.negatives = 50, .seed = 8});
  CHECK_FALSE(a.full_ranking);
  CHECK(a.negatives == b.negatives);
  CHECK(a.negatives != c.negatives);
  const auto seen = site.seen_matrix();
  for (std::size_t n = 0; n < a.users.size(); ++n) {
    const auto& neg = a.negatives[n];
    CHECK(std::adjacent_find(neg.begin(), neg.end()) == neg.end());
    for (std::int64_t i : neg) CHECK_FALSE(seen[static_cast<std::size_t>(a.users[n])][static_cast<std::size_t>(i)]);
  }
  // Popularity-weighted negatives are more popular on average than uniform ones, and never unrated items.
  const rec::Holdout p = rec::make_holdout(site, {.negatives = 50, .sampling = "popularity"});
  const std::vector<std::int64_t> counts = p.train.item_counts();
  double mean_u = 0, mean_p = 0, nu = 0, np = 0;
  for (std::size_t n = 0; n < a.users.size(); ++n) {
    for (std::int64_t i : a.negatives[n]) mean_u += static_cast<double>(counts[static_cast<std::size_t>(i)]), nu += 1;
    for (std::int64_t i : p.negatives[n]) {
      CHECK(counts[static_cast<std::size_t>(i)] > 0);
      mean_p += static_cast<double>(counts[static_cast<std::size_t>(i)]), np += 1;
    }
  }
  CHECK(mean_p / np > 1.5 * mean_u / nu);
  // Asking for more negatives than there are unseen items gives all of them.
  const rec::Dataset d = recsys::testing::tiny_dataset();
  const rec::Holdout all = rec::make_holdout(d, {.negatives = 1000});
  CHECK(all.negatives[0] == std::vector<std::int64_t>{3, 4});     // ann never met m3, m4
  CHECK(all.negatives[1] == std::vector<std::int64_t>{1, 2, 4});  // bob never met m1, m2, m4
  CHECK_THROWS_WITH_AS(rec::make_holdout(d, {.protocol = "random"}), doctest::Contains("protocol must be"), Error);
  CHECK_THROWS_WITH_AS(rec::make_holdout(d, {.sampling = "zipf"}), doctest::Contains("sampling must be"), Error);
}

TEST_CASE("evaluate_ranking: full ranking equals a brute-force reference") {
  const rec::Dataset& site = recsys::testing::small_site();
  const rec::Holdout h = rec::make_holdout(site, {.protocol = "temporal", .temporal_fraction = 0.3});
  const std::int64_t items = site.num_items();
  std::vector<double> table(static_cast<std::size_t>(site.num_users() * items));
  Generator gen(11);
  for (double& x : table) x = std::floor(gen.uniform() * 1000);  // distinct enough, with a few ties
  TableScorer model(table, true);
  model.fit(h.train);
  const rec::RankingReport r = rec::evaluate_ranking(model, h, {.ks = {10, 20}, .block_users = 7});
  // Reference: per user, sort the unseen items; a tie group's members share its expected values.
  const auto seen = h.train.seen_matrix();
  double hr = 0, ndcg = 0, recall = 0;
  for (std::size_t n = 0; n < h.users.size(); ++n) {
    const auto u = static_cast<std::size_t>(h.users[n]);
    std::vector<double> s;
    std::vector<std::uint8_t> rel;
    for (std::int64_t i = 0; i < items; ++i) {
      if (seen[u][static_cast<std::size_t>(i)]) continue;
      s.push_back(table[u * static_cast<std::size_t>(items) + static_cast<std::size_t>(i)]);
      rel.push_back(std::binary_search(h.relevant[n].begin(), h.relevant[n].end(), i));
    }
    // Independent of tie_neutral_metrics: rank by counting, averaging over the tie group's positions.
    double dcg = 0, hits = 0;
    for (std::size_t c = 0; c < s.size(); ++c) {
      if (!rel[c]) continue;
      std::int64_t above = 0, equal = 0;
      for (double x : s) above += x > s[c], equal += x == s[c];
      for (std::int64_t p = above; p < above + equal; ++p)
        if (p < 10) dcg += 1 / std::log2(p + 2.0) / static_cast<double>(equal), hits += 1.0 / static_cast<double>(equal);
    }
    double ideal = 0;
    for (std::size_t p = 0; p < std::min<std::size_t>(10, h.relevant[n].size()); ++p) ideal += 1 / std::log2(p + 2.0);
    ndcg += dcg / ideal;
    recall += hits / static_cast<double>(h.relevant[n].size());
    CHECK(r.per_user("ndcg@10")[n] == doctest::Approx(dcg / ideal).epsilon(1e-12));
    hr += r.per_user("hr@10")[n];
  }
  const double users = static_cast<double>(h.users.size());
  CHECK(r.mean("ndcg@10") == doctest::Approx(ndcg / users).epsilon(1e-12));
  CHECK(r.mean("recall@10") == doctest::Approx(recall / users).epsilon(1e-12));
  CHECK(r.mean("hr@10") == doctest::Approx(hr / users));
  CHECK(r.constant_users == 0);
  CHECK(r.coverage[0] > 0.1);
  // One thread or two, any block size: the same numbers.
  recsys::set_num_threads(1);
  const rec::RankingReport one = rec::evaluate_ranking(model, h, {.ks = {10, 20}, .block_users = 64});
  recsys::set_num_threads(2);
  CHECK(one.means == r.means);
  CHECK(one.coverage == r.coverage);
  CHECK_THROWS_WITH_AS(r.mean("auc"), doctest::Contains("no metric 'auc'"), Error);
}

TEST_CASE("evaluate_ranking: a constant scorer gets the chance level under both protocols, with a warning") {
  const rec::Dataset& site = recsys::testing::small_site();
  TableScorer flat(std::vector<double>(static_cast<std::size_t>(site.num_items()), 1.0));
  for (const std::int64_t negatives : {std::int64_t{0}, std::int64_t{99}}) {
    INFO("negatives ", negatives);
    const rec::Holdout h = rec::make_holdout(site, {.negatives = negatives});
    flat.fit(h.train);
    const rec::RankingReport r = rec::evaluate_ranking(flat, h);
    CHECK(r.mean("hr@10") == doctest::Approx(r.chance_hit[0]).epsilon(1e-12));
    CHECK(r.mean("ndcg@10") == doctest::Approx(r.chance_ndcg[0]).epsilon(1e-12));
    CHECK(r.constant_users == h.num_users());
    REQUIRE(r.warnings().size() == 1);
    CHECK(r.warnings()[0].find("same score") != std::string::npos);
    if (negatives > 0) CHECK(r.chance_hit[0] == doctest::Approx(0.1));  // 10 of 100 candidates
    else CHECK(r.mean_candidates > 200);
  }
  // A 24-item catalogue: every user has far fewer than 100 unseen items, and the chance level says so.
  std::vector<std::int64_t> rows;
  for (std::int64_t r = 0; r < site.size(); ++r)
    if (site[r].item < 24) rows.push_back(r);
  std::vector<rec::Item> items(site.items().begin(), site.items().begin() + 24);
  std::vector<rec::Interaction> kept;
  for (std::int64_t r : rows) kept.push_back(site[r]);
  const rec::Dataset small(site.user_ids(), items, kept);
  const rec::Holdout h = rec::make_holdout(small, {.negatives = 100});
  TableScorer flat24(std::vector<double>(24, 0.0));
  flat24.fit(h.train);
  const rec::RankingReport r = rec::evaluate_ranking(flat24, h);
  double expected = 0;
  for (std::size_t n = 0; n < h.users.size(); ++n)
    expected += std::min(1.0, 10.0 / static_cast<double>(h.negatives[n].size() + 1));
  expected /= static_cast<double>(h.users.size());
  CHECK(r.chance_hit[0] == doctest::Approx(expected));
  CHECK(r.chance_hit[0] > 0.3);
  CHECK(r.mean("hr@10") == doctest::Approx(expected));
}

TEST_CASE("evaluate_ranking: catalogue order no longer decides ties") {
  // Popular items have low indices on the synthetic site as in MovieLens; a scorer that ties
  // everything must not inherit that order.
  const rec::Dataset& site = recsys::testing::small_site();
  const rec::Holdout h = rec::make_holdout(site, {});
  TableScorer flat(std::vector<double>(static_cast<std::size_t>(site.num_items()), 0.5));
  flat.fit(h.train);
  rec::Popularity pop;
  pop.fit(h.train);
  const rec::RankingReport f = rec::evaluate_ranking(flat, h), p = rec::evaluate_ranking(pop, h);
  CHECK(f.mean("hr@10") < p.mean("hr@10"));
  CHECK(f.coverage[0] > 0.5);  // ties spread over the catalogue, not the same ten items
}
