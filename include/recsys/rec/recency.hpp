// recsys/rec/recency.hpp — each user's training items in time order (timestamp ties in a seeded order, never file order), and the recency-weighted profiles the item-item models score from.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "recsys/rec/dataset.hpp"
#include "recsys/rec/holdout.hpp"

namespace recsys::rec {

/// Each user's training items, oldest first. Rows with equal timestamps follow the seeded key of
/// (user id, item id) that leave-last-out breaks its ties with, so the order never depends on the file.
inline std::vector<std::vector<std::int64_t>> time_ordered_items(const Dataset& train, std::uint64_t seed) {
  std::vector<std::vector<std::pair<std::pair<std::int64_t, std::uint64_t>, std::int64_t>>> keyed(
      static_cast<std::size_t>(train.num_users()));
  for (const Interaction& r : train.interactions())
    keyed[static_cast<std::size_t>(r.user)].push_back(
        {{r.timestamp, detail::pair_key(seed, train.user_id(r.user), train.item(r.item).id)}, r.item});
  std::vector<std::vector<std::int64_t>> out(keyed.size());
  for (std::size_t u = 0; u < keyed.size(); ++u) {
    std::sort(keyed[u].begin(), keyed[u].end());
    out[u].reserve(keyed[u].size());
    for (const auto& k : keyed[u]) out[u].push_back(k.second);
  }
  return out;
}

/// A user's training items (ascending) with a weight each.
struct WeightedProfile {
  std::vector<std::int64_t> items;
  std::vector<float> weights;
};

/// Profiles for scoring Σ_j w_j · S[j, :]: item j of a user weighs decay^a, where a counts the user's
/// training interactions after j (the latest weighs 1). decay = 1 gives the classic binary profile
/// of EASE and item-kNN; below 1 it says what a user watched last matters most, which on MovieLens'
/// leave-last-out is worth more than any item-item refinement (see README).
inline std::vector<WeightedProfile> recency_profiles(const Dataset& train, double decay, std::uint64_t seed) {
  RECSYS_CHECK(decay > 0 && decay <= 1, "recency_profiles: decay must be in (0, 1], got ", decay);
  const auto ordered = time_ordered_items(train, seed);
  std::vector<WeightedProfile> out(ordered.size());
  std::vector<std::pair<std::int64_t, float>> w;
  for (std::size_t u = 0; u < ordered.size(); ++u) {
    const auto n = static_cast<std::int64_t>(ordered[u].size());
    w.clear();
    for (std::int64_t t = 0; t < n; ++t)
      w.emplace_back(ordered[u][static_cast<std::size_t>(t)], static_cast<float>(std::pow(decay, static_cast<double>(n - 1 - t))));
    std::sort(w.begin(), w.end());
    for (const auto& [i, x] : w) {
      if (!out[u].items.empty() && out[u].items.back() == i) {  // a repeated item keeps its latest weight
        out[u].weights.back() = std::max(out[u].weights.back(), x);
        continue;
      }
      out[u].items.push_back(i);
      out[u].weights.push_back(x);
    }
  }
  return out;
}

}  // namespace recsys::rec
