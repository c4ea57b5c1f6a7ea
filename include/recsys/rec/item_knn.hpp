// recsys/rec/item_knn.hpp — ItemKnn: item-item collaborative filtering, cosine similarity of the items' user sets, each item's nearest neighbours kept as a sparse matrix.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "recsys/core/factory.hpp"
#include "recsys/data/vectorizer.hpp"
#include "recsys/rec/interface.hpp"
#include "recsys/rec/recency.hpp"

namespace recsys::rec {

/// Item-based kNN (Sarwar et al. 2001; Deshpande & Karypis 2004) on the binary user × item matrix
/// of the training interactions (every interaction counts 1). U_i is the set of users of item i;
///   sim(i, j) = |U_i ∩ U_j| / (sqrt(|U_i| · |U_j|) + options.shrinkage),
/// the cosine of the two binary columns, damped for pairs with few co-raters when shrinkage > 0.
/// Each item keeps its options.neighbours most similar other items (ties: the lower item index),
/// rows of a sparse matrix S (row j: j's neighbours), and
///   score(u, i) = Σ_{j seen by u} w_j S[j, i],
/// the similarity-weighted votes of the user's items, w_j = 1, or recency-weighted when
/// options.recency < 1 (rec/recency.hpp). Co-occurrence counts are computed per item
/// by walking its users' item lists into a dense counter (Σ_u |u|² steps in all), items spread over
/// threads. Memory: items × neighbours entries.
class ItemKnn : public Recommender {
 public:
  explicit ItemKnn(FitOptions options = {}) : Recommender(std::move(options)) {}
  std::string name() const override { return "itemknn"; }
  Capabilities capabilities() const override { return {.trains_in_epochs = false}; }
  std::vector<TuningAxis> tuning_grid() const override {
    return {{"neighbours", {json::Value(20), json::Value(50), json::Value(100), json::Value(200)}},
            {"recency", {1.0, 0.9, 0.8}}};
  }

  /// S: row j holds item j's kept neighbours i (ascending) and sim(j, i).
  const data::CsrMatrix& similarities() const {
    require_fitted("similarities");
    return s_;
  }

 protected:
  History fit_model(const Dataset& train, const FitOptions& o) override {
    RECSYS_CHECK(o.neighbours > 0, "itemknn.fit: neighbours must be positive, got ", o.neighbours);
    RECSYS_CHECK(o.shrinkage >= 0 && std::isfinite(o.shrinkage), "itemknn.fit: shrinkage must be >= 0, got ",
                 o.shrinkage);
    RECSYS_CHECK(o.recency > 0 && o.recency <= 1, "itemknn.fit: recency must be in (0, 1], got ", o.recency);
    const std::int64_t n = train.num_items();
    std::vector<std::vector<std::int64_t>> users_of(static_cast<std::size_t>(n));
    for (std::int64_t u = 0; u < train.num_users(); ++u)
      for (std::int64_t j : seen_unchecked(u)) users_of[static_cast<std::size_t>(j)].push_back(u);

    using Neighbour = std::pair<std::int64_t, double>;  // (item, similarity)
    std::vector<std::vector<Neighbour>> kept(static_cast<std::size_t>(n));
    const auto k_max = static_cast<std::size_t>(o.neighbours);
    const double shrink = o.shrinkage;
#pragma omp parallel
    {
      std::vector<std::int32_t> count(static_cast<std::size_t>(n), 0);
      std::vector<std::int64_t> touched;
      std::vector<Neighbour> candidates;
#pragma omp for schedule(dynamic, 8)
      for (std::int64_t i = 0; i < n; ++i) {
        const std::vector<std::int64_t>& ui = users_of[static_cast<std::size_t>(i)];
        touched.clear();
        for (std::int64_t u : ui)
          for (std::int64_t j : seen_unchecked(u))
            if (count[static_cast<std::size_t>(j)]++ == 0) touched.push_back(j);
        candidates.clear();
        const auto ni = static_cast<double>(ui.size());
        for (std::int64_t j : touched) {
          const std::int32_t c = count[static_cast<std::size_t>(j)];
          count[static_cast<std::size_t>(j)] = 0;
          if (j == i) continue;
          const auto nj = static_cast<double>(users_of[static_cast<std::size_t>(j)].size());
          candidates.emplace_back(j, static_cast<double>(c) / (std::sqrt(ni * nj) + shrink));
        }
        const auto better = [](const Neighbour& a, const Neighbour& b) {
          return a.second != b.second ? a.second > b.second : a.first < b.first;
        };
        if (candidates.size() > k_max) {
          std::nth_element(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(k_max) - 1,
                           candidates.end(), better);
          candidates.resize(k_max);
        }
        std::sort(candidates.begin(), candidates.end());  // by item index, for CsrMatrix::at
        kept[static_cast<std::size_t>(i)] = candidates;
      }
    }
    data::CsrMatrix s;
    s.rows = s.cols = n;
    for (const std::vector<Neighbour>& row : kept) {
      for (const auto& [j, v] : row) s.indices.push_back(j), s.data.push_back(v);
      s.indptr.push_back(static_cast<std::int64_t>(s.indices.size()));
    }
    s_ = std::move(s);
    profiles_ = recency_profiles(train, o.recency, o.seed);
    return {};
  }

