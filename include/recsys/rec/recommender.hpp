// recsys/rec/recommender.hpp — the recommenders in one include: the Recommender interface, every model, make_recommender / load_recommender and each model's default options.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "recsys/rec/interface.hpp"
#include "recsys/rec/content_based.hpp"
#include "recsys/rec/ease.hpp"
#include "recsys/rec/item_knn.hpp"
#include "recsys/rec/matrix_factorization.hpp"
#include "recsys/rec/next_item.hpp"
#include "recsys/rec/popularity.hpp"
#include "recsys/rec/review_classifier.hpp"
#include "recsys/rec/review_linear.hpp"
#include "recsys/rec/sasrec.hpp"
#include "recsys/rec/sequence_ranker.hpp"

namespace recsys::rec {

/// The kinds make_recommender accepts.
inline const std::vector<std::string>& recommender_kinds() {
  static const std::vector<std::string> kinds{"review", "sequence", "mf", "content", "popularity", "ease", "itemknn", "nextitem", "sasrec", "review-linear"};
  return kinds;
}

namespace detail {
inline std::string kinds_list() {
  std::string s;
  for (const std::string& k : recommender_kinds()) s += (s.empty() ? "" : ", ") + k;
  return s;
}
}  // namespace detail

/// The options a kind trains with by default: the seed's for the neural models (10 epochs, batch
/// 32, Adam at 1e-3, 128-wide layers; the sequence ranker with a 5000-token vocabulary and no
/// pooling), and for mf 20 epochs of batch 1024, Adam at 0.01, L2 0.1, 32 factors (MovieLens 80/20).
inline FitOptions default_options(const std::string& kind) {
  FitOptions o;
  if (kind == "review" || kind == "content" || kind == "popularity") return o;
  if (kind == "review-linear") {
    o.epochs = 300;          // full-batch steps: enough to reach the convex optimum (tests check it)
    o.lr = 0.1;              // Adam on TF-IDF features, annealed to 0
    o.l2 = 1e-3;             // sklearn's C = 1 at a thousand reviews
    o.vocab_size = 200000;   // n-grams kept (most frequent first): all of any review set we ship
    return o;
  }
  if (kind == "sequence") {
    o.vocab_size = 5000;  // ids for the few thousand most-rated items, not only the top thousand
    o.pool_size = 1;      // one item per step: see SequenceRanker
    return o;
  }
  if (kind == "nextitem") {
    o.epochs = 20;
    o.batch_size = 64;            // windows of `history` items: about 3,000 targets per step
    o.embedding_dim = o.filters = 64;
    o.lstm_units = 128;
    o.history = 50;               // the window length, as SASRec's max length
    o.item_tokens = 4;            // id and the first genres
    o.vocab_size = 30000;         // an id for every item of a MovieLens-sized catalogue
    return o;
  }
  if (kind == "sasrec") {
    o.epochs = 30;
    o.batch_size = 128;
    o.embedding_dim = 64;  // hidden 64, 2 blocks, 2 heads, max length 50: the paper's MovieLens sizes
    o.history = 50;
    o.dropout = 0.2;
    return o;
  }
  if (kind == "ease") {
    o.lambda = 500;
    return o;
  }
  if (kind == "itemknn") {
    o.neighbours = 50;
    o.shrinkage = 0;
    return o;
  }
  if (kind == "mf") {
    o.epochs = 20;
    o.batch_size = 1024;
    o.lr = 0.01;
    o.l2 = 0.1;
    return o;
  }
  RECSYS_FAIL("default_options: unknown model '", kind, "' (expected one of ", detail::kinds_list(), ")");
}

/// A new, untrained recommender of `kind`.
inline std::unique_ptr<Recommender> make_recommender(const std::string& kind, const FitOptions& options) {
  if (kind == "popularity") return std::make_unique<Popularity>(options);
  if (kind == "mf") return std::make_unique<MatrixFactorization>(options);
  if (kind == "content") return std::make_unique<ContentBased>(options);
  if (kind == "sequence") return std::make_unique<SequenceRanker>(options);
  if (kind == "review") return std::make_unique<ReviewClassifier>(options);
  if (kind == "review-linear") return std::make_unique<ReviewLinear>(options);
  if (kind == "ease") return std::make_unique<Ease>(options);
  if (kind == "itemknn") return std::make_unique<ItemKnn>(options);
  if (kind == "nextitem") return std::make_unique<NextItemRanker>(options);
  if (kind == "sasrec") return std::make_unique<SasRec>(options);
  RECSYS_FAIL("make_recommender: unknown model '", kind, "' (expected one of ", detail::kinds_list(), ")");
}
/// make_recommender with default_options(kind).
inline std::unique_ptr<Recommender> make_recommender(const std::string& kind) {
  return make_recommender(kind, default_options(kind));
}

/// The model saved in `dir` by Recommender::save, ready to score and recommend.
inline std::unique_ptr<Recommender> load_recommender(const std::string& dir) {
  const json::Value v = Recommender::read_model_json(dir);
  std::unique_ptr<Recommender> model = make_recommender(v.at("model").as_string(), FitOptions{});
  model->load(dir);
  return model;
}

}  // namespace recsys::rec
