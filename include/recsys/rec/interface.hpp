// recsys/rec/interface.hpp — the Recommender base class every model implements (fit, score, recommend, save/load), its FitOptions, and top-N selection by partial sort.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "recsys/autograd/grad_mode.hpp"
#include "recsys/core/error.hpp"
#include "recsys/core/finite.hpp"
#include "recsys/core/parallel.hpp"
#include "recsys/io/atomic_file.hpp"
#include "recsys/io/json.hpp"
#include "recsys/io/safetensors.hpp"
#include "recsys/rec/dataset.hpp"
#include "recsys/train/history.hpp"

namespace recsys::rec {

/// Training settings and model sizes. One struct for every model: each reads the fields it needs
/// (listed per field) and ignores the rest. default_options(kind) gives each model's defaults.
struct FitOptions {
  int epochs = 10;
  std::int64_t batch_size = 32;
  double lr = 1e-3;
  std::string optimizer = "adam";  ///< "adam" or "sgd" (the neural models and mf)
  std::uint64_t seed = 42;         ///< initial weights, shuffles and sampled negatives
  int threads = 0;                 ///< OpenMP threads while fitting (0: leave the current setting)
  int verbose = 0;                 ///< 0 silent, 1 a progress bar per epoch, 2 one line per epoch
  std::FILE* out = stdout;         ///< where progress goes (not saved)
  double validation_split = 0;     ///< review, sequence: the last fraction of the samples, reported as val_* per epoch

  // The reference network (review, sequence): Embedding → Conv1D(relu) → MaxPool1D → LSTM → Dense(sigmoid).
  std::int64_t vocab_size = 1000;  ///< review: word ids including padding; sequence: feature-token ids including padding and "rare"
  std::int64_t max_length = 100;   ///< review: tokens per review (longer ones keep their end, as Keras pads 'pre')
  std::int64_t embedding_dim = 128, filters = 128, lstm_units = 128;
  std::int64_t kernel_size = 3;    ///< review (the sequence ranker's convolution spans one item: item_tokens)
  std::int64_t pool_size = 2;

  // sequence
  std::int64_t history = 8;      ///< the user's most recent liked items in the input
  std::int64_t item_tokens = 12; ///< feature tokens per item (id, genres, director, actors, title words)
  std::int64_t negatives = 4;    ///< sequence, mf with bpr: sampled unseen items per training interaction

  // mf
  std::int64_t factors = 32;
  double l2 = 0.05;          ///< L2 penalty on the factors and biases of each batch's users and items
  std::string loss = "mse";  ///< "mse" (predict ratings) or "bpr" (rank liked items above sampled unseen ones)

  double dropout = 0.2;  ///< nextitem, sasrec: dropout rate while training (item vectors, states, attention)
  std::int64_t blocks = 2;  ///< sasrec: Transformer blocks
  std::int64_t heads = 2;   ///< sasrec: attention heads per block (embedding_dim must divide by it)

  // ease, itemknn
  double lambda = 500;           ///< ease: the L2 weight λ on the item-item weights (Steck 2019)
  std::int64_t neighbours = 50;  ///< itemknn: most similar items kept per item
  double shrinkage = 0;          ///< itemknn: added to the cosine's denominator (damps pairs with few co-raters)
  /// ease, itemknn: a seen item weighs recency^(how many of the user's interactions came after it)
  /// in the user's profile when scoring; 1 = every seen item alike (the classic models).
  double recency = 1;

