// recsys/nn/activation.hpp — the activations a layer can apply to its output (Keras's `activation=` argument).
#pragma once

#include <cstdint>
#include <string>

#include "recsys/ops/softmax.hpp"
#include "recsys/ops/unary.hpp"

namespace recsys::nn {

enum class Activation : std::uint8_t { none, relu, sigmoid, tanh, softmax };

inline std::string activation_name(Activation a) {
  switch (a) {
    case Activation::none: return "linear";
    case Activation::relu: return "relu";
    case Activation::sigmoid: return "sigmoid";
    case Activation::tanh: return "tanh";
    case Activation::softmax: return "softmax";
  }
  return "?";
}

/// Parses Keras's names ("linear"/"none", "relu", "sigmoid", "tanh", "softmax").
inline Activation parse_activation(const std::string& s) {
  if (s == "linear" || s == "none" || s.empty()) return Activation::none;
  if (s == "relu") return Activation::relu;
  if (s == "sigmoid") return Activation::sigmoid;
  if (s == "tanh") return Activation::tanh;
  if (s == "softmax") return Activation::softmax;
  RECSYS_FAIL("activation: unknown activation '", s, "' (expected linear, relu, sigmoid, tanh or softmax)");
}

inline Tensor apply_activation(const Tensor& x, Activation a) {
  switch (a) {
    case Activation::none: return x;
    case Activation::relu: return relu(x);
    case Activation::sigmoid: return sigmoid(x);
    case Activation::tanh: return recsys::tanh(x);
    case Activation::softmax: return softmax(x, -1);
  }
  return x;
}

}  // namespace recsys::nn
