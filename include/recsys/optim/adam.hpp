// recsys/optim/adam.hpp — Adam (L2 weight decay, AMSGrad) and AdamW (decoupled weight decay), one fused kernel per parameter.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "recsys/core/dispatch.hpp"
#include "recsys/optim/kernels.hpp"
#include "recsys/optim/optimizer.hpp"

namespace recsys::optim {

/// Fused Adam/AdamW update of one contiguous parameter: (param, grad, m, v, vmax or null, n, update).
template <class T>
inline KernelSlot<void(T*, const T*, T*, T*, T*, std::int64_t, AdamUpdate)> adam_update_slot{"adam_update",
                                                                                             &cpu::adam_update<T>};

/// Adam's settings (PyTorch's defaults). Use as `Adam(params, {.lr = 1e-3, .amsgrad = true})`.
struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;  // Adam: L2 penalty added to the gradient; AdamW: decoupled decay of the weights
  bool amsgrad = false;     // keep the running maximum of the second moment (Reddi et al., 2018)
};

/// Adam (Kingma & Ba, 2015) with PyTorch's semantics: per-parameter step counts, bias correction
/// of both moments, and eps added after dividing sqrt(v) by its bias correction:
///   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps).
class Adam : public Optimizer {
 public:
  explicit Adam(std::vector<Tensor> params, AdamOptions options = {}) : Adam("Adam", std::move(params), options, false) {}

  /// The settings, with the current learning rate.
  AdamOptions options() const {
    AdamOptions o = options_;
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
      const Tensor& m = slot(i, 0);
      const Tensor& v = slot(i, 1);
      const Tensor vmax = options_.amsgrad ? slot(i, 2) : Tensor();
      const auto t = static_cast<double>(count_step(i));
      AdamUpdate u;
      u.lr = lr();
      u.beta1 = options_.beta1;
      u.beta2 = options_.beta2;
      u.eps = options_.eps;
      u.weight_decay = options_.weight_decay;
      u.step_size = lr() / (1 - std::pow(options_.beta1, t));
      u.bias_correction2_sqrt = std::sqrt(1 - std::pow(options_.beta2, t));
      u.amsgrad = options_.amsgrad;
      u.decoupled = decoupled_;
      visit_floating(p.dtype(), name_.c_str(), [&]<class T>() {
        adam_update_slot<T>(p.device(), p.data<T>(), g.data<T>(), m.data<T>(), v.data<T>(),
                            vmax.defined() ? vmax.data<T>() : nullptr, p.numel(), u);
      });
      bump(p);
      bump(m);
      bump(v);
      bump(vmax);
    }
  }

  json::Value hyperparameters() const override {
    json::Value h = json::Value::object();
    h["beta1"] = options_.beta1;
    h["beta2"] = options_.beta2;
    h["eps"] = options_.eps;
    h["weight_decay"] = options_.weight_decay;
    h["amsgrad"] = options_.amsgrad;
    return h;
  }

 protected:
  Adam(const char* name, std::vector<Tensor> params, AdamOptions options, bool decoupled)
      : Optimizer(name, std::move(params), options.lr), options_(options), decoupled_(decoupled) {
    RECSYS_CHECK(options.beta1 >= 0 && options.beta1 < 1, name, ": beta1 must be in [0, 1), got ", options.beta1);
    RECSYS_CHECK(options.beta2 >= 0 && options.beta2 < 1, name, ": beta2 must be in [0, 1), got ", options.beta2);
    RECSYS_CHECK(options.eps >= 0 && std::isfinite(options.eps), name, ": eps must be finite and >= 0, got ",
                 options.eps);
    RECSYS_CHECK(options.weight_decay >= 0 && std::isfinite(options.weight_decay), name,
                 ": weight_decay must be finite and >= 0, got ", options.weight_decay);
    init_slots();
  }

  std::vector<std::string> slot_names() const override {
    if (options_.amsgrad) return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
    return {"exp_avg", "exp_avg_sq"};
  }

 private:
  AdamOptions options_;
  bool decoupled_;
};

/// AdamW's settings: Adam's, with PyTorch's AdamW default weight_decay of 0.01.
struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;
  bool amsgrad = false;
};

/// AdamW (Loshchilov & Hutter, 2019): Adam whose weight decay shrinks the weights directly,
/// p *= 1 - lr * weight_decay, before the Adam update, instead of adding to the gradient.
class AdamW : public Adam {
 public:
  explicit AdamW(std::vector<Tensor> params, AdamWOptions o = {})
      : Adam("AdamW", std::move(params), {o.lr, o.beta1, o.beta2, o.eps, o.weight_decay, o.amsgrad}, true) {}
};

}  // namespace recsys::optim
