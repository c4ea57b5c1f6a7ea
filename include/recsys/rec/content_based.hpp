// recsys/rec/content_based.hpp — ContentBased: TF-IDF vectors of the items' text, a user profile from the items they liked, cosine similarity.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "recsys/core/factory.hpp"
#include "recsys/data/vectorizer.hpp"
#include "recsys/rec/interface.hpp"

namespace recsys::rec {

/// Content-based filtering. Each item is the TF-IDF vector (scikit-learn's defaults, L2-normalised)
/// of its text: title, genres, director, actors, description and tags (Item::text()). A user's
/// profile is the rating-weighted mean of the vectors of the items they liked (all their items,
/// weighted the same way, when they liked none); an item's score is the cosine similarity between
/// the profile and the item's vector. Needs no training beyond this, and recommends items nobody
/// has rated yet — what collaborative models cannot.
class ContentBased : public Recommender {
 public:
  explicit ContentBased(FitOptions options = {}) : Recommender(std::move(options)) {}
  std::string name() const override { return "content"; }
  Capabilities capabilities() const override { return {.trains_in_epochs = false}; }

  /// The items' TF-IDF rows.
  const data::CsrMatrix& item_vectors() const { return items_; }
  /// The vocabulary of the item texts, in column order.
  const std::vector<std::string>& terms() const { return vectorizer_.feature_names(); }

 protected:
  History fit_model(const Dataset& train, const FitOptions&) override {
    build(train);
    return {};
  }

  void score_items(std::int64_t user, std::span<const std::int64_t> items, std::span<double> out) const override {
    const Profile& p = profiles_[static_cast<std::size_t>(user)];
    std::vector<double> dense(static_cast<std::size_t>(items_.cols), 0.0);
    for (std::size_t k = 0; k < p.terms.size(); ++k) dense[static_cast<std::size_t>(p.terms[k])] = p.weights[k];
    for (std::size_t n = 0; n < items.size(); ++n) {
      const auto i = static_cast<std::size_t>(items[n]);
      double dot = 0;
      for (std::int64_t k = items_.indptr[i]; k < items_.indptr[i + 1]; ++k)
        dot += dense[static_cast<std::size_t>(items_.indices[static_cast<std::size_t>(k)])] *
               items_.data[static_cast<std::size_t>(k)];
      out[n] = p.norm > 0 ? dot / p.norm : 0.0;  // item rows have norm 1 (or 0: no text)
    }
  }

  NamedTensors state_tensors() const override { return {{"idf", from_vector(vectorizer_.idf())}}; }
  void restore(const Dataset& train, const FitOptions&, const json::Value&, const NamedTensors& tensors) override {
    build(train);  // the vectors follow from the saved catalogue; the idf checks that they did
    const std::vector<double> saved = find_tensor(tensors, "idf").to_vector<double>();
    RECSYS_CHECK(saved == vectorizer_.idf(), "content.load: the catalogue in the folder does not give the saved ",
                 "TF-IDF weights (", saved.size(), " saved, ", vectorizer_.idf().size(), " rebuilt)");
  }

 private:
  /// A sparse profile: term ids ascending, their weights, and the vector's L2 norm.
  struct Profile {
    std::vector<std::int64_t> terms;
    std::vector<double> weights;
    double norm = 0;
  };

  void build(const Dataset& train) {
    std::vector<std::string> texts;
    texts.reserve(static_cast<std::size_t>(train.num_items()));
    for (const Item& it : train.items()) texts.push_back(it.text());
    vectorizer_ = data::TfidfVectorizer();
    items_ = vectorizer_.fit_transform(texts);

    std::vector<std::vector<std::int64_t>> rows(static_cast<std::size_t>(train.num_users()));
    std::vector<std::uint8_t> any_liked(rows.size(), 0);
    for (std::int64_t r = 0; r < train.size(); ++r) {
      rows[static_cast<std::size_t>(train[r].user)].push_back(r);
      if (train.liked(train[r])) any_liked[static_cast<std::size_t>(train[r].user)] = 1;
    }
    profiles_.assign(rows.size(), {});
    std::vector<double> dense(static_cast<std::size_t>(items_.cols), 0.0);
    std::vector<std::int64_t> touched;
    for (std::size_t u = 0; u < rows.size(); ++u) {
      double total = 0;
      touched.clear();
      for (std::int64_t r : rows[u]) {
        const Interaction& x = train[r];
        if (any_liked[u] && !train.liked(x)) continue;
        const double w = std::max(x.rating, 1e-3);  // 0-star "likes" (0/1 labels) still count
        total += w;
        const auto i = static_cast<std::size_t>(x.item);
        for (std::int64_t k = items_.indptr[i]; k < items_.indptr[i + 1]; ++k) {
          const auto t = static_cast<std::size_t>(items_.indices[static_cast<std::size_t>(k)]);
          if (dense[t] == 0) touched.push_back(static_cast<std::int64_t>(t));
          dense[t] += w * items_.data[static_cast<std::size_t>(k)];
        }
      }
      std::sort(touched.begin(), touched.end());
      Profile& p = profiles_[u];
      double sq = 0;
      for (std::int64_t t : touched) {
        const double v = dense[static_cast<std::size_t>(t)] / total;
        dense[static_cast<std::size_t>(t)] = 0;
        if (v == 0) continue;
        p.terms.push_back(t);
        p.weights.push_back(v);
        sq += v * v;
      }
      p.norm = std::sqrt(sq);
    }
  }

  data::TfidfVectorizer vectorizer_;
  data::CsrMatrix items_;
  std::vector<Profile> profiles_;
};

}  // namespace recsys::rec
