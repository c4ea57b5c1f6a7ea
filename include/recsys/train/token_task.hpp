// recsys/train/token_task.hpp — a seeded toy text-classification task whose tokens carry the label (tests, examples, demo).
#pragma once

#include <cstdint>

#include "recsys/core/factory.hpp"
#include "recsys/core/random.hpp"

namespace recsys::train {

/// The task's sizes. Ids 1..cue_words are "positive words", the next cue_words "negative words",
/// the rest neutral filler; 0 is left free for padding.
struct TokenTaskOptions {
  std::int64_t samples = 1000;
  std::int64_t length = 100;          // tokens per sequence
  std::int64_t vocab = 1000;
  std::int64_t cue_words = 10;
  std::int64_t cues_per_sample = 3;   // cue words planted in each sequence
  double label_noise = 0;             // fraction of labels flipped after the text is drawn
  std::uint64_t seed = 42;
};

/// x: int64 token ids (samples, length); y: float32 labels (samples, 1) of 0 or 1.
struct TokenTask {
  Tensor x, y;
};

/// Each sequence is neutral filler with `cues_per_sample` words of its label's kind planted at
/// random positions, so a model must find a few informative tokens anywhere in the sequence —
/// what the reference CNN-LSTM does for sentiment. The same options give the same data everywhere.
inline TokenTask make_token_task(const TokenTaskOptions& o = {}) {
  RECSYS_CHECK(o.samples > 0 && o.length > 0 && o.cue_words > 0 && o.cues_per_sample > 0,
               "make_token_task: samples, length, cue_words and cues_per_sample must be positive");
  RECSYS_CHECK(o.vocab > 1 + 2 * o.cue_words, "make_token_task: a vocabulary of ", o.vocab,
               " leaves no filler words after 1 + 2 * ", o.cue_words, " reserved ids");
  RECSYS_CHECK(o.label_noise >= 0 && o.label_noise <= 1, "make_token_task: label_noise must be in [0, 1], got ",
               o.label_noise);
  Generator gen(o.seed);
  TokenTask task{Tensor::empty({o.samples, o.length}, DType::int64), Tensor::empty({o.samples, 1}, DType::float32)};
  std::int64_t* x = task.x.data<std::int64_t>();
  float* y = task.y.data<float>();
  const auto filler_first = 1 + 2 * o.cue_words;
  for (std::int64_t i = 0; i < o.samples; ++i) {
    const bool positive = gen.below(2) == 1;
    std::int64_t* row = x + i * o.length;
    for (std::int64_t t = 0; t < o.length; ++t)
      row[t] = filler_first + static_cast<std::int64_t>(gen.below(static_cast<std::uint64_t>(o.vocab - filler_first)));
    const std::int64_t first_cue = positive ? 1 : 1 + o.cue_words;
    for (std::int64_t c = 0; c < o.cues_per_sample; ++c) {
      const auto at = static_cast<std::int64_t>(gen.below(static_cast<std::uint64_t>(o.length)));
      row[at] = first_cue + static_cast<std::int64_t>(gen.below(static_cast<std::uint64_t>(o.cue_words)));
    }
    const bool flip = gen.uniform() < o.label_noise;  // drawn even without noise: the text never depends on it
    y[i] = positive != flip ? 1.0f : 0.0f;
  }
  return task;
}

}  // namespace recsys::train