  /// Every saved field as JSON (model.json's "options").
  json::Value to_json() const {
    json::Value v = json::Value::object();
    v["epochs"] = epochs;
    v["batch_size"] = batch_size;
    v["lr"] = lr;
    v["optimizer"] = optimizer;
    v["seed"] = seed;
    v["threads"] = threads;
    v["verbose"] = verbose;
    v["validation_split"] = validation_split;
    v["vocab_size"] = vocab_size;
    v["max_length"] = max_length;
    v["embedding_dim"] = embedding_dim;
    v["filters"] = filters;
    v["kernel_size"] = kernel_size;
    v["pool_size"] = pool_size;
    v["lstm_units"] = lstm_units;
    v["history"] = history;
    v["item_tokens"] = item_tokens;
    v["negatives"] = negatives;
    v["factors"] = factors;
    v["l2"] = l2;
    v["loss"] = loss;
    v["dropout"] = dropout;
    v["blocks"] = blocks;
    v["heads"] = heads;
    v["lambda"] = lambda;
    v["neighbours"] = neighbours;
    v["shrinkage"] = shrinkage;
    v["recency"] = recency;
    return v;
  }
  /// Reads the fields present in `v` over the defaults.
  static FitOptions from_json(const json::Value& v) { return from_json(v, FitOptions()); }
  /// Reads the fields present in `v` over the values in `o`.
  static FitOptions from_json(const json::Value& v, FitOptions o) {
    RECSYS_CHECK(v.is_object(), "FitOptions: expected a JSON object, got ", json::type_name(v.type()));
    const auto num = [&](const char* key, auto& field) {
      if (const json::Value* x = v.find(key)) {
        if constexpr (std::is_floating_point_v<std::remove_reference_t<decltype(field)>>) field = x->as_double();
        else if constexpr (std::is_unsigned_v<std::remove_reference_t<decltype(field)>>) field = x->as_uint64();
        else field = static_cast<std::remove_reference_t<decltype(field)>>(x->as_int64());
      }
    };
    const auto str = [&](const char* key, std::string& field) {
      if (const json::Value* x = v.find(key)) field = x->as_string();
    };
    num("epochs", o.epochs);
    num("batch_size", o.batch_size);
    num("lr", o.lr);
    str("optimizer", o.optimizer);
    num("seed", o.seed);
    num("threads", o.threads);
    num("verbose", o.verbose);
    num("validation_split", o.validation_split);
    num("vocab_size", o.vocab_size);
    num("max_length", o.max_length);
    num("embedding_dim", o.embedding_dim);
    num("filters", o.filters);
    num("kernel_size", o.kernel_size);
    num("pool_size", o.pool_size);
    num("lstm_units", o.lstm_units);
    num("history", o.history);
    num("item_tokens", o.item_tokens);
    num("negatives", o.negatives);
    num("factors", o.factors);
    num("l2", o.l2);
    str("loss", o.loss);
    num("dropout", o.dropout);
    num("blocks", o.blocks);
    num("heads", o.heads);
    num("lambda", o.lambda);
    num("neighbours", o.neighbours);
    num("shrinkage", o.shrinkage);
    num("recency", o.recency);
    return o;
  }
};

/// What a model's scores mean, so protocols and the CLI ask the model instead of testing its name.
struct Capabilities {
  bool predicts_ratings = false;  ///< scores are ratings on the data's scale: RMSE and MAE apply
  bool ranks_items = true;        ///< scores order one user's items: the ranking protocols apply
  bool needs_reviews = false;     ///< learns from review text, so the data must have some
  bool trains_in_epochs = true;   ///< false for closed-form and counting models (no curve, no epochs)
};

/// One hyperparameter a tuning search varies: a FitOptions field (its JSON key) and the values tried.
struct TuningAxis {
  std::string option;               ///< FitOptions key, as in to_json(): "l2", "factors", "lambda", ...
  std::vector<json::Value> values;  ///< tried in this order
};

/// One recommended item: its dense index and the model's score.
struct ScoredItem {
  std::int64_t item = 0;
  double score = 0;
  friend bool operator==(const ScoredItem&, const ScoredItem&) = default;
};

namespace detail {

/// Best first: higher score, then lower item index, so equal scores always come out in the same
/// order. NaN ranks below every number (a NaN score must not break the sort's ordering).
inline bool better(const ScoredItem& a, const ScoredItem& b) {
  const double x = std::isnan(a.score) ? -std::numeric_limits<double>::infinity() : a.score;
  const double y = std::isnan(b.score) ? -std::numeric_limits<double>::infinity() : b.score;
  if (x != y) return x > y;
  return a.item < b.item;
}

}  // namespace detail

/// The n best of `candidates`, best first (ties: lower item index first), by a partial sort:
/// O(m log n) for m candidates, which matters when ranking a catalogue for a handful of slots.
inline std::vector<ScoredItem> top_n(std::vector<ScoredItem> candidates, std::int64_t n) {
  RECSYS_CHECK(n >= 0, "top_n: n must be non-negative, got ", n);
  const auto k = std::min(static_cast<std::size_t>(n), candidates.size());
  std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(k), candidates.end(),
                    detail::better);
  candidates.resize(k);
  return candidates;
}

