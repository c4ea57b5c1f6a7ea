// recsys/optim/lr_scheduler.hpp — per-epoch learning-rate schedules: StepLR, ExponentialLR, CosineAnnealingLR.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>

#include "recsys/io/json.hpp"
#include "recsys/optim/optimizer.hpp"

namespace recsys::optim {

/// A schedule lr(epoch) applied to an optimizer. The base lr is the optimizer's lr at construction
/// (epoch 0); step() advances one epoch and sets the optimizer's lr. Every schedule is a closed-form
/// function of the epoch, so resuming from a checkpoint (set_epoch) gives exactly the uninterrupted rates.
class LRScheduler {
 public:
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;
  virtual ~LRScheduler() = default;

  /// The learning rate for `epoch` (>= 0).
  virtual double lr_at(std::int64_t epoch) const = 0;
  virtual const char* name() const = 0;

  /// Ends an epoch: moves to the next one and updates the optimizer's lr.
  void step() { set_epoch(epoch_ + 1); }
  /// Jumps to `epoch` (e.g. when resuming) and updates the optimizer's lr.
  void set_epoch(std::int64_t epoch) {
    RECSYS_CHECK(epoch >= 0, name(), ": epoch must be >= 0, got ", epoch);
    epoch_ = epoch;
    optimizer_.set_lr(lr_at(epoch));
  }
  std::int64_t epoch() const { return epoch_; }
  double base_lr() const { return base_lr_; }

  /// {"type", "epoch", "base_lr"} for checkpoints.
  json::Value state() const {
    json::Value s = json::Value::object();
    s["type"] = name();
    s["epoch"] = epoch_;
    s["base_lr"] = base_lr_;
    return s;
  }
  /// Throws unless `s` is a state of this kind of scheduler.
  void check_state(const json::Value& s) const {
    RECSYS_CHECK(s.is_object() && s.contains("type") && s.at("type").is_string(), name(),
                 ": scheduler state must be an object with a \"type\"");
    RECSYS_CHECK(s.at("type").as_string() == name(), name(), ": the state belongs to a ", s.at("type").as_string());
    RECSYS_CHECK(s.contains("epoch") && s.at("epoch").is_integer() && s.at("epoch").as_double() >= 0, name(),
                 ": scheduler state needs a non-negative integer \"epoch\"");
    RECSYS_CHECK(s.contains("base_lr") && s.at("base_lr").is_number() && s.at("base_lr").as_double() >= 0, name(),
                 ": scheduler state needs a non-negative \"base_lr\"");
  }
  /// Restores base lr and epoch (validated first), and sets the optimizer's lr for that epoch.
  void load_state(const json::Value& s) {
    check_state(s);
    base_lr_ = s.at("base_lr").as_double();
    set_epoch(s.at("epoch").as_int64());
  }

 protected:
  explicit LRScheduler(Optimizer& optimizer) : optimizer_(optimizer), base_lr_(optimizer.lr()) {}

 private:
  Optimizer& optimizer_;
  double base_lr_;
  std::int64_t epoch_ = 0;
};

/// lr = base_lr * gamma^floor(epoch / step_size).
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, std::int64_t step_size, double gamma = 0.1)
      : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
    RECSYS_CHECK(step_size >= 1, "StepLR: step_size must be >= 1, got ", step_size);
    RECSYS_CHECK(gamma >= 0 && std::isfinite(gamma), "StepLR: gamma must be finite and >= 0, got ", gamma);
  }
  double lr_at(std::int64_t epoch) const override {
    return base_lr() * std::pow(gamma_, static_cast<double>(epoch / step_size_));
  }
  const char* name() const override { return "StepLR"; }

 private:
  std::int64_t step_size_;
  double gamma_;
};

/// lr = base_lr * gamma^epoch.
class ExponentialLR : public LRScheduler {
 public:
  ExponentialLR(Optimizer& optimizer, double gamma) : LRScheduler(optimizer), gamma_(gamma) {
    RECSYS_CHECK(gamma >= 0 && std::isfinite(gamma), "ExponentialLR: gamma must be finite and >= 0, got ", gamma);
  }
  double lr_at(std::int64_t epoch) const override { return base_lr() * std::pow(gamma_, static_cast<double>(epoch)); }
  const char* name() const override { return "ExponentialLR"; }

 private:
  double gamma_;
};

/// lr = eta_min + (base_lr - eta_min) (1 + cos(pi epoch / t_max)) / 2 (SGDR without restarts; past
/// t_max the cosine continues, as PyTorch's does).
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, std::int64_t t_max, double eta_min = 0)
      : LRScheduler(optimizer), t_max_(t_max), eta_min_(eta_min) {
    RECSYS_CHECK(t_max >= 1, "CosineAnnealingLR: t_max must be >= 1, got ", t_max);
    RECSYS_CHECK(eta_min >= 0 && std::isfinite(eta_min), "CosineAnnealingLR: eta_min must be finite and >= 0, got ",
                 eta_min);
  }
  double lr_at(std::int64_t epoch) const override {
    const double c = std::cos(std::numbers::pi * static_cast<double>(epoch) / static_cast<double>(t_max_));
    return eta_min_ + (base_lr() - eta_min_) * (1 + c) / 2;
  }
  const char* name() const override { return "CosineAnnealingLR"; }

 private:
  std::int64_t t_max_;
  double eta_min_;
};

}  // namespace recsys::optim
