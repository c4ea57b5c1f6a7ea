// recsys/optim/sgd.hpp — stochastic gradient descent with momentum, dampening, Nesterov and weight decay, one fused kernel per parameter.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "recsys/core/dispatch.hpp"
#include "recsys/optim/kernels.hpp"
#include "recsys/optim/optimizer.hpp"

namespace recsys::optim {

/// Fused SGD update of one contiguous parameter: (param, grad, momentum buffer or null, n, update).
template <class T>
inline KernelSlot<void(T*, const T*, T*, std::int64_t, SgdUpdate)> sgd_update_slot{"sgd_update", &cpu::sgd_update<T>};

/// SGD's settings. Use as `SGD(params, {.lr = 0.1, .momentum = 0.9, .nesterov = true})`.
struct SgdOptions {
  double lr = 1e-2;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;  // L2 penalty: weight_decay * param is added to the gradient
  bool nesterov = false;
};

/// SGD with PyTorch's semantics:
///   d = g + wd p;  b = d at the first step, else momentum b + (1 - dampening) d;
///   d = nesterov ? d + momentum b : b;  p -= lr d.
class SGD : public Optimizer {
 public:
  explicit SGD(std::vector<Tensor> params, SgdOptions options = {})
      : Optimizer("SGD", std::move(params), options.lr), options_(options) {
    RECSYS_CHECK(options.momentum >= 0 && std::isfinite(options.momentum), "SGD: momentum must be finite and >= 0, got ",
                 options.momentum);
    RECSYS_CHECK(std::isfinite(options.dampening), "SGD: dampening must be finite, got ", options.dampening);
    RECSYS_CHECK(options.weight_decay >= 0 && std::isfinite(options.weight_decay),
                 "SGD: weight_decay must be finite and >= 0, got ", options.weight_decay);
    RECSYS_CHECK(!options.nesterov || (options.momentum > 0 && options.dampening == 0),
                 "SGD: Nesterov momentum needs momentum > 0 and dampening == 0 (got momentum ", options.momentum,
                 ", dampening ", options.dampening, ")");
    init_slots();
  }

  /// The settings, with the current learning rate.
  SgdOptions options() const {
    SgdOptions o = options_;
    o.lr = lr();
    return o;
  }

  void step() override {
    NoGradGuard no_grad;
    const profiler::Scope scope("step", name());
    for (std::size_t i = 0; i < params_.size(); ++i) {
      const Tensor g = gradient(i);
      if (!g.defined()) continue;
      const Tensor& p = params_[i];
      const Tensor buf = options_.momentum != 0 ? slot(i, 0) : Tensor();
      SgdUpdate u;
      u.lr = lr();
      u.momentum = options_.momentum;
      u.dampening = options_.dampening;
      u.weight_decay = options_.weight_decay;
      u.nesterov = options_.nesterov;
      u.first_step = count_step(i) == 1;
      visit_floating(p.dtype(), "SGD", [&]<class T>() {
        sgd_update_slot<T>(p.device(), p.data<T>(), g.data<T>(), buf.defined() ? buf.data<T>() : nullptr, p.numel(), u);
      });
      bump(p);
      bump(buf);
    }
  }

  json::Value hyperparameters() const override {
    json::Value h = json::Value::object();
    h["momentum"] = options_.momentum;
    h["dampening"] = options_.dampening;
    h["weight_decay"] = options_.weight_decay;
    h["nesterov"] = options_.nesterov;
    return h;
  }

 protected:
  std::vector<std::string> slot_names() const override {
    if (options_.momentum != 0) return {"momentum_buffer"};
    return {};
  }

 private:
  SgdOptions options_;
};

}  // namespace recsys::optim