/// The n best items of a whole catalogue: scores[i] is item i's; items with exclude[i] != 0 are
/// skipped (exclude may be empty for none).
inline std::vector<ScoredItem> top_n(std::span<const double> scores, std::int64_t n,
                                     std::span<const std::uint8_t> exclude = {}) {
  RECSYS_CHECK(exclude.empty() || exclude.size() == scores.size(), "top_n: ", scores.size(), " scores but ",
               exclude.size(), " exclusion flags");
  std::vector<ScoredItem> candidates;
  candidates.reserve(scores.size());
  for (std::size_t i = 0; i < scores.size(); ++i)
    if (exclude.empty() || !exclude[i]) candidates.push_back({static_cast<std::int64_t>(i), scores[i]});
  return top_n(std::move(candidates), n);
}

namespace detail {

/// Sets the OpenMP thread count for a scope (0: leave it) and restores it after.
class ThreadScope {
 public:
  explicit ThreadScope(int threads) : previous_(num_threads()), changed_(threads > 0) {
    if (changed_) set_num_threads(threads);
  }
  ~ThreadScope() {
    if (changed_) set_num_threads(previous_);
  }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int previous_;
  bool changed_;
};

}  // namespace detail

/// A model that scores items for users. Subclasses implement fit_model, score_items and the
/// save/restore hooks; this class does the argument checks, the bookkeeping of what each user has
/// seen, top-N selection and the files. Indices are the training Dataset's (data().user_index("42")
/// turns an original id into one). Scores are comparable within one user's list; what they mean
/// depends on the model (a probability, a predicted rating, a count). Not thread-safe.
///
///   auto model = rec::make_recommender("mf");
///   model->fit(train);
///   for (const rec::ScoredItem& s : model->recommend(model->data().user_index("42"), 10))
///     std::printf("%s %.3f\n", model->data().item(s.item).title.c_str(), s.score);
///   model->save("runs/mf");  // and later: auto same = rec::load_recommender("runs/mf");
class Recommender {
 public:
  explicit Recommender(FitOptions options) : options_(std::move(options)) {}
  virtual ~Recommender() = default;
  Recommender(const Recommender&) = delete;
  Recommender& operator=(const Recommender&) = delete;

  /// The model's kind, as make_recommender takes it: "review", "sequence", "mf", "content", "popularity".
  virtual std::string name() const = 0;
  /// What the scores mean (given the options the model holds).
  virtual Capabilities capabilities() const { return {}; }
  /// The grid `recsys train --tune` searches for this model (empty: nothing to tune). Each model
  /// owns its grid; the product of the axes' sizes is the tuning budget, and peers get the same.
  virtual std::vector<TuningAxis> tuning_grid() const { return {}; }

  /// Trains on `train` with the options given at construction.
  History fit(const Dataset& train) { return fit(train, options_); }
  /// Trains on `train` (replacing any earlier training) and keeps `options` as the model's options.
  /// Returns the per-epoch history (empty for models that do not train in epochs).
  History fit(const Dataset& train, const FitOptions& options) {
    check_options(options);
    RECSYS_CHECK(!train.empty(), name(), ".fit: the training data has no interactions");
    RECSYS_CHECK(train.num_items() > 0 && train.num_users() > 0, name(), ".fit: the training data has no users or items");
    detail::ThreadScope threads(options.threads);
    fitted_ = false;
    options_ = options;
    set_data(train);
    History h = fit_model(data_, options_);
    fitted_ = true;
    return h;
  }

  bool fitted() const { return fitted_; }
  const FitOptions& options() const { return options_; }
  /// The data the model was trained on: the catalogue, and what each user has already seen.
  const Dataset& data() const {
    require_fitted("data");
    return data_;
  }
  /// Items user u interacted with in the training data, ascending.
  const std::vector<std::int64_t>& seen(std::int64_t u) const {
    require_fitted("seen");
    data_.check_user(u, (name() + ".seen").c_str());
    return seen_[static_cast<std::size_t>(u)];
  }

  /// The model's score of each of `items` for user u (higher is better).
  std::vector<double> score(std::int64_t user, std::span<const std::int64_t> items) const {
    require_fitted("score");
    const std::string op = name() + ".score";
    data_.check_user(user, op.c_str());
    for (std::int64_t i : items) data_.check_item(i, op.c_str());
    std::vector<double> out(items.size());
    if (!items.empty()) score_items(user, items, out);
    return out;
  }
  /// Scores of every item of the catalogue for user u.
  std::vector<double> score_all(std::int64_t user) const {
    require_fitted("score_all");
    std::vector<std::int64_t> all(static_cast<std::size_t>(data_.num_items()));
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::int64_t>(i);
    return score(user, all);
  }

