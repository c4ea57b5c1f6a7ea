// recsys/rec/ease.hpp — Ease: the closed-form item-item linear model of Steck (WWW 2019), B from the inverse of the regularised Gram matrix, scores as X_u · B.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "recsys/core/factory.hpp"
#include "recsys/cpu/cholesky.hpp"
#include "recsys/cpu/gemm.hpp"
#include "recsys/rec/interface.hpp"
#include "recsys/rec/recency.hpp"

namespace recsys::rec {

/// EASE, "Embarrassingly Shallow Autoencoders for Sparse Data" (Steck, WWW 2019). X is the binary
/// user × item matrix of the training interactions (every interaction counts 1, whatever its
/// rating). The model is the item × item matrix B that minimises ‖X − X·B‖² + λ‖B‖² with a zero
/// diagonal (an item may not explain itself), in closed form:
///   G = XᵀX + λI,  P = G⁻¹,  B_ij = −P_ij / P_jj (i ≠ j),  B_jj = 0,
/// and score(u, i) = X_u · B_:i = Σ_{j seen by u} w_j B_ji with w_j = 1, λ = options.lambda. With
/// options.recency < 1 the user's row is recency-weighted (rec/recency.hpp: the latest item weighs
/// 1, the one before it recency, ...): B is fitted as usual, only the profile it is applied to changes.
///
/// G is counted exactly from the sparse rows (or as a GEMM when X is dense enough to make that
/// faster), then inverted in float32 through our blocked Cholesky (cpu/cholesky.hpp): ~n³/2
/// multiply-adds, ~5.5 s for MovieLens' 9,742 items on one core (numpy's inv route: ~40 s). float32
/// is enough: on MovieLens (λ = 500) B is within 3e-7 of the double-precision B (|B| <= 0.08). Memory: one n × n float32 matrix
/// (n² · 4 bytes: 380 MB for 9,742 items, 3.6 GB at the limit) is held while fitting and kept as B,
/// which is also what model.safetensors stores, so loading needs no refit. Catalogues above
/// kMaxItems items are refused.
class Ease : public Recommender {
 public:
  /// The largest catalogue fit() accepts: 30,000 items, a 3.6 GB B (as much again on disk when saved).
  static constexpr std::int64_t kMaxItems = 30000;

  explicit Ease(FitOptions options = {}) : Recommender(std::move(options)) {}
  std::string name() const override { return "ease"; }
  Capabilities capabilities() const override { return {.trains_in_epochs = false}; }
  std::vector<TuningAxis> tuning_grid() const override {
    return {{"lambda", {json::Value(100), json::Value(300), json::Value(1000)}}, {"recency", {1.0, 0.9, 0.8, 0.7}}};
  }

  /// B as a (num_items, num_items) float32 tensor: row j holds what having seen item j adds to
  /// every item's score.
  const Tensor& weights() const {
    require_fitted("weights");
    return b_;
  }

 protected:
  History fit_model(const Dataset& train, const FitOptions& o) override {
    const std::int64_t n = train.num_items();
    RECSYS_CHECK(o.lambda > 0 && std::isfinite(o.lambda), "ease.fit: lambda must be positive, got ", o.lambda);
    RECSYS_CHECK(o.recency > 0 && o.recency <= 1, "ease.fit: recency must be in (0, 1], got ", o.recency);
    RECSYS_CHECK(n <= kMaxItems, "ease.fit: ", n, " items is more than the ", kMaxItems,
                 " EASE accepts (B is items² float32 values: ",
                 static_cast<double>(n) * static_cast<double>(n) * 4 / 1e9, " GB)");
    Tensor g = gram(train);
    float* p = g.data<float>();
    const auto lambda = static_cast<float>(o.lambda);
    for (std::int64_t i = 0; i < n; ++i) p[i * n + i] += lambda;
    cpu::spd_inverse(p, n, n);
    // B = I − P · diag(1 / diag(P)): column j scaled by −1 / P_jj, the diagonal zeroed.
    std::vector<float> scale(static_cast<std::size_t>(n));
    for (std::int64_t j = 0; j < n; ++j) scale[static_cast<std::size_t>(j)] = -1.0f / p[j * n + j];
#pragma omp parallel for schedule(static) if (n * n >= 4 * kParallelGrain)
    for (std::int64_t i = 0; i < n; ++i) {
      float* row = p + i * n;
      for (std::int64_t j = 0; j < n; ++j) row[j] *= scale[static_cast<std::size_t>(j)];
      row[i] = 0.0f;
    }
    b_ = g;
    profiles_ = recency_profiles(train, o.recency, o.seed);
    return {};
  }

