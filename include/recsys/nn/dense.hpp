// recsys/nn/dense.hpp — Dense: a fully connected layer, kernel (in, out) as in Keras, with an optional activation.
#pragma once

#include <cstdint>
#include <string>

#include "recsys/core/factory.hpp"
#include "recsys/nn/activation.hpp"
#include "recsys/nn/init.hpp"
#include "recsys/nn/module.hpp"
#include "recsys/ops/linear.hpp"

namespace recsys::nn {

/// y = activation(x · kernel + bias), applied over the last dimension of x.
class Dense : public Module {
 public:
  Dense(std::int64_t in_features, std::int64_t units, Activation activation = Activation::none, bool use_bias = true,
        Generator& gen = default_generator())
      : activation_(activation) {
    RECSYS_CHECK(in_features > 0 && units > 0, "Dense: in_features and units must be positive, got ", in_features,
                 " and ", units);
    kernel_ = make_parameter(init::glorot_uniform({in_features, units}, in_features, units, gen));
    if (use_bias) bias_ = make_parameter(zeros({units}));
  }

  Tensor forward(const Tensor& x) const { return apply_activation(linear(x, kernel_, bias_), activation_); }
  Tensor operator()(const Tensor& x) const { return forward(x); }

  std::string name() const override { return "Dense"; }
  void visit_parameters(const ParameterVisitor& f) override {
    f("kernel", kernel_);
    if (bias_.defined()) f("bias", bias_);
  }
  const Tensor& kernel() const { return kernel_; }
  const Tensor& bias() const { return bias_; }

 private:
  Tensor kernel_, bias_;
  Activation activation_;
};

}  // namespace recsys::nn
