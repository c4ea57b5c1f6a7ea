// tests/rec/neighbourhood_test.cpp — the item-item models: EASE against its closed form, item-kNN against hand-worked similarities, save/load, batched scoring, and both ahead of popularity on MovieLens (last item held out, full ranking).
#include "rec/rec_test_util.hpp"
#include "test_util.hpp"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <recsys/rec/ranking_evaluation.hpp>
#include <recsys/rec/recommender.hpp>
#include <recsys/rec/tuning.hpp>

using namespace recsys;
using recsys::testing::TempDir;

namespace {

/// A catalogue of `n_items` items and one user per list of items; every interaction gets rating 4,
/// timestamps in list order.
rec::Dataset knn_dataset(std::int64_t n_items, const std::vector<std::vector<std::int64_t>>& lists) {
  std::vector<rec::Item> items(static_cast<std::size_t>(n_items));
  for (std::int64_t i = 0; i < n_items; ++i) {
    items[static_cast<std::size_t>(i)].id = "i" + std::to_string(i);
    items[static_cast<std::size_t>(i)].title = "Item " + std::to_string(i);
  }
  std::vector<std::string> users;
  std::vector<rec::Interaction> rows;
  for (std::size_t u = 0; u < lists.size(); ++u) {
    users.push_back("u" + std::to_string(u));
    std::int64_t t = 0;
    for (std::int64_t i : lists[u]) rows.push_back({static_cast<std::int64_t>(u), i, 4.0, ++t, ""});
  }
  return rec::Dataset(std::move(users), std::move(items), std::move(rows));
}

/// 4 users, 5 items: u0 {0, 1, 2}, u1 {0, 1}, u2 {1, 3}, u3 {0, 2, 4}.
/// Users per item: U0 = {0, 1, 3}, U1 = {0, 1, 2}, U2 = {0, 3}, U3 = {2}, U4 = {3}.
rec::Dataset four_users() { return knn_dataset(5, {{0, 1, 2}, {0, 1}, {1, 3}, {0, 2, 4}}); }

/// The inverse of a dense SPD matrix by naive Gauss–Jordan elimination with partial pivoting, in double.
std::vector<double> gauss_jordan_inverse(std::vector<double> a, std::int64_t n) {
  std::vector<double> inv(static_cast<std::size_t>(n * n), 0.0);
  for (std::int64_t i = 0; i < n; ++i) inv[static_cast<std::size_t>(i * n + i)] = 1;
  const auto at = [n](std::vector<double>& m, std::int64_t r, std::int64_t c) -> double& {
    return m[static_cast<std::size_t>(r * n + c)];
  };
  for (std::int64_t c = 0; c < n; ++c) {
    std::int64_t pivot = c;
    for (std::int64_t r = c + 1; r < n; ++r)
      if (std::fabs(at(a, r, c)) > std::fabs(at(a, pivot, c))) pivot = r;
    for (std::int64_t k = 0; k < n; ++k) std::swap(at(a, c, k), at(a, pivot, k)), std::swap(at(inv, c, k), at(inv, pivot, k));
    const double d = at(a, c, c);
    for (std::int64_t k = 0; k < n; ++k) at(a, c, k) /= d, at(inv, c, k) /= d;
    for (std::int64_t r = 0; r < n; ++r) {
      if (r == c || at(a, r, c) == 0) continue;
      const double f = at(a, r, c);
      for (std::int64_t k = 0; k < n; ++k) at(a, r, k) -= f * at(a, c, k), at(inv, r, k) -= f * at(inv, c, k);
    }
  }
  return inv;
}

/// EASE's B in double, from the definition: G = XᵀX + λI over the distinct (user, item) pairs,
/// P = G⁻¹, B_ij = −P_ij / P_jj, B_jj = 0.
std::vector<double> ease_closed_form(const rec::Dataset& d, double lambda) {
  const std::int64_t n = d.num_items();
  const std::vector<std::vector<std::uint8_t>> x = d.seen_matrix();
  std::vector<double> g(static_cast<std::size_t>(n * n), 0.0);
  for (const auto& row : x)
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < n; ++j) g[static_cast<std::size_t>(i * n + j)] += row[static_cast<std::size_t>(i)] * row[static_cast<std::size_t>(j)];
  for (std::int64_t i = 0; i < n; ++i) g[static_cast<std::size_t>(i * n + i)] += lambda;
  const std::vector<double> p = gauss_jordan_inverse(g, n);
  std::vector<double> b(p.size());
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j)
      b[static_cast<std::size_t>(i * n + j)] = i == j ? 0.0 : -p[static_cast<std::size_t>(i * n + j)] / p[static_cast<std::size_t>(j * n + j)];
  return b;
}

