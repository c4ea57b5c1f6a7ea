// recsys/rec/diagnostics.hpp — sanity checks of a train/test split before anything is trained: test rows copied in training (leakage), items nobody interacted with, test rows whose item training never saw; with the warnings a user should read.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "recsys/io/json.hpp"
#include "recsys/rec/dataset.hpp"

namespace recsys::rec {

/// What a split looks like from the outside. A test row "duplicates" a training row when the same
/// user gave the same rating with the same review text (both non-empty) or, for rows without a
/// review, at the same timestamp: review dumps that copy one review onto every variant of a product
/// produce such rows, and a model that memorises them scores near-perfectly on them.
struct SplitDiagnostics {
  std::int64_t test_rows = 0;
  std::int64_t duplicated_in_train = 0;  ///< test rows with an exact copy (other item) in training
  std::int64_t cold_item_rows = 0;       ///< test rows whose item has no training interaction
  std::int64_t catalogue_items = 0;
  std::int64_t never_interacted = 0;     ///< catalogue items without any interaction, train or test

  /// Shares above which a warning is printed: a tenth of the test rows duplicated, a fifth cold,
  /// half the catalogue never touched.
  static constexpr double kDuplicateWarn = 0.10, kColdWarn = 0.20, kUntouchedWarn = 0.50;

  double share(std::int64_t n, std::int64_t of) const { return of > 0 ? static_cast<double>(n) / static_cast<double>(of) : 0.0; }

  std::vector<std::string> warnings() const {
    std::vector<std::string> w;
    const auto pct = [](double x) { return std::to_string(static_cast<int>(x * 100 + 0.5)) + "%"; };
    if (share(duplicated_in_train, test_rows) > kDuplicateWarn)
      w.push_back(pct(share(duplicated_in_train, test_rows)) + " of the test rows (" + std::to_string(duplicated_in_train) +
                  ") have an exact copy by the same user in training (same rating and review text, or timestamp): "
                  "the scores measure memory, not prediction; deduplicate the source or split by time");
    if (share(cold_item_rows, test_rows) > kColdWarn)
      w.push_back(pct(share(cold_item_rows, test_rows)) + " of the test rows are on items training never saw: only " +
                  std::string("content features can score them"));
    if (share(never_interacted, catalogue_items) > kUntouchedWarn)
      w.push_back(pct(share(never_interacted, catalogue_items)) + " of the catalogue (" + std::to_string(never_interacted) +
                  " items) has no interaction at all: sampled negatives drawn from it are easy");
    return w;
  }

  json::Value to_json() const {
    json::Value v = json::Value::object();
    v["test_rows"] = test_rows;
    v["duplicated_in_train"] = duplicated_in_train;
    v["cold_item_rows"] = cold_item_rows;
    v["catalogue_items"] = catalogue_items;
    v["never_interacted"] = never_interacted;
    json::Value w = json::Value::array();
    for (const std::string& s : warnings()) w.push_back(s);
    v["warnings"] = std::move(w);
    return v;
  }
};

/// Diagnoses the split of one data set into `train` and `test` (same catalogue).
inline SplitDiagnostics diagnose_split(const Dataset& train, const Dataset& test) {
  RECSYS_CHECK(train.num_items() == test.num_items() && train.num_users() == test.num_users(),
               "diagnose_split: train and test index different catalogues (", train.num_users(), "×", train.num_items(),
               " and ", test.num_users(), "×", test.num_items(), ")");
  const auto key = [](const Interaction& r) {
    std::string k = std::to_string(r.user) + '\x1f' + std::to_string(r.rating) + '\x1f';
    if (!r.review.empty()) k += "r" + r.review;
    else k += "t" + std::to_string(r.timestamp);
    return k;
  };
  std::unordered_set<std::string> copies;
  std::vector<std::uint8_t> in_train(static_cast<std::size_t>(train.num_items()), 0), any = in_train;
  for (const Interaction& r : train.interactions()) {
    copies.insert(key(r));
    in_train[static_cast<std::size_t>(r.item)] = any[static_cast<std::size_t>(r.item)] = 1;
  }
  SplitDiagnostics d;
  d.test_rows = test.size();
  d.catalogue_items = train.num_items();
  for (const Interaction& r : test.interactions()) {
    d.duplicated_in_train += copies.count(key(r)) > 0;
    d.cold_item_rows += !in_train[static_cast<std::size_t>(r.item)];
    any[static_cast<std::size_t>(r.item)] = 1;
  }
  for (std::uint8_t a : any) d.never_interacted += !a;
  return d;
}

}  // namespace recsys::rec
