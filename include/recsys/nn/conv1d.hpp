// recsys/nn/conv1d.hpp — Conv1D: 1-D convolution over channels-last sequences, kernel (K, C, F) as in Keras.
#pragma once

#include <cstdint>
#include <string>

#include "recsys/core/factory.hpp"
#include "recsys/nn/activation.hpp"
#include "recsys/nn/init.hpp"
#include "recsys/nn/module.hpp"
#include "recsys/ops/conv1d.hpp"

namespace recsys::nn {

struct Conv1DOptions {
  std::int64_t stride = 1;
  std::string padding = "valid";  // or "same"
  Activation activation = Activation::none;
  bool use_bias = true;
};

/// (B, T, in_channels) → (B, T_out, filters), then the activation.
class Conv1D : public Module {
 public:
  Conv1D(std::int64_t in_channels, std::int64_t filters, std::int64_t kernel_size, Conv1DOptions options = {},
         Generator& gen = default_generator())
      : options_(std::move(options)) {
    RECSYS_CHECK(in_channels > 0 && filters > 0 && kernel_size > 0,
                 "Conv1D: in_channels, filters and kernel_size must be positive, got ", in_channels, ", ", filters,
                 " and ", kernel_size);
    RECSYS_CHECK(options_.padding == "valid" || options_.padding == "same", "Conv1D: padding must be 'valid' or 'same', got '",
                 options_.padding, "'");
    RECSYS_CHECK(options_.stride > 0, "Conv1D: stride must be positive, got ", options_.stride);
    // Keras's glorot for convolutions counts the receptive field in both fans.
    kernel_ = make_parameter(init::glorot_uniform({kernel_size, in_channels, filters}, kernel_size * in_channels,
                                                  kernel_size * filters, gen));
    if (options_.use_bias) bias_ = make_parameter(zeros({filters}));
  }

  Tensor forward(const Tensor& x) const {
    return apply_activation(conv1d(x, kernel_, bias_, options_.stride, options_.padding), options_.activation);
  }
  Tensor operator()(const Tensor& x) const { return forward(x); }

  std::string name() const override { return "Conv1D"; }
  void visit_parameters(const ParameterVisitor& f) override {
    f("kernel", kernel_);
    if (bias_.defined()) f("bias", bias_);
  }
  const Tensor& kernel() const { return kernel_; }
  const Tensor& bias() const { return bias_; }
  const Conv1DOptions& options() const { return options_; }

 private:
  Tensor kernel_, bias_;
  Conv1DOptions options_;
};

}  // namespace recsys::nn