/// Every user's score_users row equals score_all (within `tol`, relative to the row's scale).
void check_batched_scores(const rec::Recommender& model, double tol) {
  const std::int64_t users = model.data().num_users(), items = model.data().num_items();
  std::vector<std::int64_t> all(static_cast<std::size_t>(users));
  for (std::int64_t u = 0; u < users; ++u) all[static_cast<std::size_t>(u)] = u;
  std::vector<double> block(static_cast<std::size_t>(users * items));
  model.score_users(all, block);
  double worst = 0;
  for (std::int64_t u = 0; u < users; ++u) {
    const std::vector<double> one = model.score_all(u);
    for (std::int64_t i = 0; i < items; ++i)
      worst = std::max(worst, std::fabs(one[static_cast<std::size_t>(i)] - block[static_cast<std::size_t>(u * items + i)]) /
                                  (1 + std::fabs(one[static_cast<std::size_t>(i)])));
  }
  INFO(model.name(), ": largest difference between score_users and score_all ", worst);
  CHECK(worst <= tol);
}

/// Saves, reloads through load_recommender, and checks every user's scores come back bit for bit.
void check_save_load(const rec::Recommender& model) {
  TempDir dir(model.name());
  model.save(dir.str());
  const auto loaded = rec::load_recommender(dir.str());
  REQUIRE(loaded->name() == model.name());
  for (std::int64_t u = 0; u < model.data().num_users(); ++u) CHECK(loaded->score_all(u) == model.score_all(u));
  CHECK(loaded->recommend(0, 3) == model.recommend(0, 3));
}

/// No recommended item is one the user has seen, for every user.
void check_never_seen(const rec::Recommender& model, std::int64_t n) {
  for (std::int64_t u = 0; u < model.data().num_users(); ++u)
    for (const rec::ScoredItem& s : model.recommend(u, n)) {
      INFO(model.name(), ": user ", u, " item ", s.item);
      CHECK_FALSE(std::binary_search(model.seen(u).begin(), model.seen(u).end(), s.item));
    }
}

}  // namespace

TEST_CASE("rec ease: B matches the closed form in double, zero diagonal, on a hand-made set and the synthetic site") {
  struct Case {
    const char* what;
    rec::Dataset data;
    double lambda;
  };
  // The hand-made set is dense enough for the GEMM Gram; the site (13% dense) takes the sparse one.
  for (const Case& c : {Case{"four users", four_users(), 0.5}, Case{"site", recsys::testing::small_site(), 20.0}}) {
    INFO(c.what);
    rec::FitOptions o = rec::default_options("ease");
    o.lambda = c.lambda;
    rec::Ease ease(o);
    ease.fit(c.data);
    const std::int64_t n = c.data.num_items();
    const Tensor& b = ease.weights();
    REQUIRE(b.shape() == Shape{n, n});
    const std::vector<double> got = b.to_vector<double>(), expect = ease_closed_form(c.data, c.lambda);
    double worst = 0, scale = 0;
    for (std::size_t k = 0; k < got.size(); ++k) {
      worst = std::max(worst, std::fabs(got[k] - expect[k]));
      scale = std::max(scale, std::fabs(expect[k]));
    }
    MESSAGE(std::string(c.what), ": max |B - B_double| = ", worst, " (max |B| ", scale, ")");
    CHECK(worst < 1e-5 * scale);
    for (std::int64_t i = 0; i < n; ++i) CHECK(got[static_cast<std::size_t>(i * n + i)] == 0.0);
  }
}