  /// Every item's score for each of `users` at once: out[n * num_items + i] is item i's score for
  /// users[n] (`out` holds users.size() × num_items values). Factor models compute a block as one
  /// GEMM, so full-ranking evaluation and serving go through here, a block of users at a time.
  void score_users(std::span<const std::int64_t> users, std::span<double> out) const {
    require_fitted("score_users");
    const std::string op = name() + ".score_users";
    for (std::int64_t u : users) data_.check_user(u, op.c_str());
    RECSYS_CHECK(out.size() == users.size() * static_cast<std::size_t>(data_.num_items()), op, ": ", users.size(),
                 " users × ", data_.num_items(), " items need ", users.size() * static_cast<std::size_t>(data_.num_items()),
                 " scores, got room for ", out.size());
    if (!users.empty()) score_block(users, out);
  }

  /// The n best items for user u, best first; with exclude_seen, never an item u has already rated.
  std::vector<ScoredItem> recommend(std::int64_t user, std::int64_t n = 10, bool exclude_seen = true) const {
    require_fitted("recommend");
    RECSYS_CHECK(n >= 0, name(), ".recommend: n must be non-negative, got ", n);
    const std::vector<double> s = score_all(user);
    std::vector<std::uint8_t> exclude;
    if (exclude_seen) {
      exclude.assign(s.size(), 0);
      for (std::int64_t i : seen_[static_cast<std::size_t>(user)]) exclude[static_cast<std::size_t>(i)] = 1;
    }
    return top_n(s, n, exclude);
  }
  /// recommend() by the user's original id (throws naming an unknown id).
  std::vector<ScoredItem> recommend(const std::string& user_id, std::int64_t n = 10, bool exclude_seen = true) const {
    require_fitted("recommend");
    return recommend(data_.user_index(user_id), n, exclude_seen);
  }
  /// recommend() for many users at once: one list per user, in the order given.
  std::vector<std::vector<ScoredItem>> recommend(std::span<const std::int64_t> users, std::int64_t n = 10,
                                                 bool exclude_seen = true) const {
    std::vector<std::vector<ScoredItem>> out;
    out.reserve(users.size());
    for (std::int64_t u : users) out.push_back(recommend(u, n, exclude_seen));
    return out;
  }

  /// The n items most like item i by the model's own item representation (best first, i itself
  /// left out), or nullopt when the model has none: the default, so callers ask instead of testing
  /// the model's name (serving's /v1/similar).
  std::optional<std::vector<ScoredItem>> similar_items(std::int64_t item, std::int64_t n = 10) const {
    require_fitted("similar_items");
    data_.check_item(item, (name() + ".similar_items").c_str());
    RECSYS_CHECK(n >= 0, name(), ".similar_items: n must be non-negative, got ", n);
    std::vector<double> sim(static_cast<std::size_t>(data_.num_items()), 0.0);
    if (!item_similarities(item, sim)) return std::nullopt;
    std::vector<ScoredItem> candidates;
    for (std::size_t j = 0; j < sim.size(); ++j)
      if (static_cast<std::int64_t>(j) != item && !std::isnan(sim[j]) && sim[j] != -std::numeric_limits<double>::infinity())
        candidates.push_back({static_cast<std::int64_t>(j), sim[j]});
    return top_n(std::move(candidates), n);
  }

  /// One score per interaction of `rows` (a split of the training data's catalogue): what the model
  /// predicts for that (user, item) — or, for the review classifier, for that review.
  std::vector<double> predict(const Dataset& rows) const {
    require_fitted("predict");
    RECSYS_CHECK(rows.num_users() == data_.num_users() && rows.num_items() == data_.num_items(), name(),
                 ".predict: the rows index ", rows.num_users(), " users and ", rows.num_items(),
                 " items, the model's catalogue ", data_.num_users(), " and ", data_.num_items(),
                 " (predict on a split of the same data set)");
    return predict_rows(rows);
  }
  /// Scores above this mean "liked" (0.5 for a probability); none for models whose scores are not
  /// like predictions (popularity counts, cosine similarities).
  virtual std::optional<double> decision_threshold() const { return std::nullopt; }

