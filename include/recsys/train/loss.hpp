// recsys/train/loss.hpp — the losses Model::compile() accepts: Keras's built-in names, or any function of (prediction, target).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "recsys/ops/loss.hpp"
#include "recsys/ops/unary.hpp"

namespace recsys::train {

/// Keras's built-in losses, each averaged over the batch.
enum class Loss : std::uint8_t {
  binary_crossentropy,              ///< probabilities (a sigmoid output) vs 0/1 targets
  binary_crossentropy_from_logits,  ///< raw scores vs 0/1 targets; the sigmoid is fused in
  mean_squared_error,               ///< regression
  categorical_crossentropy,         ///< probabilities (N, C) (a softmax output) vs one-hot or soft targets (N, C)
  sparse_categorical_crossentropy,  ///< probabilities (N, C) vs class ids (N)
};

/// What the targets of a loss are: values shaped like the prediction, or integer class ids.
enum class TargetKind : std::uint8_t { values, class_ids };

/// A loss as compile() stores it: a name for logs, the function, and how fit() prepares targets.
struct LossSpec {
  std::string name;
  std::function<Tensor(const Tensor& prediction, const Tensor& target)> fn;
  TargetKind targets = TargetKind::values;
  bool from_logits = false;  // predictions are scores, not probabilities: binary accuracy thresholds at 0

  /// A custom loss: fn(prediction, target) must return a scalar. Targets reach it as given.
  LossSpec(std::string loss_name, std::function<Tensor(const Tensor&, const Tensor&)> loss_fn)
      : name(std::move(loss_name)), fn(std::move(loss_fn)) {}

  LossSpec(Loss loss) {  // NOLINT: implicit, so compile() takes Loss::binary_crossentropy directly
    // Keras clips probabilities to [eps, 1 - eps] before every logarithm.
    const auto clipped_log = [](const Tensor& p) { return log(clamp(p, kBceEpsilon, 1.0 - kBceEpsilon)); };
    switch (loss) {
      case Loss::binary_crossentropy:
        name = "binary_crossentropy";
        fn = [](const Tensor& p, const Tensor& t) { return binary_cross_entropy(p, t); };
        break;
      case Loss::binary_crossentropy_from_logits:
        name = "binary_crossentropy_from_logits";
        fn = [](const Tensor& p, const Tensor& t) { return binary_cross_entropy_with_logits(p, t); };
        from_logits = true;
        break;
      case Loss::mean_squared_error:
        name = "mean_squared_error";
        fn = [](const Tensor& p, const Tensor& t) { return mse_loss(p, t); };
        break;
      case Loss::categorical_crossentropy:
        name = "categorical_crossentropy";
        fn = [clipped_log](const Tensor& p, const Tensor& t) {
          RECSYS_CHECK(p.dim() == 2, "categorical_crossentropy: predictions must be (N, classes), got shape ", p.shape());
          return neg(mean(sum(t * clipped_log(p), 1)));
        };
        break;
      case Loss::sparse_categorical_crossentropy:
        name = "sparse_categorical_crossentropy";
        fn = [clipped_log](const Tensor& p, const Tensor& t) {
          RECSYS_CHECK(p.dim() == 2, "sparse_categorical_crossentropy: predictions must be (N, classes), got shape ",
                       p.shape());
          return nll_loss(clipped_log(p), t);
        };
        targets = TargetKind::class_ids;
        break;
    }
  }
};

}  // namespace recsys::train