  /// Σ_{j seen} w_j B[j, i] for each requested i, in float, j ascending (as score_block's sparse path).
  void score_items(std::int64_t user, std::span<const std::int64_t> items, std::span<double> out) const override {
    const std::int64_t n = b_.size(0);
    const float* b = b_.data<float>();
    std::vector<float> acc(items.size(), 0.0f);
    const WeightedProfile& p = profiles_[static_cast<std::size_t>(user)];
    for (std::size_t s = 0; s < p.items.size(); ++s) {
      const float* row = b + p.items[s] * n;
      const float w = p.weights[s];
      for (std::size_t k = 0; k < items.size(); ++k) acc[k] += w * row[items[k]];
    }
    for (std::size_t k = 0; k < items.size(); ++k) out[k] = acc[k];
  }

  /// A block of users at once: the GEMM X_block · B of their binary rows, or, when the block is
  /// small or sparse, the sum of their seen rows of B (score_items' sums, bit for bit). The GEMM
  /// adds in another order, so its scores match score_items' to float rounding (~1e-5 on MovieLens).
  void score_block(std::span<const std::int64_t> users, std::span<double> out) const override {
    const std::int64_t n = b_.size(0);
    const float* b = b_.data<float>();
    const auto rows = static_cast<std::int64_t>(users.size());
    std::int64_t nnz = 0;
    for (std::int64_t u : users) nnz += static_cast<std::int64_t>(profiles_[static_cast<std::size_t>(u)].items.size());
    if (rows < kMinGemmUsers || nnz * kGemmDensity < rows * n) {
      score_sparse(users, out);
      return;
    }
    std::vector<float> x(static_cast<std::size_t>(std::min(rows, kUserChunk) * n)), c(x.size());
    for (std::int64_t u0 = 0; u0 < rows; u0 += kUserChunk) {
      const std::int64_t m = std::min(kUserChunk, rows - u0);
      std::fill(x.begin(), x.begin() + m * n, 0.0f);
      for (std::int64_t r = 0; r < m; ++r) {
        const WeightedProfile& p = profiles_[static_cast<std::size_t>(users[static_cast<std::size_t>(u0 + r)])];
        for (std::size_t s = 0; s < p.items.size(); ++s) x[static_cast<std::size_t>(r * n + p.items[s])] = p.weights[s];
      }
      GemmArgs<float> a;
      a.m = m, a.n = n, a.k = n;
      a.a = x.data(), a.lda = n;
      a.b = b, a.ldb = n;
      a.c = c.data(), a.ldc = n;
      cpu::gemm(a);
      std::copy(c.begin(), c.begin() + m * n, out.begin() + u0 * n);
    }
  }

  NamedTensors state_tensors() const override { return {{"B", b_}}; }

  void restore(const Dataset& train, const FitOptions& o, const json::Value&, const NamedTensors& tensors) override {
    const Tensor b = find_tensor(tensors, "B");
    const std::int64_t n = train.num_items();
    RECSYS_CHECK(b.dtype() == DType::float32 && b.dim() == 2 && b.size(0) == n && b.size(1) == n,
                 "ease.load: B is ", b.dtype(), " ", b.shape(), ", expected float32 ", Shape{n, n});
    profiles_ = recency_profiles(train, o.recency, o.seed);
    b_ = b.is_contiguous() ? b : b.contiguous();
  }