TEST_CASE("rec ease: scores are X_u . B, batched scores agree, save/load, never a seen item") {
  const rec::Dataset d = four_users();
  rec::Ease ease(rec::default_options("ease"));
  CHECK(ease.name() == "ease");
  CHECK_FALSE(ease.capabilities().trains_in_epochs);
  REQUIRE(ease.tuning_grid().size() == 2);
  CHECK(ease.tuning_grid()[0].option == "lambda");
  CHECK(ease.tuning_grid()[1].option == "recency");
  CHECK(rec::grid_points(ease.tuning_grid()).size() == 12);
  rec::FitOptions o = rec::default_options("ease");
  o.lambda = 1;
  ease.fit(d, o);
  const std::vector<double> b = ease.weights().to_vector<double>();
  // u2 saw items 1 and 3: score(i) = B[1, i] + B[3, i].
  const std::vector<std::int64_t> items{0, 1, 2, 3, 4};
  const std::vector<double> s = ease.score(2, items);
  for (std::int64_t i = 0; i < 5; ++i)
    CHECK(s[static_cast<std::size_t>(i)] == doctest::Approx(b[static_cast<std::size_t>(5 + i)] + b[static_cast<std::size_t>(15 + i)]).epsilon(1e-6));
  check_batched_scores(ease, 0);  // fewer than 16 users: the same sums, bit for bit
  check_save_load(ease);
  check_never_seen(ease, 5);

  // A block of many users goes through a GEMM: the same scores up to float rounding.
  rec::Ease site_ease(rec::default_options("ease"));
  site_ease.fit(recsys::testing::small_site());
  check_batched_scores(site_ease, 1e-5);
  check_never_seen(site_ease, 10);
  check_save_load(site_ease);
}

TEST_CASE("rec ease: errors name the option, the catalogue limit and a bad saved B") {
  const rec::Dataset d = four_users();
  rec::FitOptions o = rec::default_options("ease");
  o.lambda = 0;
  CHECK_THROWS_WITH_AS(rec::Ease(o).fit(d), doctest::Contains("ease.fit: lambda must be positive, got 0"), recsys::Error);
  const rec::Dataset big = knn_dataset(rec::Ease::kMaxItems + 1, {{0, 1}});
  CHECK_THROWS_WITH_AS(rec::Ease().fit(big), doctest::Contains("ease.fit: 30001 items is more than the 30000 EASE accepts"),
                       recsys::Error);
  // A saved B of the wrong shape is refused on load.
  rec::Ease ease;
  ease.fit(d);
  TempDir dir("ease_bad");
  ease.save(dir.str());
  io::save_safetensors(dir.file("model.safetensors"), {{"B", zeros({4, 5})}}, {{"model", "ease"}});
  CHECK_THROWS_WITH_AS(rec::load_recommender(dir.str()), doctest::Contains("ease.load: B is float32 [4, 5], expected float32 [5, 5]"),
                       recsys::Error);
}

