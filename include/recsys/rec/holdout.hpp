// recsys/rec/holdout.hpp — what a ranking evaluation holds out: leave-last-out or a global time cut, with timestamp ties broken by a seeded rule that ignores file order; the candidates (every unseen item, or sampled negatives); validation carved from the training rows by the same rule.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

#include "recsys/core/error.hpp"
#include "recsys/core/random.hpp"
#include "recsys/rec/dataset.hpp"

namespace recsys::rec {

/// How a ranking protocol chooses the held-out interactions and the candidates they are ranked among.
struct HoldoutOptions {
  /// "leave-last-out": each user's latest interaction (by timestamp) is held out.
  /// "temporal": one global time cut; everything before it trains, each user's interactions at or
  /// after it are the targets (users without a training row are not evaluated).
  std::string protocol = "leave-last-out";
  /// "any": every interaction can be a target (what the user watched next). "liked": only liked
  /// ones (rating >= the data's like threshold); leave-last-out then holds out the last *liked*
  /// interaction and later non-liked rows stay in training.
  std::string target = "any";
  double temporal_fraction = 0.2;  ///< temporal: share of the interactions (by time) after the cut
  /// 0: full ranking, every item the user has no training interaction with is a candidate.
  /// N > 0: the targets plus N sampled negatives (items the user never interacted with at all).
  std::int64_t negatives = 0;
  std::string sampling = "uniform";  ///< sampled negatives: "uniform" or "popularity" (by training count)
  std::uint64_t seed = 42;           ///< timestamp ties and sampled negatives

  std::string describe() const {
    std::string s = protocol == "temporal" ? "temporal cut (last " + std::to_string(static_cast<int>(std::lround(temporal_fraction * 100))) + "% of the interactions by time)"
                                           : std::string("leave-last-out");
    s += target == "liked" ? ", liked targets" : "";
    s += negatives > 0 ? ", " + std::to_string(negatives) + " " + sampling + "-sampled negatives" : ", full ranking";
    return s;
  }
};

/// A ranking split: the rows a model trains on, and per evaluated user the items it must find.
struct Holdout {
  Dataset train;                                    ///< the fit rows (whole catalogue)
  std::vector<std::int64_t> users;                  ///< evaluated users, ascending
  std::vector<std::vector<std::int64_t>> relevant;  ///< per user: held-out items, ascending, distinct
  /// Per user: the sampled negatives (ascending); empty vectors under full ranking.
  std::vector<std::vector<std::int64_t>> negatives;
  bool full_ranking = true;
  std::int64_t held_out_rows = 0;     ///< interactions held out as targets
  std::int64_t timestamp_ties = 0;    ///< leave-last-out: users whose latest timestamp was shared by several rows
  std::int64_t time_cut = 0;          ///< temporal: the first timestamp on the test side
  std::vector<std::int64_t> test_rows;  ///< indices (in the source data) of the held-out interactions

