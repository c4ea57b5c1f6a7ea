// recsys/rec/reviews.hpp — what the review-text models share: the training reviews with their liked labels, an item's score as the mean P(liked) of its reviews, and row predictions that fall back to it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "recsys/core/error.hpp"
#include "recsys/rec/dataset.hpp"

namespace recsys::rec::detail {

/// The training interactions that carry a review: the text, liked() as 0/1, and the row it came from.
struct TrainingReviews {
  std::vector<std::string> texts;
  std::vector<float> labels;
  std::vector<std::int64_t> rows;
};

inline TrainingReviews training_reviews(const Dataset& train, const std::string& op) {
  TrainingReviews r;
  for (std::int64_t i = 0; i < train.size(); ++i) {
    if (train[i].review.empty()) continue;
    r.texts.push_back(train[i].review);
    r.labels.push_back(train.liked(train[i]) ? 1.0f : 0.0f);
    r.rows.push_back(i);
  }
  RECSYS_CHECK(!r.texts.empty(), op, ": none of the ", train.size(), " training interactions has a review");
  return r;
}

/// Each item's score: the mean of `p` (one P(liked) per training review) over its reviews; the mean
/// over all reviews for an item without any.
inline std::vector<double> item_review_scores(const Dataset& train, const TrainingReviews& reviews,
                                              const std::vector<double>& p) {
  std::vector<double> sum(static_cast<std::size_t>(train.num_items()), 0.0), count(sum.size(), 0.0);
  double total = 0;
  for (std::size_t k = 0; k < reviews.rows.size(); ++k) {
    const auto i = static_cast<std::size_t>(train[reviews.rows[k]].item);
    sum[i] += p[k];
    count[i] += 1;
    total += p[k];
  }
  const double fallback = total / static_cast<double>(reviews.rows.size());
  std::vector<double> score(sum.size());
  for (std::size_t i = 0; i < sum.size(); ++i) score[i] = count[i] > 0 ? sum[i] / count[i] : fallback;
  return score;
}

/// P(liked) for each row: predict_texts on the rows with a review, the item's score for the others.
template <class PredictTexts>
std::vector<double> predict_review_rows(const Dataset& rows, const std::vector<double>& item_scores,
                                        PredictTexts&& predict_texts) {
  std::vector<std::string> texts;
  std::vector<std::size_t> with_text;
  std::vector<double> out(static_cast<std::size_t>(rows.size()));
  for (std::int64_t r = 0; r < rows.size(); ++r) {
    if (rows[r].review.empty()) {
      out[static_cast<std::size_t>(r)] = item_scores[static_cast<std::size_t>(rows[r].item)];
    } else {
      texts.push_back(rows[r].review);
      with_text.push_back(static_cast<std::size_t>(r));
    }
  }
  const std::vector<double> p = predict_texts(texts);
  for (std::size_t k = 0; k < p.size(); ++k) out[with_text[k]] = p[k];
  return out;
}

}  // namespace recsys::rec::detail