TEST_CASE("rec itemknn: cosine similarities on four users match the hand-worked values, truncated to the neighbours") {
  const rec::Dataset d = four_users();
  rec::FitOptions o = rec::default_options("itemknn");
  CHECK(o.neighbours == 50);
  rec::ItemKnn knn(o);
  CHECK(knn.name() == "itemknn");
  CHECK_FALSE(knn.capabilities().trains_in_epochs);
  std::size_t grid = 1;
  for (const rec::TuningAxis& axis : knn.tuning_grid()) grid *= axis.values.size();
  CHECK(grid <= 12);
  knn.fit(d);
  // Co-raters: (0,1) 2, (0,2) 2, (0,4) 1, (1,2) 1, (1,3) 1, (2,4) 1; |U| = 3, 3, 2, 1, 1.
  const double s01 = 2.0 / 3, s02 = 2 / std::sqrt(6.0), s04 = 1 / std::sqrt(3.0), s12 = 1 / std::sqrt(6.0),
               s13 = 1 / std::sqrt(3.0), s24 = 1 / std::sqrt(2.0);
  const std::vector<std::vector<double>> full{{0, s01, s02, 0, s04},
                                              {s01, 0, s12, s13, 0},
                                              {s02, s12, 0, 0, s24},
                                              {0, s13, 0, 0, 0},
                                              {s04, 0, s24, 0, 0}};
  const data::CsrMatrix& s = knn.similarities();
  CHECK(s.nnz() == 12);  // every co-rated pair, both ways
  for (std::int64_t i = 0; i < 5; ++i)
    for (std::int64_t j = 0; j < 5; ++j) CHECK(s.at(i, j) == doctest::Approx(full[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)]).epsilon(1e-14));

  // Two neighbours each: row 0 keeps 2 (0.816) and 1 (0.667), drops 4 (0.577); row 1 keeps 0 and 3.
  o.neighbours = 2;
  knn.fit(d, o);
  const data::CsrMatrix& t = knn.similarities();
  const std::vector<std::vector<std::int64_t>> kept{{1, 2}, {0, 3}, {0, 4}, {1}, {0, 2}};
  for (std::int64_t i = 0; i < 5; ++i) {
    INFO("item ", i);
    const std::vector<std::int64_t> row(t.indices.begin() + t.indptr[static_cast<std::size_t>(i)],
                                        t.indices.begin() + t.indptr[static_cast<std::size_t>(i) + 1]);
    CHECK(row == kept[static_cast<std::size_t>(i)]);
  }
  // u2 saw 1 and 3: score(i) = S[1, i] + S[3, i] = (s01, s13, 0, s13, 0).
  const std::vector<double> sc = knn.score_all(2);
  CHECK(sc[0] == doctest::Approx(s01));
  CHECK(sc[1] == doctest::Approx(s13));
  CHECK(sc[2] == 0);
  CHECK(sc[3] == doctest::Approx(s13));
  CHECK(sc[4] == 0);
  // Unseen 0, 2, 4: 0 first, then the tie at 0 goes to the lower index.
  const auto recs = knn.recommend(2, 3);
  REQUIRE(recs.size() == 3);
  CHECK(recs[0].item == 0);
  CHECK(recs[1].item == 2);
  CHECK(recs[2].item == 4);
}

TEST_CASE("rec itemknn: shrinkage damps pairs with few co-raters, ties keep the lower index") {
  const rec::Dataset d = four_users();
  rec::FitOptions o = rec::default_options("itemknn");
  o.shrinkage = 1;
  rec::ItemKnn knn(o);
  knn.fit(d);
  const data::CsrMatrix& s = knn.similarities();
  CHECK(s.at(0, 1) == doctest::Approx(2.0 / 4));
  CHECK(s.at(0, 2) == doctest::Approx(2 / (std::sqrt(6.0) + 1)));
  CHECK(s.at(2, 4) == doctest::Approx(1 / (std::sqrt(2.0) + 1)));
  CHECK(s.at(3, 1) == doctest::Approx(1 / (std::sqrt(3.0) + 1)));

  // One user saw 0, 1 and 2: every pair has similarity 1; one neighbour each, the lowest index wins.
  const rec::Dataset ties = knn_dataset(4, {{0, 1, 2}, {3}});
  o = rec::default_options("itemknn");
  o.neighbours = 1;
  knn.fit(ties, o);
  const data::CsrMatrix& t = knn.similarities();
  CHECK(t.indices == std::vector<std::int64_t>{1, 0, 0});
  CHECK(t.indptr == std::vector<std::int64_t>{0, 1, 2, 3, 3});
  CHECK(t.data == std::vector<double>{1, 1, 1});
}

TEST_CASE("rec itemknn: batched scores are the per-user ones bit for bit, save/load, never a seen item, errors") {
  rec::ItemKnn knn(rec::default_options("itemknn"));
  knn.fit(recsys::testing::small_site());
  check_batched_scores(knn, 0);
  check_save_load(knn);
  check_never_seen(knn, 10);
  const int before = num_threads();
  set_num_threads(1);
  rec::ItemKnn one(rec::default_options("itemknn"));
  one.fit(recsys::testing::small_site());
  set_num_threads(2);
  rec::ItemKnn two(rec::default_options("itemknn"));
  two.fit(recsys::testing::small_site());
  set_num_threads(before);
  CHECK(one.similarities().indices == two.similarities().indices);
  CHECK(one.similarities().data == two.similarities().data);

  rec::FitOptions o = rec::default_options("itemknn");
  o.neighbours = 0;
  CHECK_THROWS_WITH_AS(rec::ItemKnn(o).fit(four_users()), doctest::Contains("itemknn.fit: neighbours must be positive, got 0"),
                       recsys::Error);
  o = rec::default_options("itemknn");
  o.shrinkage = -1;
  CHECK_THROWS_WITH_AS(rec::ItemKnn(o).fit(four_users()), doctest::Contains("itemknn.fit: shrinkage must be >= 0, got -1"),
                       recsys::Error);
}

