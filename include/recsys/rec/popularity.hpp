// recsys/rec/popularity.hpp — Popularity: every user gets the most-rated items; the baseline every model is reported next to.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "recsys/core/factory.hpp"
#include "recsys/rec/interface.hpp"

namespace recsys::rec {

/// Scores an item by how many training interactions it has, the same for every user. Hard to beat
/// under leave-last-out with sampled negatives (what people watch next is usually what many watch),
/// so a model that does not beat it has learned nothing personal.
class Popularity : public Recommender {
 public:
  explicit Popularity(FitOptions options = {}) : Recommender(std::move(options)) {}
  std::string name() const override { return "popularity"; }
  Capabilities capabilities() const override { return {.trains_in_epochs = false}; }

  /// Training interactions per item.
  const std::vector<double>& counts() const { return counts_; }

 protected:
  History fit_model(const Dataset& train, const FitOptions&) override {
    counts_.assign(static_cast<std::size_t>(train.num_items()), 0.0);
    for (const Interaction& r : train.interactions()) counts_[static_cast<std::size_t>(r.item)] += 1;
    return {};
  }
  void score_items(std::int64_t, std::span<const std::int64_t> items, std::span<double> out) const override {
    for (std::size_t k = 0; k < items.size(); ++k) out[k] = counts_[static_cast<std::size_t>(items[k])];
  }
  NamedTensors state_tensors() const override { return {{"counts", from_vector(counts_)}}; }
  void restore(const Dataset& train, const FitOptions&, const json::Value&, const NamedTensors& tensors) override {
    const Tensor c = find_tensor(tensors, "counts");
    RECSYS_CHECK(c.dim() == 1 && c.size(0) == train.num_items(), name(), ".load: counts has shape ", c.shape(),
                 ", expected (", train.num_items(), ")");
    counts_ = c.to_vector<double>();
  }

 private:
  std::vector<double> counts_;
};

}  // namespace recsys::rec
