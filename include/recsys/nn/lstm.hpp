// recsys/nn/lstm.hpp — LSTM: a recurrent layer over (B, T, input) sequences, Keras weight layout and initializers.
#pragma once

#include <cstdint>
#include <string>

#include "recsys/core/factory.hpp"
#include "recsys/nn/init.hpp"
#include "recsys/nn/module.hpp"
#include "recsys/ops/lstm.hpp"

namespace recsys::nn {

struct LSTMOptions {
  bool return_sequences = false;  // all steps (B, T, H) instead of the last (B, H)
};

/// Keras's LSTM(units): kernel (I, 4H) glorot_uniform, recurrent_kernel (H, 4H) orthogonal, bias zeros
/// with the forget gate's quarter set to 1 (unit_forget_bias). Gate order i, f, g (Keras's c), o.
/// forward() returns the output only, so the layer composes in a Sequential; forward_with_state()
/// returns the final (h, c) too and accepts initial states — Keras's return_state.
class LSTM : public Module {
 public:
  LSTM(std::int64_t input_size, std::int64_t hidden_size, LSTMOptions options = {},
       Generator& gen = default_generator())
      : hidden_(hidden_size), options_(options) {
    RECSYS_CHECK(input_size > 0 && hidden_size > 0, "LSTM: input_size and hidden_size must be positive, got ",
                 input_size, " and ", hidden_size);
    kernel_ = make_parameter(init::glorot_uniform({input_size, 4 * hidden_size}, input_size, 4 * hidden_size, gen));
    recurrent_kernel_ = make_parameter(init::orthogonal(hidden_size, 4 * hidden_size, gen));
    Tensor bias = zeros({4 * hidden_size});
    bias.slice(0, hidden_size, 2 * hidden_size).fill_(1.0);
    bias_ = make_parameter(bias);
  }

  /// (B, T, I) → (B, H), or (B, T, H) with return_sequences.
  Tensor forward(const Tensor& x) const { return forward_with_state(x).output; }
  Tensor operator()(const Tensor& x) const { return forward(x); }

  /// Output (as forward()) plus the final hidden and cell states; h0/c0 default to zeros.
  LstmResult forward_with_state(const Tensor& x, const Tensor& h0 = {}, const Tensor& c0 = {}) const {
    LstmResult r = lstm(x, kernel_, recurrent_kernel_, bias_, h0, c0, options_.return_sequences);
    if (!options_.return_sequences) r.output = r.h;
    return r;
  }

  std::string name() const override { return "LSTM"; }
  void visit_parameters(const ParameterVisitor& f) override {
    f("kernel", kernel_);
    f("recurrent_kernel", recurrent_kernel_);
    f("bias", bias_);
  }
  std::int64_t hidden_size() const { return hidden_; }
  const Tensor& kernel() const { return kernel_; }
  const Tensor& recurrent_kernel() const { return recurrent_kernel_; }
  const Tensor& bias() const { return bias_; }

 private:
  Tensor kernel_, recurrent_kernel_, bias_;
  std::int64_t hidden_;
  LSTMOptions options_;
};

}  // namespace recsys::nn
