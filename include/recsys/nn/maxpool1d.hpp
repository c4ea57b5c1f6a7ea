// recsys/nn/maxpool1d.hpp — MaxPool1D: the largest value in each window along time (no parameters).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "recsys/nn/module.hpp"
#include "recsys/ops/maxpool1d.hpp"

namespace recsys::nn {

/// (B, T, C) → (B, (T - pool) / stride + 1, C); stride defaults to the pool size, as in Keras.
class MaxPool1D : public Module {
 public:
  explicit MaxPool1D(std::int64_t pool_size, std::optional<std::int64_t> stride = std::nullopt)
      : pool_size_(pool_size), stride_(stride) {
    RECSYS_CHECK(pool_size > 0, "MaxPool1D: pool_size must be positive, got ", pool_size);
    RECSYS_CHECK(!stride || *stride > 0, "MaxPool1D: stride must be positive, got ", stride.value_or(0));
  }

  Tensor forward(const Tensor& x) const { return maxpool1d(x, pool_size_, stride_); }
  Tensor operator()(const Tensor& x) const { return forward(x); }
  std::string name() const override { return "MaxPool1D"; }
  std::int64_t pool_size() const { return pool_size_; }
  /// The stride as given (unset: the pool size).
  std::optional<std::int64_t> stride() const { return stride_; }

 private:
  std::int64_t pool_size_;
  std::optional<std::int64_t> stride_;
};

}  // namespace recsys::nn
