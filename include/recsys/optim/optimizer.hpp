// recsys/optim/optimizer.hpp — the Optimizer base: parameters, learning rate, zero_grad, per-parameter state and its export for checkpoints.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "recsys/core/factory.hpp"
#include "recsys/core/profiler.hpp"
#include "recsys/core/tensor.hpp"
#include "recsys/io/json.hpp"
#include "recsys/ops/checks.hpp"

namespace recsys::optim {

/// An optimizer's state for a checkpoint. `tensors` are named "<parameter index>.<buffer>" (like
/// PyTorch's state_dict: "0.exp_avg", "3.momentum_buffer") and alias the optimizer's live buffers
/// (clone them to keep a snapshot); `scalars` holds the type, lr, hyper-parameters and step counts.
struct OptimizerState {
  NamedTensors tensors;
  json::Value scalars;
};

/// Base class of the optimizers. A parameter is a contiguous floating-point leaf tensor; step()
/// skips parameters whose grad() is undefined (they did not take part in the loss), as PyTorch does.
/// Per-parameter buffers ("slots", e.g. Adam's moments) are created at a parameter's first update.
class Optimizer {
 public:
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;
  virtual ~Optimizer() = default;

  /// Applies one update to every parameter that has a gradient.
  virtual void step() = 0;

  /// Sets every existing gradient to zero in place (the buffers stay allocated for the next backward).
  void zero_grad() const {
    const profiler::Scope scope("zero_grad", name_);
    for (const Tensor& p : params_) p.zero_grad();
  }

  double lr() const { return lr_; }
  /// Changes the learning rate (what schedulers call between epochs).
  void set_lr(double lr) {
    check_lr(lr);
    lr_ = lr;
  }
  const std::vector<Tensor>& params() const { return params_; }
  const std::string& name() const { return name_; }
  /// How many updates parameter i has received (parameters without a gradient at a step are not counted).
  std::int64_t step_count(std::size_t i) const { return steps_.at(i); }

  /// The hyper-parameters other than lr, as a JSON object (recorded in checkpoints).
  virtual json::Value hyperparameters() const = 0;

  /// The optimizer's state; see OptimizerState.
  OptimizerState state() const {
    OptimizerState s;
    s.scalars = json::Value::object();
    s.scalars["type"] = name_;
    s.scalars["lr"] = lr_;
    s.scalars["hyperparameters"] = hyperparameters();
    json::Value steps = json::Value::array();
    for (std::int64_t n : steps_) steps.push_back(n);
    s.scalars["steps"] = std::move(steps);
    const std::vector<std::string> names = slot_names();
    for (std::size_t i = 0; i < params_.size(); ++i)
      for (std::size_t k = 0; k < names.size(); ++k)
        if (slots_[i][k].defined()) s.tensors.emplace_back(std::to_string(i) + "." + names[k], slots_[i][k]);
    return s;
  }

  /// Throws (naming the problem) unless `s` is a complete state for this optimizer: same type, same
  /// hyper-parameters (lr may differ: schedulers change it), one step count per parameter, and for
  /// every parameter that has taken a step, every buffer with the parameter's dtype and shape.
  void check_state(const OptimizerState& s) const { (void)parse_state(s); }

  /// Restores a state produced by state() (possibly read back from a checkpoint): lr, step counts
  /// and buffers. Validates everything first (check_state), so a failure changes nothing.
  void load_state(const OptimizerState& s) {
    ParsedState parsed = parse_state(s);
    NoGradGuard no_grad;
    for (auto& per_param : parsed.slots)
      for (Tensor& t : per_param)
        if (t.defined()) t = t.clone();  // own the buffers: never alias the caller's tensors
    lr_ = parsed.lr;
    steps_ = std::move(parsed.steps);
    slots_ = std::move(parsed.slots);
  }