  /// Writes the model to `dir` (created if needed): model.json (kind, options, small state),
  /// model.safetensors (weights) and the training data's catalogue and interactions (users.csv,
  /// items.csv, interactions.csv, dataset.json), so another process can load_recommender(dir).
  void save(const std::string& dir) const {
    require_fitted("save");
    namespace fs = std::filesystem;
    const NamedTensors tensors = state_tensors();
    // Before anything is written: a model of NaNs must never replace a working one.
    check_finite_tensors(tensors, name() + ".save: not saving '" + dir + "'");
    fs::create_directories(dir);
    data_.save(dir, false);
    io::save_safetensors((fs::path(dir) / "model.safetensors").string(), tensors, {{"model", name()}});
    json::Value v = json::Value::object();
    v["format"] = "recsys-recommender";
    v["version"] = 1;
    v["model"] = name();
    v["options"] = options_.to_json();
    v["state"] = state_json();
    io::write_file_atomic((fs::path(dir) / "model.json").string(), json::dump(v, 2) + "\n");
  }

  /// Reads a folder written by save() into this model (whose kind must match). Used by load_recommender.
  void load(const std::string& dir) {
    namespace fs = std::filesystem;
    const json::Value v = read_model_json(dir);
    const std::string kind = v.at("model").as_string();
    RECSYS_CHECK(kind == name(), name(), ".load: '", dir, "' holds a '", kind, "' model");
    FitOptions options;
    try {
      options = FitOptions::from_json(v.at("options"));
    } catch (const Error& e) {
      RECSYS_FAIL(name(), ".load: '", (fs::path(dir) / "model.json").string(), "': bad options: ", e.what());
    }
    Dataset data = load_dataset(dir);
    const std::string weights = (fs::path(dir) / "model.safetensors").string();
    RECSYS_CHECK(fs::is_regular_file(weights), name(), ".load: no file '", weights, "'");
    const NamedTensors tensors = io::load_safetensors(weights);
    check_finite_tensors(tensors, name() + ".load: '" + weights + "'");
    fitted_ = false;
    options_ = options;
    set_data(std::move(data));
    restore(data_, options_, v.contains("state") ? v.at("state") : json::Value(), tensors);
    fitted_ = true;
  }

  /// model.json of a saved folder, checked to be one (used by load and load_recommender).
  static json::Value read_model_json(const std::string& dir) {
    namespace fs = std::filesystem;
    RECSYS_CHECK(fs::is_directory(dir), "load_recommender: no folder '", dir, "'");
    const std::string path = (fs::path(dir) / "model.json").string();
    RECSYS_CHECK(fs::is_regular_file(path), "load_recommender: no file '", path, "' (not a saved model folder)");
    json::Value v;
    try {
      v = json::parse(detail::read_text_file(path, "load_recommender"));
    } catch (const Error& e) {
      RECSYS_FAIL("load_recommender: '", path, "': ", e.what());
    }
    RECSYS_CHECK(v.is_object() && v.contains("format") && v.at("format").is_string() &&
                     v.at("format").as_string() == "recsys-recommender" && v.contains("model") &&
                     v.at("model").is_string(),
                 "load_recommender: '", path, "' is not a recsys model file (no \"format\": \"recsys-recommender\")");
    return v;
  }

