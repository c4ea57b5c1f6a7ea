// tools/serve/served_model.hpp — one loaded run as the server holds it: the model, what it must not recommend to each user, the cold-start list and the run's facts, safe to query from many threads.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "recsys/io/json.hpp"
#include "recsys/rec/recommender.hpp"

#include "../recsys/run_folder.hpp"

namespace recsys::serve {

/// What GET /v1/model reports about the run behind the answers.
struct ModelInfo {
  std::string run_dir;           ///< the folder given to `recsys serve`
  std::string run_id;            ///< the folder's name ("mf" for runs/mf)
  std::string kind;              ///< the model's kind ("mf", "ease", ...)
  std::string data_fingerprint;  ///< config.json's fingerprint of the training data
  std::string trained_at;        ///< config.json's "created"
  std::string loaded_at;         ///< when this server loaded it
  std::uint64_t version = 0;     ///< 1 for the first load, +1 for each successful reload
  json::Value metrics;           ///< metrics.json, or null when the run has none
};

/// A trained model ready to answer requests. Immutable once built, except that models whose scoring
/// touches shared state (the neural ones switch their network to eval mode and run through the op
/// dispatcher) are queried one request at a time behind a mutex; the factor, item-item, content and
/// popularity models score in plain loops over const data and run concurrently.
class ServedModel {
 public:
  /// `held_out[u]`: item indices user u must never be recommended (held out for the run's evaluation).
  ServedModel(std::unique_ptr<rec::Recommender> model, ModelInfo info,
              std::vector<std::vector<std::int64_t>> held_out = {})
      : model_(std::move(model)), info_(std::move(info)), held_out_(std::move(held_out)) {
    RECSYS_CHECK(model_ && model_->fitted(), "serve: the model is not trained");
    const rec::Dataset& d = model_->data();
    if (held_out_.empty()) held_out_.resize(static_cast<std::size_t>(d.num_users()));
    RECSYS_CHECK(held_out_.size() == static_cast<std::size_t>(d.num_users()), "serve: held-out lists for ",
                 held_out_.size(), " users, the model has ", d.num_users());
    info_.kind = model_->name();
    const std::string k = info_.kind;
    serialize_ = !(k == "mf" || k == "popularity" || k == "ease" || k == "itemknn" || k == "content");
    // The cold-start answer: items by training interactions, most first (ties: lower index).
    for (std::int64_t c : d.item_counts()) counts_.push_back(static_cast<double>(c));
    popular_.reserve(counts_.size());
    for (std::size_t i = 0; i < counts_.size(); ++i) popular_.push_back({static_cast<std::int64_t>(i), counts_[i]});
    popular_ = rec::top_n(std::move(popular_), static_cast<std::int64_t>(counts_.size()));
    supports_similar_ = d.num_items() > 0 && model_->similar_items(0, 1).has_value();
  }

  /// Loads run folder `dir` as `recsys recommend` does: verified against its manifest.json, the model
  /// saved by `recsys train`, and held_out.csv when present. Throws naming the file that is missing,
  /// damaged or not the one the manifest lists.
  static std::shared_ptr<const ServedModel> load(const std::string& dir, std::uint64_t version) {
    const cli::RunFolder run = cli::RunFolder::open(dir);
    const json::Value config = cli::read_json(run.config());
    ModelInfo info;
    info.run_dir = dir;
    info.run_id = std::filesystem::path(dir).lexically_normal().filename().string();
    if (info.run_id.empty()) info.run_id = std::filesystem::path(dir).lexically_normal().parent_path().filename().string();
    if (const json::Value* f = config.is_object() ? config.find("data_fingerprint") : nullptr; f && f->is_string())
      info.data_fingerprint = f->as_string();
    if (const json::Value* c = config.is_object() ? config.find("created") : nullptr; c && c->is_string())
      info.trained_at = c->as_string();
    if (std::filesystem::is_regular_file(run.metrics())) info.metrics = cli::read_json(run.metrics());
    info.loaded_at = cli::utc_now();
    info.version = version;
    std::unique_ptr<rec::Recommender> model = rec::load_recommender(run.model_dir().string());
    const rec::Dataset& d = model->data();
    std::vector<std::vector<std::int64_t>> held(static_cast<std::size_t>(d.num_users()));
    if (std::filesystem::is_regular_file(run.held_out())) {
      const cli::UnitTable t = cli::UnitTable::read(run.held_out(), 2);
      for (std::size_t r = 0; r < t.rows(); ++r) {
        const auto u = d.find_user(t.keys[0][r]);
        const auto i = d.find_item(t.keys[1][r]);
        if (u && i) held[static_cast<std::size_t>(*u)].push_back(*i);
      }
    }
    run.check_unchanged();  // everything read came from the one folder RunFolder::open verified
    return std::make_shared<const ServedModel>(std::move(model), std::move(info), std::move(held));
  }

  const rec::Recommender& model() const { return *model_; }
  const rec::Dataset& data() const { return model_->data(); }
  const ModelInfo& info() const { return info_; }
  bool supports_similar() const { return supports_similar_; }
  /// Every item by training popularity, most first: what an unknown user gets.
  const std::vector<rec::ScoredItem>& popular() const { return popular_; }
  /// Item i's training interactions (its cold-start score).
  double popularity(std::int64_t i) const { return counts_[static_cast<std::size_t>(i)]; }

  /// Items user u has already rated in training, then the ones held out for evaluation.
  void mark_seen(std::int64_t u, std::span<std::uint8_t> flags) const {
    for (std::int64_t i : model_->seen(u)) flags[static_cast<std::size_t>(i)] = 1;
    for (std::int64_t i : held_out_[static_cast<std::size_t>(u)]) flags[static_cast<std::size_t>(i)] = 1;
  }

  /// Every item's score for user u.
  std::vector<double> score_all(std::int64_t u) const {
    const auto guard = lock();
    return model_->score_all(u);
  }
  /// The scores of `items` for user u.
  std::vector<double> score(std::int64_t u, std::span<const std::int64_t> items) const {
    const auto guard = lock();
    return model_->score(u, items);
  }
  /// The n items most like item i (nullopt: the model has no item vectors).
  std::optional<std::vector<rec::ScoredItem>> similar(std::int64_t i, std::int64_t n) const {
    const auto guard = lock();
    return model_->similar_items(i, n);
  }

 private:
  std::unique_lock<std::mutex> lock() const {
    return serialize_ ? std::unique_lock<std::mutex>(mutex_) : std::unique_lock<std::mutex>();
  }

  std::unique_ptr<rec::Recommender> model_;
  ModelInfo info_;
  std::vector<std::vector<std::int64_t>> held_out_;
  std::vector<double> counts_;
  std::vector<rec::ScoredItem> popular_;
  bool serialize_ = true;
  bool supports_similar_ = false;
  mutable std::mutex mutex_;
};

}  // namespace recsys::serve
