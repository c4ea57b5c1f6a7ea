// recsys/autograd/grad_mode.hpp — whether ops record history (per thread), and NoGradGuard to turn it off.
#pragma once

namespace recsys::autograd {

namespace detail {
inline bool& grad_mode_flag() {
  thread_local bool enabled = true;
  return enabled;
}
}  // namespace detail

/// True when ops on tensors that require grad record a backward node (the default).
inline bool grad_enabled() { return detail::grad_mode_flag(); }

/// Sets grad mode for the current thread until the guard goes out of scope.
class GradModeGuard {
 public:
  explicit GradModeGuard(bool enabled) : previous_(grad_enabled()) { detail::grad_mode_flag() = enabled; }
  ~GradModeGuard() { detail::grad_mode_flag() = previous_; }
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;

 private:
  bool previous_;
};

/// Turns recording off in a scope: inference, optimizer updates, metric computation.
class NoGradGuard : public GradModeGuard {
 public:
  NoGradGuard() : GradModeGuard(false) {}
};

}  // namespace recsys::autograd

namespace recsys {
using autograd::NoGradGuard;
}