 protected:
  Optimizer(std::string name, std::vector<Tensor> params, double lr) : name_(std::move(name)), params_(std::move(params)) {
    const char* op = name_.c_str();
    RECSYS_CHECK(!params_.empty(), op, ": got an empty parameter list");
    for (std::size_t i = 0; i < params_.size(); ++i) {
      const Tensor& p = params_[i];
      RECSYS_CHECK(p.defined(), op, ": parameter ", i, " is an undefined tensor");
      RECSYS_CHECK(p.is_floating_point(), op, ": parameter ", i, " must be float32 or float64, got ", p.dtype());
      RECSYS_CHECK(p.is_leaf(), op, ": parameter ", i, " is not a leaf tensor (it was computed by '", p.grad_fn()->name,
                   "'); optimize the tensors the computation starts from");
      RECSYS_CHECK(p.is_contiguous(), op, ": parameter ", i, " is not contiguous (shape ", p.shape(), ", strides ",
                   p.strides(), ")");
      for (std::size_t j = 0; j < i; ++j)
        RECSYS_CHECK(!shares_memory(p, params_[j]), op, ": parameters ", j, " and ", i, " share memory");
    }
    check_lr(lr);
    lr_ = lr;
    steps_.assign(params_.size(), 0);
  }

  /// Names of the per-parameter buffers, fixed at construction (e.g. {"exp_avg", "exp_avg_sq"}).
  virtual std::vector<std::string> slot_names() const = 0;

  /// Call once the subclass knows its slot names (end of its constructor).
  void init_slots() { slots_.assign(params_.size(), std::vector<Tensor>(slot_names().size())); }

  /// Buffer k of parameter i, created as zeros on first use.
  const Tensor& slot(std::size_t i, std::size_t k) {
    Tensor& t = slots_[i][k];
    if (!t.defined()) t = zeros_like(params_[i]);
    return t;
  }

  /// The gradient of parameter i ready for a kernel (contiguous; same dtype, device and shape), or
  /// an undefined tensor when the parameter has none.
  Tensor gradient(std::size_t i) const {
    const Tensor& p = params_[i];
    const Tensor g = p.grad();
    if (!g.defined()) return g;
    const char* op = name_.c_str();
    RECSYS_CHECK(g.shape() == p.shape(), op, ": gradient of parameter ", i, " has shape ", g.shape(),
                 " but the parameter has shape ", p.shape());
    detail::check_same(op, {{"parameter", &p}, {"gradient", &g}});
    return g.contiguous();
  }

  /// Counts an update of parameter i and returns the new count.
  std::int64_t count_step(std::size_t i) { return ++steps_[i]; }

  /// Marks tensors written by a kernel, so autograd detects stale saved copies.
  static void bump(const Tensor& t) {
    if (t.defined()) t.impl()->storage->bump_version();
  }

  std::string name_;
  std::vector<Tensor> params_;

 private:
  void check_lr(double lr) const {
    RECSYS_CHECK(std::isfinite(lr) && lr >= 0, name_, ": learning rate must be finite and >= 0, got ", lr);
  }

  static bool shares_memory(const Tensor& a, const Tensor& b) {
    if (a.impl()->storage != b.impl()->storage) return false;
    const std::int64_t a0 = a.storage_offset(), a1 = a0 + a.numel();
    const std::int64_t b0 = b.storage_offset(), b1 = b0 + b.numel();
    return a0 < b1 && b0 < a1;
  }

  struct ParsedState {
    double lr = 0;
    std::vector<std::int64_t> steps;
    std::vector<std::vector<Tensor>> slots;
  };