 protected:
  /// Learns from `train` (already stored as data(); seen() is ready).
  virtual History fit_model(const Dataset& train, const FitOptions& options) = 0;
  /// out[k] = score of items[k] for user (indices already checked, items non-empty).
  virtual void score_items(std::int64_t user, std::span<const std::int64_t> items, std::span<double> out) const = 0;
  /// score_users' work (arguments checked). The default calls score_items once per user with the
  /// whole catalogue; models with a faster batched form override it.
  virtual void score_block(std::span<const std::int64_t> users, std::span<double> out) const {
    const auto n_items = static_cast<std::size_t>(data_.num_items());
    std::vector<std::int64_t> all(n_items);
    for (std::size_t i = 0; i < n_items; ++i) all[i] = static_cast<std::int64_t>(i);
    for (std::size_t n = 0; n < users.size(); ++n) score_items(users[n], all, out.subspan(n * n_items, n_items));
  }
  /// similar_items' work: out[j] = how alike items i and j are (-infinity: not comparable), or false
  /// when the model has no item vectors (the default; out is then ignored).
  virtual bool item_similarities(std::int64_t /*item*/, std::span<double> /*out*/) const { return false; }
  /// One score per row; the default scores each (user, item) pair, one score_items call per user.
  virtual std::vector<double> predict_rows(const Dataset& rows) const {
    std::vector<std::vector<std::int64_t>> by_user(static_cast<std::size_t>(rows.num_users()));
    for (std::int64_t r = 0; r < rows.size(); ++r) by_user[static_cast<std::size_t>(rows[r].user)].push_back(r);
    std::vector<double> out(static_cast<std::size_t>(rows.size()));
    std::vector<std::int64_t> items;
    std::vector<double> scores;
    for (std::size_t u = 0; u < by_user.size(); ++u) {
      if (by_user[u].empty()) continue;
      items.clear();
      for (std::int64_t r : by_user[u]) items.push_back(rows[r].item);
      scores.assign(items.size(), 0.0);
      score_items(static_cast<std::int64_t>(u), items, scores);
      for (std::size_t k = 0; k < items.size(); ++k) out[static_cast<std::size_t>(by_user[u][k])] = scores[k];
    }
    return out;
  }
  /// The learned tensors for model.safetensors (may be empty).
  virtual NamedTensors state_tensors() const = 0;
  /// Small non-tensor state for model.json (vocabularies, sizes); null when none.
  virtual json::Value state_json() const { return {}; }
  /// Rebuilds the model from saved state; `train` is data() as loaded.
  virtual void restore(const Dataset& train, const FitOptions& options, const json::Value& state,
                       const NamedTensors& tensors) = 0;

  /// The tensor named `key` among `tensors`; throws naming the model when absent.
  Tensor find_tensor(const NamedTensors& tensors, const std::string& key) const {
    for (const auto& [k, t] : tensors)
      if (k == key) return t;
    RECSYS_FAIL(name(), ".load: model.safetensors has no tensor '", key, "'");
  }

  /// Copies saved tensors into `destination` (a network's named parameters), matched by name, after
  /// checking every name, dtype and shape: all or nothing. Extra saved tensors are ignored.
  void load_parameters(const NamedTensors& destination, const NamedTensors& saved) const {
    std::vector<Tensor> sources;
    for (const auto& [key, dst] : destination) {
      const Tensor src = find_tensor(saved, key);
      RECSYS_CHECK(src.dtype() == dst.dtype() && src.shape() == dst.shape(), name(), ".load: tensor '", key, "' is ",
                   src.dtype(), " ", src.shape(), ", the model needs ", dst.dtype(), " ", dst.shape(),
                   " (were the options changed?)");
      sources.push_back(src);
    }
    NoGradGuard no_grad;
    for (std::size_t n = 0; n < destination.size(); ++n) destination[n].second.copy_(sources[n]);
  }

  /// seen(u) while fitting (seen() itself insists on a trained model).
  const std::vector<std::int64_t>& seen_unchecked(std::int64_t u) const { return seen_[static_cast<std::size_t>(u)]; }

  void require_fitted(const char* what) const {
    RECSYS_CHECK(fitted_, name(), ".", what, ": the model is not trained; call fit() or load_recommender() first");
  }

 private:
  void check_options(const FitOptions& o) const {
    const std::string n = name() + ".fit";
    RECSYS_CHECK(o.epochs > 0, n, ": epochs must be positive, got ", o.epochs);
    RECSYS_CHECK(o.batch_size > 0, n, ": batch_size must be positive, got ", o.batch_size);
    RECSYS_CHECK(o.lr > 0 && std::isfinite(o.lr), n, ": lr must be positive, got ", o.lr);
    RECSYS_CHECK(o.optimizer == "adam" || o.optimizer == "sgd", n, ": optimizer must be 'adam' or 'sgd', got '",
                 o.optimizer, "'");
    RECSYS_CHECK(o.threads >= 0, n, ": threads must be >= 0 (0 keeps the current count), got ", o.threads);
    RECSYS_CHECK(o.validation_split >= 0 && o.validation_split < 1, n, ": validation_split must be in [0, 1), got ",
                 o.validation_split);
  }

  void set_data(Dataset data) {
    data_ = std::move(data);
    seen_ = data_.seen_items();
  }

  FitOptions options_;
  Dataset data_;
  std::vector<std::vector<std::int64_t>> seen_;
  bool fitted_ = false;
};

}  // namespace recsys::rec
