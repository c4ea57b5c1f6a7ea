// tests/rec/next_item_test.cpp — the next-item models (nextitem: the CNN-LSTM; sasrec: the Transformer): the windows they train on, that it learns an order a popularity list cannot, save/load, batched scores, and the same weights on 1 and 2 threads.
#include "rec/rec_test_util.hpp"

#include <recsys/rec/evaluation.hpp>

using namespace recsys;

namespace {

/// Users walk a cycle of `items` items from a random start, one step per timestamp: the next item is
/// always the current one plus 1, which only a model of order can know (every item is equally popular).
rec::Dataset cycle_walks(std::int64_t users, std::int64_t items, std::int64_t steps, std::uint64_t seed) {
  std::vector<rec::Item> catalogue(static_cast<std::size_t>(items));
  for (std::int64_t i = 0; i < items; ++i) {
    catalogue[static_cast<std::size_t>(i)].id = "c" + std::to_string(i);
    catalogue[static_cast<std::size_t>(i)].genres = {i % 2 ? "Odd" : "Even"};
  }
  std::vector<std::string> ids;
  std::vector<rec::Interaction> rows;
  Generator gen(seed);
  for (std::int64_t u = 0; u < users; ++u) {
    ids.push_back("walker" + std::to_string(u));
    const auto start = static_cast<std::int64_t>(gen.below(static_cast<std::uint64_t>(items)));
    for (std::int64_t t = 0; t < steps; ++t) rows.push_back({u, (start + t) % items, 4.0, 1000 + t, ""});
  }
  return rec::Dataset(ids, std::move(catalogue), std::move(rows));
}

rec::FitOptions small_next(const std::string& kind = "nextitem") {
  rec::FitOptions o = rec::default_options(kind);
  o.blocks = 1;
  o.epochs = 30;
  o.batch_size = 16;
  o.embedding_dim = o.filters = 16;
  o.lstm_units = 32;
  o.history = 8;
  o.item_tokens = 2;
  o.lr = 0.01;
  o.dropout = 0;
  o.verbose = 0;
  o.threads = 2;
  return o;
}

}  // namespace

TEST_CASE("rec nextitem, sasrec: learn an order that popularity cannot see, and keep their scores through save/load") {
 for (const std::string kind : {"nextitem", "sasrec"}) {
  INFO(kind);
  const rec::Dataset walks = cycle_walks(40, 12, 10, 3);
  const rec::Holdout split = rec::make_holdout(walks, {});
  auto model = rec::make_recommender(kind, small_next(kind));
  const History h = model->fit(split.train);
  CHECK(h["loss"].back() < 0.5 * h["loss"].front());
  const rec::RankingReport r = rec::evaluate_ranking(*model, split, {.ks = {1, 10}});
  rec::Popularity pop;
  pop.fit(split.train);
  const rec::RankingReport p = rec::evaluate_ranking(pop, split, {.ks = {1, 10}});
  MESSAGE("cycle walks HR@1: ", kind, " ", r.mean("hr@1"), ", popularity ", p.mean("hr@1"), " (chance ", r.chance_hit[0], ")");
  CHECK(r.mean("hr@1") > 0.8);
  CHECK(p.mean("hr@1") < 0.3);
  // Its input for user 0 is the walk so far, in time order.
  const auto& recent = dynamic_cast<const rec::SequentialRecommender&>(*model).recent(0);
  REQUIRE(recent.size() == 8);
  for (std::size_t t = 1; t < recent.size(); ++t) CHECK(recent[t] == (recent[t - 1] + 1) % 12);

  // Batched scores equal one user at a time; save/load gives the same scores.
  std::vector<std::int64_t> users{0, 5, 7};
  std::vector<double> block(users.size() * 12);
  model->score_users(users, block);
  for (std::size_t n = 0; n < users.size(); ++n) {
    const std::vector<double> one = model->score_all(users[n]);
    for (std::size_t i = 0; i < 12; ++i) CHECK(block[n * 12 + i] == one[i]);
  }
  recsys::testing::TempDir dir(kind);
  model->save(dir.str());
  const auto back = rec::load_recommender(dir.str());
  CHECK(back->name() == kind);
  CHECK(back->score_all(5) == model->score_all(5));
  CHECK(back->recommend(std::int64_t{5}, 3) == model->recommend(std::int64_t{5}, 3));
 }
}

TEST_CASE("rec nextitem, sasrec: bitwise the same on 1 and 2 threads, and clear errors") {
  const rec::Dataset walks = cycle_walks(12, 9, 6, 5);
  for (const std::string kind : {"nextitem", "sasrec"}) {
    INFO(kind);
    rec::FitOptions o = small_next(kind);
    o.epochs = 2;
    o.dropout = 0.1;  // the masks too must not depend on the thread count
    o.threads = 1;
    auto one = rec::make_recommender(kind, o);
    one->fit(walks);
    o.threads = 2;
    auto two = rec::make_recommender(kind, o);
    two->fit(walks);
    CHECK(one->score_all(3) == two->score_all(3));
  }
  rec::FitOptions o = small_next();
  o.heads = 3;
  CHECK_THROWS_WITH_AS(rec::make_recommender("sasrec", o)->fit(walks), doctest::Contains("heads >= 1 dividing embedding_dim"),
                       Error);
  o.heads = 2;
  o.dropout = 1.0;
  CHECK_THROWS_WITH_AS(rec::make_recommender("nextitem", o)->fit(walks), doctest::Contains("dropout must be in [0, 1)"),
                       Error);
  o = small_next();
  o.history = 0;
  CHECK_THROWS_WITH_AS(rec::make_recommender("nextitem", o)->fit(walks), doctest::Contains("history (the window length)"),
                       Error);
}