  ParsedState parse_state(const OptimizerState& s) const {
    const char* op = name_.c_str();
    const json::Value& sc = s.scalars;
    RECSYS_CHECK(sc.is_object(), op, ": optimizer state scalars must be a JSON object, got ", json::type_name(sc.type()));
    const json::Value* type = sc.find("type");
    RECSYS_CHECK(type && type->is_string(), op, ": optimizer state has no \"type\"");
    RECSYS_CHECK(type->as_string() == name_, op, ": the state belongs to a ", type->as_string(),
                 " optimizer, not ", name_);
    const json::Value* hyper = sc.find("hyperparameters");
    RECSYS_CHECK(hyper && hyper->is_object(), op, ": optimizer state has no \"hyperparameters\" object");
    const json::Value mine = hyperparameters();
    for (const auto& [key, value] : mine.as_object()) {
      const json::Value* theirs = hyper->find(key);
      RECSYS_CHECK(theirs != nullptr, op, ": optimizer state has no hyper-parameter '", key, "'");
      RECSYS_CHECK(*theirs == value, op, ": the state was saved with ", key, " = ", json::dump(*theirs),
                   " but this optimizer has ", key, " = ", json::dump(value));
    }
    RECSYS_CHECK(hyper->size() == mine.size(), op, ": optimizer state has hyper-parameters this optimizer does not know (",
                 json::dump(*hyper), ")");

    ParsedState out;
    const json::Value* lr = sc.find("lr");
    RECSYS_CHECK(lr && lr->is_number(), op, ": optimizer state has no numeric \"lr\"");
    out.lr = lr->as_double();
    check_lr(out.lr);

    const json::Value* steps = sc.find("steps");
    RECSYS_CHECK(steps && steps->is_array(), op, ": optimizer state has no \"steps\" array");
    RECSYS_CHECK(steps->size() == params_.size(), op, ": optimizer state has step counts for ", steps->size(),
                 " parameters, this optimizer has ", params_.size());
    for (const json::Value& n : steps->as_array()) {
      RECSYS_CHECK(n.is_integer() && n.as_double() >= 0 && n.as_double() < 9.2e18, op,
                   ": optimizer state step counts must be non-negative integers, got ", json::dump(n));
      out.steps.push_back(n.as_int64());
    }

    const std::vector<std::string> names = slot_names();
    out.slots.assign(params_.size(), std::vector<Tensor>(names.size()));
    for (const auto& [tname, t] : s.tensors) {
      const std::size_t dot = tname.find('.');
      std::size_t index = params_.size();
      const bool numeric = dot != std::string::npos && dot > 0 &&
                           std::from_chars(tname.data(), tname.data() + dot, index).ptr == tname.data() + dot;
      RECSYS_CHECK(numeric && index < params_.size(), op, ": unexpected optimizer state tensor '", tname,
                   "' (expected <parameter index>.<buffer> with an index below ", params_.size(), ")");
      const std::string_view buffer = std::string_view(tname).substr(dot + 1);
      std::size_t k = 0;
      while (k < names.size() && names[k] != buffer) ++k;
      RECSYS_CHECK(k < names.size(), op, ": unexpected optimizer state tensor '", tname, "' (", name_,
                   " keeps no buffer named '", buffer, "')");
      RECSYS_CHECK(!out.slots[index][k].defined(), op, ": optimizer state tensor '", tname, "' appears twice");
      const Tensor& p = params_[index];
      RECSYS_CHECK(t.defined() && t.dtype() == p.dtype() && t.shape() == p.shape(), op, ": optimizer state tensor '",
                   tname, "' is ", t.defined() ? dtype_name(t.dtype()) : "undefined", " ",
                   t.defined() ? t.shape() : Shape{}, " but parameter ", index, " is ", p.dtype(), " ", p.shape());
      out.slots[index][k] = t.device() == p.device() ? t : t.to(p.device());
    }
    for (std::size_t i = 0; i < params_.size(); ++i)
      for (std::size_t k = 0; k < names.size(); ++k)
        RECSYS_CHECK(out.slots[i][k].defined() == (out.steps[i] > 0), op, ": optimizer state for parameter ", i,
                     out.steps[i] > 0 ? " has taken steps but lacks '" : " has taken no step but has '", i, ".",
                     names[k], "'");
    return out;
  }

  double lr_ = 0;
  std::vector<std::int64_t> steps_;
  std::vector<std::vector<Tensor>> slots_;
};

}  // namespace recsys::optim
