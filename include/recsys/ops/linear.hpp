// recsys/ops/linear.hpp — linear(x, w, b) = x·w + b with a Keras-layout weight (in_features, out_features).
#pragma once

#include "recsys/autograd/function.hpp"
#include "recsys/core/tensor.hpp"
#include "recsys/ops/checks.hpp"
#include "recsys/ops/copy.hpp"
#include "recsys/ops/matmul.hpp"
#include "recsys/ops/reduce.hpp"

namespace recsys {

/// x: (..., in), weight: (in, out), bias: (out) or undefined → (..., out). One GEMM; the bias is
/// written first and the product accumulated onto it (beta = 1), so no separate add pass.
inline Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = {}) {
  detail::check_floating("linear", "input", x);
  detail::check_dim("linear", "weight", weight, 2, "(in_features, out_features)");
  detail::check_same("linear", {{"input", &x}, {"weight", &weight}, {"bias", &bias}});
  RECSYS_CHECK(x.dim() >= 1 && x.size(-1) == weight.size(0), "linear: input has shape ", x.shape(),
               " but weight has shape ", weight.shape(), "; the input's last dimension must equal weight's first");
  const std::int64_t out_features = weight.size(1);
  if (bias.defined()) {
    RECSYS_CHECK(bias.dim() == 1 && bias.size(0) == out_features, "linear: bias has shape ", bias.shape(),
                 ", expected [", out_features, "]");
  }
  Shape out_shape = x.shape();
  out_shape[out_shape.size() - 1] = out_features;
  // reshape may return a strided view that GEMM cannot read directly; then it is copied.
  const Tensor x2 = detail::as_matrix_operand(x.reshape({-1, x.size(-1)}));
  const Tensor w = detail::as_matrix_operand(weight);
  Tensor y2 = Tensor::empty({x2.size(0), out_features}, {x.dtype(), x.device()});
  if (bias.defined()) detail::copy_into(y2, bias);
  visit_floating(x.dtype(), "linear", [&]<class T>() {
    detail::batched_gemm<T>(x2, {}, w, {}, y2, T(1), bias.defined() ? T(1) : T(0));
  });
  Tensor y = y2.view(out_shape);  // a plain view: the node below is recorded on y itself
  if (!autograd::should_record(x, weight, bias)) return y;
  const bool need_x = x.requires_grad(), need_w = weight.requires_grad(), need_b = bias.defined() && bias.requires_grad();
  const autograd::SavedTensor sx(need_w ? x2 : Tensor()), sw(need_x ? w : Tensor());
  const Shape in_shape = x.shape();
  autograd::record("linear", {x, weight, bias}, {y}, [=](const autograd::TensorList& g) -> autograd::TensorList {
    const Tensor g2 = g[0].reshape({-1, out_features});
    Tensor gx, gw, gb;
    if (need_x) gx = matmul(g2, sw.get("linear").t()).view(in_shape);
    if (need_w) gw = matmul(sx.get("linear").t(), g2);
    if (need_b) gb = sum(g2, 0);
    return {gx, gw, gb};
  });
  return y;
}

}  // namespace recsys