  std::int64_t num_users() const { return static_cast<std::int64_t>(users.size()); }
};

namespace detail {

/// 64 bits from a string: FNV-1a, to key a draw by an id rather than by an index or a file position.
inline std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

/// A seeded key of (user id, item id): the same pair always gets the same key, whatever the file order.
inline std::uint64_t pair_key(std::uint64_t seed, std::string_view user, std::string_view item) {
  const std::uint64_t h = fnv1a(item, fnv1a(user) ^ 0x9E3779B97F4A7C15ull);
  const Philox4 b = philox_block(seed, h);
  return (static_cast<std::uint64_t>(b.v[0]) << 32) | b.v[1];
}

/// Each user's interactions (row indices), ascending by row.
inline std::vector<std::vector<std::int64_t>> rows_per_user(const Dataset& data) {
  std::vector<std::vector<std::int64_t>> rows(static_cast<std::size_t>(data.num_users()));
  for (std::int64_t r = 0; r < data.size(); ++r) rows[static_cast<std::size_t>(data[r].user)].push_back(r);
  return rows;
}

inline void check_holdout_options(const HoldoutOptions& o) {
  RECSYS_CHECK(o.protocol == "leave-last-out" || o.protocol == "temporal",
               "holdout: protocol must be 'leave-last-out' or 'temporal', got '", o.protocol, "'");
  RECSYS_CHECK(o.target == "any" || o.target == "liked", "holdout: target must be 'any' or 'liked', got '", o.target,
               "'");
  RECSYS_CHECK(o.temporal_fraction > 0 && o.temporal_fraction < 1, "holdout: temporal_fraction must be in (0, 1), got ",
               o.temporal_fraction);
  RECSYS_CHECK(o.negatives >= 0, "holdout: negatives must be >= 0 (0: full ranking), got ", o.negatives);
  RECSYS_CHECK(o.sampling == "uniform" || o.sampling == "popularity",
               "holdout: sampling must be 'uniform' or 'popularity', got '", o.sampling, "'");
}

/// Samples `want` distinct items among those with eligible[i] != 0, weighted by weight[i] (all 1
/// for uniform), by the Efraimidis–Spirakis keys u^(1/w): one pass, no rejection loop, and the
/// draw of a user depends only on the seed and the user's id.
inline std::vector<std::int64_t> weighted_sample(std::int64_t want, const std::vector<std::uint8_t>& eligible,
                                                 const std::vector<double>& weight, std::uint64_t seed) {
  std::vector<std::pair<double, std::int64_t>> keyed;
  for (std::size_t i = 0; i < eligible.size(); ++i) {
    if (!eligible[i] || weight[i] <= 0) continue;
    const double u = 1.0 - u64_to_unit_double((static_cast<std::uint64_t>(philox_u32(seed, 0, 2 * i)) << 32) |
                                              philox_u32(seed, 0, 2 * i + 1));  // (0, 1]
    keyed.emplace_back(std::log(u) / weight[i], static_cast<std::int64_t>(i));
  }
  const auto n = std::min(static_cast<std::size_t>(want), keyed.size());
  std::partial_sort(keyed.begin(), keyed.begin() + static_cast<std::ptrdiff_t>(n), keyed.end(),
                    [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  std::vector<std::int64_t> out;
  out.reserve(n);
  for (std::size_t k = 0; k < n; ++k) out.push_back(keyed[k].second);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace detail

/// Splits `data` for a ranking evaluation (see HoldoutOptions). Leave-last-out takes, per user with
/// at least two interactions (two eligible ones for target "liked"), the row with the latest
/// timestamp; when several rows share it, the one with the smallest seeded key of (user id, item id)
/// — a seeded random choice that does not depend on the order of the file. Temporal puts the cut at
/// the timestamp below which (1 - temporal_fraction) of the interactions lie.
inline Holdout make_holdout(const Dataset& data, const HoldoutOptions& o) {
  detail::check_holdout_options(o);
  RECSYS_CHECK(data.size() >= 2, "holdout: needs at least 2 interactions, got ", data.size());
  const auto eligible = [&](const Interaction& r) { return o.target == "any" || data.liked(r); };
  std::vector<std::uint8_t> is_test(static_cast<std::size_t>(data.size()), 0), is_train(is_test.size(), 1);
  Holdout h;
  const auto rows = detail::rows_per_user(data);
  if (o.protocol == "leave-last-out") {
    for (std::size_t u = 0; u < rows.size(); ++u) {
      std::int64_t best = -1, n_eligible = 0, tied = 0;
      std::uint64_t best_key = 0;
      for (std::int64_t r : rows[u]) {
        if (!eligible(data[r])) continue;
        ++n_eligible;
        const std::uint64_t key = detail::pair_key(o.seed, data.user_id(data[r].user), data.item(data[r].item).id);
        const bool later = best < 0 || data[r].timestamp > data[best].timestamp;
        const bool same = best >= 0 && data[r].timestamp == data[best].timestamp;
        if (later) tied = 1;
        else if (same) ++tied;
        if (later || (same && key < best_key)) best = r, best_key = key;
      }
      if (n_eligible < 2 || rows[u].size() < 2) continue;
      h.timestamp_ties += tied > 1;
      is_test[static_cast<std::size_t>(best)] = 1;
      is_train[static_cast<std::size_t>(best)] = 0;
    }
  } else {
    std::vector<std::int64_t> times;
    times.reserve(static_cast<std::size_t>(data.size()));
    for (const Interaction& r : data.interactions()) times.push_back(r.timestamp);
    std::sort(times.begin(), times.end());
    const auto at = static_cast<std::size_t>(
        std::floor((1.0 - o.temporal_fraction) * static_cast<double>(times.size())));
    h.time_cut = times[std::min(at, times.size() - 1)];
    RECSYS_CHECK(h.time_cut > times.front(), "holdout: the temporal cut at ", 100 * (1 - o.temporal_fraction),
                 "% of the interactions falls on the first timestamp (", h.time_cut,
                 "): every row would be on the test side; the timestamps do not spread enough for this fraction");
    std::vector<std::uint8_t> has_train(rows.size(), 0);
    for (std::int64_t r = 0; r < data.size(); ++r) {
      const bool before = data[r].timestamp < h.time_cut;
      is_train[static_cast<std::size_t>(r)] = before;
      if (before) has_train[static_cast<std::size_t>(data[r].user)] = 1;
    }
    for (std::int64_t r = 0; r < data.size(); ++r)
      if (!is_train[static_cast<std::size_t>(r)] && has_train[static_cast<std::size_t>(data[r].user)] &&
          eligible(data[r]))
        is_test[static_cast<std::size_t>(r)] = 1;
  }

  std::vector<std::int64_t> train_rows;
  for (std::int64_t r = 0; r < data.size(); ++r)
    if (is_train[static_cast<std::size_t>(r)]) train_rows.push_back(r);
  h.train = data.subset(train_rows);
  const std::vector<std::vector<std::int64_t>> seen_items = h.train.seen_items();
  std::vector<std::vector<std::int64_t>> targets(rows.size());
  for (std::int64_t r = 0; r < data.size(); ++r) {
    if (!is_test[static_cast<std::size_t>(r)]) continue;
    const auto u = static_cast<std::size_t>(data[r].user);
    if (std::binary_search(seen_items[u].begin(), seen_items[u].end(), data[r].item)) continue;  // a re-rating
    targets[u].push_back(data[r].item);
    h.test_rows.push_back(r);
  }
  h.held_out_rows = static_cast<std::int64_t>(h.test_rows.size());
  for (std::size_t u = 0; u < rows.size(); ++u) {
    auto& t = targets[u];
    if (t.empty()) continue;
    std::sort(t.begin(), t.end());
    t.erase(std::unique(t.begin(), t.end()), t.end());
    h.users.push_back(static_cast<std::int64_t>(u));
    h.relevant.push_back(std::move(t));
  }
  RECSYS_CHECK(!h.users.empty(), "holdout: no user has a held-out interaction under ", o.describe(),
               (o.target == "liked" ? " (few users have two liked interactions?)" : ""));

  h.full_ranking = o.negatives == 0;
  h.negatives.assign(h.users.size(), {});
  if (!h.full_ranking) {
    // Negatives are items the user never interacted with, in training or after.
    std::vector<double> weight(static_cast<std::size_t>(data.num_items()), 1.0);
    if (o.sampling == "popularity") {
      std::fill(weight.begin(), weight.end(), 0.0);
      for (const Interaction& r : h.train.interactions()) weight[static_cast<std::size_t>(r.item)] += 1;
    }
    std::vector<std::uint8_t> free(weight.size(), 1);
    for (std::size_t n = 0; n < h.users.size(); ++n) {
      const auto u = static_cast<std::size_t>(h.users[n]);
      for (std::int64_t r : rows[u]) free[static_cast<std::size_t>(data[r].item)] = 0;
      const std::uint64_t user_seed = detail::pair_key(o.seed, data.user_id(h.users[n]), "\x1fnegatives");
      h.negatives[n] = detail::weighted_sample(o.negatives, free, weight, user_seed);
      for (std::int64_t r : rows[u]) free[static_cast<std::size_t>(data[r].item)] = 1;
    }
  }
  return h;
}

/// The validation split for tuning: the same rule applied to the training rows of `test_split`, so
/// settings are chosen without looking at the test rows.
inline Holdout make_validation(const Holdout& test_split, const HoldoutOptions& o) {
  return make_holdout(test_split.train, o);
}

}  // namespace recsys::rec