  void score_items(std::int64_t user, std::span<const std::int64_t> items, std::span<double> out) const override {
    std::vector<double> row(static_cast<std::size_t>(s_.cols));
    accumulate(user, row.data());
    for (std::size_t k = 0; k < items.size(); ++k) out[k] = row[static_cast<std::size_t>(items[k])];
  }

  /// One sparse product per user (X_u · S): rows of S added in the order of the user's items, as
  /// score_items does, so both give the same bits.
  void score_block(std::span<const std::int64_t> users, std::span<double> out) const override {
    const auto n = static_cast<std::size_t>(s_.cols);
    const auto rows = static_cast<std::int64_t>(users.size());
#pragma omp parallel for schedule(dynamic, 4) if (rows > 1)
    for (std::int64_t r = 0; r < rows; ++r) accumulate(users[static_cast<std::size_t>(r)], out.data() + static_cast<std::size_t>(r) * n);
  }

  /// Item i's kept neighbours and their similarities; every other item is not comparable.
  bool item_similarities(std::int64_t item, std::span<double> out) const override {
    std::fill(out.begin(), out.end(), -std::numeric_limits<double>::infinity());
    const auto i = static_cast<std::size_t>(item);
    for (std::int64_t k = s_.indptr[i]; k < s_.indptr[i + 1]; ++k)
      out[static_cast<std::size_t>(s_.indices[static_cast<std::size_t>(k)])] = s_.data[static_cast<std::size_t>(k)];
    return true;
  }

  NamedTensors state_tensors() const override {
    return {{"indptr", from_vector(s_.indptr)}, {"indices", from_vector(s_.indices)}, {"values", from_vector(s_.data)}};
  }

  void restore(const Dataset& train, const FitOptions& o, const json::Value&, const NamedTensors& tensors) override {
    const std::int64_t n = train.num_items();
    const Tensor indptr = find_tensor(tensors, "indptr"), indices = find_tensor(tensors, "indices"),
                 values = find_tensor(tensors, "values");
    RECSYS_CHECK(indptr.dtype() == DType::int64 && indptr.dim() == 1 && indptr.size(0) == n + 1,
                 "itemknn.load: indptr is ", indptr.dtype(), " ", indptr.shape(), ", expected int64 ", Shape{n + 1});
    RECSYS_CHECK(indices.dtype() == DType::int64 && indices.dim() == 1 && values.dim() == 1 &&
                     values.size(0) == indices.size(0),
                 "itemknn.load: indices ", indices.dtype(), " ", indices.shape(), " and values ", values.shape(),
                 " must be int64 and of one length");
    data::CsrMatrix s;
    s.rows = s.cols = n;
    s.indptr = indptr.to_vector<std::int64_t>();
    s.indices = indices.to_vector<std::int64_t>();
    s.data = values.to_vector<double>();
    RECSYS_CHECK(s.indptr.front() == 0 && s.indptr.back() == s.nnz() && std::is_sorted(s.indptr.begin(), s.indptr.end()),
                 "itemknn.load: indptr does not delimit ", s.nnz(), " entries");
    for (std::int64_t j : s.indices)
      RECSYS_CHECK(j >= 0 && j < n, "itemknn.load: neighbour index ", j, " is outside [0, ", n, ")");
    s_ = std::move(s);
    profiles_ = recency_profiles(train, o.recency, o.seed);
  }

 private:
  /// row[i] = Σ_{j seen by user} w_j S[j, i] over all items (row holds num_items values).
  void accumulate(std::int64_t user, double* row) const {
    std::fill(row, row + s_.cols, 0.0);
    const WeightedProfile& p = profiles_[static_cast<std::size_t>(user)];
    for (std::size_t s = 0; s < p.items.size(); ++s) {
      const auto j = static_cast<std::size_t>(p.items[s]);
      const double w = p.weights[s];
      for (std::int64_t k = s_.indptr[j]; k < s_.indptr[j + 1]; ++k)
        row[s_.indices[static_cast<std::size_t>(k)]] += w * s_.data[static_cast<std::size_t>(k)];
    }
  }

  data::CsrMatrix s_;
  std::vector<WeightedProfile> profiles_;  // each user's items and their recency weights
};

}  // namespace recsys::rec
