// recsys/nn/layer_norm.hpp — LayerNorm: normalisation over the last dimension with a learned scale (gamma) and shift (beta).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "recsys/core/factory.hpp"
#include "recsys/nn/module.hpp"
#include "recsys/ops/layer_norm.hpp"

namespace recsys::nn {

/// y = (x - mean) / sqrt(var + eps) · gamma + beta over the last dimension (size `dim`), PyTorch's
/// LayerNorm; gamma starts at 1 and beta at 0. Parameters are named as Keras names them.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(std::int64_t dim, double eps = 1e-5, bool affine = true) : eps_(eps) {
    RECSYS_CHECK(dim > 0, "LayerNorm: dim must be positive, got ", dim);
    RECSYS_CHECK(eps >= 0 && std::isfinite(eps), "LayerNorm: eps must be finite and non-negative, got ", eps);
    if (affine) {
      gamma_ = make_parameter(ones({dim}));
      beta_ = make_parameter(zeros({dim}));
    }
    dim_ = dim;
  }

  Tensor forward(const Tensor& x) const {
    RECSYS_CHECK(x.defined() && x.dim() >= 1 && x.size(-1) == dim_, "LayerNorm: input has shape ",
                 x.defined() ? x.shape() : Shape{}, " but the layer normalises a last dimension of ", dim_);
    return layer_norm(x, gamma_, beta_, eps_);
  }
  Tensor operator()(const Tensor& x) const { return forward(x); }

  std::string name() const override { return "LayerNorm"; }
  void visit_parameters(const ParameterVisitor& f) override {
    if (gamma_.defined()) f("gamma", gamma_);
    if (beta_.defined()) f("beta", beta_);
  }
  std::int64_t dim() const { return dim_; }
  double eps() const { return eps_; }
  const Tensor& gamma() const { return gamma_; }
  const Tensor& beta() const { return beta_; }

 private:
  Tensor gamma_, beta_;
  std::int64_t dim_ = 0;
  double eps_;
};

}  // namespace recsys::nn