 private:
  /// Users per GEMM in score_block (bounds its two scratch blocks at kUserChunk × items floats).
  static constexpr std::int64_t kUserChunk = 256;
  /// Blocks of fewer users are scored by summing rows of B.
  static constexpr std::int64_t kMinGemmUsers = 16;
  /// The GEMM does items multiply-adds per user and item, the row sums one add per seen item, at
  /// ~1/50 of the GEMM's rate: GEMM once users have seen more than 1/50 of the catalogue on average
  /// (measured on MovieLens, 1.7% dense: both take ~0.6 s for all 610 users on one core).
  static constexpr std::int64_t kGemmDensity = 50;

  void score_sparse(std::span<const std::int64_t> users, std::span<double> out) const {
    const std::int64_t n = b_.size(0);
    const float* b = b_.data<float>();
    const auto rows = static_cast<std::int64_t>(users.size());
#pragma omp parallel if (rows > 1)
    {
      std::vector<float> acc(static_cast<std::size_t>(n));
#pragma omp for schedule(dynamic, 1)
      for (std::int64_t r = 0; r < rows; ++r) {
        std::fill(acc.begin(), acc.end(), 0.0f);
        const WeightedProfile& p = profiles_[static_cast<std::size_t>(users[static_cast<std::size_t>(r)])];
        for (std::size_t s = 0; s < p.items.size(); ++s) {
          const float* row = b + p.items[s] * n;
          const float w = p.weights[s];
          for (std::int64_t i = 0; i < n; ++i) acc[static_cast<std::size_t>(i)] += w * row[i];
        }
        std::copy(acc.begin(), acc.end(), out.begin() + r * n);
      }
    }
  }

  /// G = XᵀX (float32, exact counts), from the seen lists.
  Tensor gram(const Dataset& train) const {
    const std::int64_t n = train.num_items(), n_users = train.num_users();
    Tensor g = zeros({n, n}, DType::float32);
    float* p = g.data<float>();
    // Sparse: Σ_u |u|² increments; dense: users · n² multiply-adds at ~30× the rate.
    double pairs = 0;
    for (std::int64_t u = 0; u < n_users; ++u) pairs += std::pow(static_cast<double>(seen_unchecked(u).size()), 2);
    if (pairs * 30 < static_cast<double>(n_users) * static_cast<double>(n) * static_cast<double>(n)) {
      // Row j of G counts, for each user of item j, that user's items: each thread owns its rows.
      std::vector<std::vector<std::int64_t>> users_of(static_cast<std::size_t>(n));
      for (std::int64_t u = 0; u < n_users; ++u)
        for (std::int64_t j : seen_unchecked(u)) users_of[static_cast<std::size_t>(j)].push_back(u);
#pragma omp parallel for schedule(dynamic, 16)
      for (std::int64_t j = 0; j < n; ++j) {
        float* row = p + j * n;
        for (std::int64_t u : users_of[static_cast<std::size_t>(j)])
          for (std::int64_t k : seen_unchecked(u)) row[k] += 1.0f;
      }
      return g;
    }
    // Dense: G += X_chunkᵀ · X_chunk, a block of users' binary rows at a time.
    const std::int64_t chunk = std::min<std::int64_t>(n_users, 512);
    std::vector<float> x(static_cast<std::size_t>(chunk * n));
    for (std::int64_t u0 = 0; u0 < n_users; u0 += chunk) {
      const std::int64_t m = std::min(chunk, n_users - u0);
      std::fill(x.begin(), x.end(), 0.0f);
      for (std::int64_t r = 0; r < m; ++r)
        for (std::int64_t j : seen_unchecked(u0 + r)) x[static_cast<std::size_t>(r * n + j)] = 1.0f;
      GemmArgs<float> a;
      a.trans_a = true;
      a.m = n, a.n = n, a.k = m;
      a.a = x.data(), a.lda = n;
      a.b = x.data(), a.ldb = n;
      a.beta = 1.0f;
      a.c = p, a.ldc = n;
      cpu::gemm(a);
    }
    return g;
  }

  Tensor b_;  // (items, items) float32
  std::vector<WeightedProfile> profiles_;  // each user's items and their recency weights
};

}  // namespace recsys::rec