TEST_CASE("rec ease, itemknn: ahead of popularity on MovieLens, each user's last item held out, full ranking") {
  const std::string dir = recsys::testing::shared_data("movielens-ml-latest-small");
  if (dir.empty()) return;
  // Leave-last-out over any interaction, ranked against every item the user has not seen in training.
  const rec::Holdout split = rec::make_holdout(rec::load_movielens(dir), {});
  double ndcg[4], hr[4];
  const char* kinds[] = {"popularity", "ease", "itemknn", "ease"};
  for (int k = 0; k < 4; ++k) {
    rec::FitOptions o = rec::default_options(kinds[k]);  // ease: λ = 500; itemknn: 50 neighbours, no shrinkage
    if (k == 3) o.recency = 0.8;                          // the user's latest items count most
    auto model = rec::make_recommender(kinds[k], o);
    model->fit(split.train);
    const rec::RankingReport r = rec::evaluate_ranking(*model, split);
    ndcg[k] = r.mean("ndcg@10");
    hr[k] = r.mean("hr@10");
  }
  MESSAGE("ml-latest-small, last item held out, full ranking: NDCG@10 popularity ", ndcg[0], ", ease ", ndcg[1],
          ", itemknn ", ndcg[2], ", ease with recency 0.8 ", ndcg[3], "; HR@10 ", hr[0], ", ", hr[1], ", ", hr[2], ", ",
          hr[3]);
  CHECK(ndcg[1] > 1.5 * ndcg[0]);
  CHECK(ndcg[2] > 1.3 * ndcg[0]);
  CHECK(ndcg[3] > 1.3 * ndcg[1]);  // measured 0.0669 against 0.0407
}

TEST_CASE("rec recency: profiles weigh the latest items most, ties ordered by the seeded key, not the file") {
  // u0 saw 0, 1, 2 at t = 1, 2, 3: weights 0.25, 0.5, 1 at decay 0.5.
  const rec::Dataset d = knn_dataset(5, {{0, 1, 2}, {3, 4}});
  const std::vector<rec::WeightedProfile> p = rec::recency_profiles(d, 0.5, 42);
  CHECK(p[0].items == std::vector<std::int64_t>{0, 1, 2});
  CHECK(p[0].weights == std::vector<float>{0.25f, 0.5f, 1.0f});
  CHECK(rec::recency_profiles(d, 1.0, 42)[1].weights == std::vector<float>{1.0f, 1.0f});
  // Equal timestamps: the order is the same whatever the file order.
  std::vector<rec::Interaction> rows = d.interactions();
  for (rec::Interaction& r : rows) r.timestamp = 7;
  const rec::Dataset tied = d.with_interactions(rows);
  std::reverse(rows.begin(), rows.end());
  const rec::Dataset reversed = d.with_interactions(rows);
  CHECK(rec::time_ordered_items(tied, 3) == rec::time_ordered_items(reversed, 3));
  CHECK_THROWS_WITH_AS(rec::recency_profiles(d, 0.0, 1), doctest::Contains("decay must be in (0, 1]"), Error);
  // EASE and itemknn score the weighted profile: Σ_j w_j row_j.
  for (const char* kind : {"ease", "itemknn"}) {
    INFO(kind);
    const rec::Dataset f = four_users();
    rec::FitOptions o = rec::default_options(kind);
    o.lambda = 1;
    auto plain = rec::make_recommender(kind, o);
    plain->fit(f);
    o.recency = 0.5;
    auto recent = rec::make_recommender(kind, o);
    recent->fit(f);
    // u0 = {0, 1, 2} in that order: scores 0.25 row0 + 0.5 row1 + row2; one-item users are unchanged.
    const std::vector<double> a = recent->score_all(0), b = plain->score_all(0);
    CHECK(a != b);
    CHECK(recent->score_all(2) != plain->score_all(2));  // u2 = {1, 3}: 0.5 row1 + row3
    TempDir dir(std::string("recency_") + kind);
    recent->save(dir.str());
    CHECK(rec::load_recommender(dir.str())->score_all(0) == a);
  }
}
