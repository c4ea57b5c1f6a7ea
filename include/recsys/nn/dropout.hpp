// recsys/nn/dropout.hpp — Dropout: zeroes a random fraction of activations while training (inverted scaling).
#pragma once

#include <string>

#include "recsys/core/random.hpp"
#include "recsys/nn/module.hpp"
#include "recsys/ops/dropout.hpp"

namespace recsys::nn {

/// Identity in eval mode. Draws its masks from its own Generator, seeded once from `gen`, so a model
/// built after manual_seed(s) drops the same units on every run, thread count and device.
class Dropout : public Module {
 public:
  explicit Dropout(double rate, Generator& gen = default_generator()) : rate_(rate), gen_(gen.next_u64()) {
    RECSYS_CHECK(rate >= 0.0 && rate < 1.0, "Dropout: rate must be in [0, 1), got ", rate);
  }

  Tensor forward(const Tensor& x) { return dropout(x, rate_, gen_, is_training()); }
  Tensor operator()(const Tensor& x) { return forward(x); }
  std::string name() const override { return "Dropout"; }
  double rate() const { return rate_; }
  /// The mask stream; checkpoints save and restore its state.
  Generator& generator() { return gen_; }

 private:
  double rate_;
  Generator gen_;
};

}  // namespace recsys::nn
