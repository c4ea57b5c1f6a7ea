// recsys/core/interrupt.hpp — stopping a training loop at its next step on request (SIGINT/SIGTERM in the recsys command): one process-wide flag, set from a signal handler, read by every loop.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "recsys/core/error.hpp"

namespace recsys {

namespace interrupt_detail {
/// The signal number that asked to stop (0: none). A lock-free atomic, so a signal handler may store to
/// it; constant-initialized, so there is no first-use initialization for a handler to race.
inline std::atomic<int> requested{0};
static_assert(std::atomic<int>::is_always_lock_free);
}  // namespace interrupt_detail

/// Asks every training loop to stop at its next step. Safe to call from a signal handler.
inline void request_interrupt(int signal_number) noexcept {
  interrupt_detail::requested.store(signal_number == 0 ? -1 : signal_number, std::memory_order_relaxed);
}
/// Whether a stop was requested (and not cleared since).
inline bool interrupted() noexcept { return interrupt_detail::requested.load(std::memory_order_relaxed) != 0; }
/// The signal that asked to stop (-1 when request_interrupt(0) asked without one), or 0.
inline int interrupt_signal() noexcept { return interrupt_detail::requested.load(std::memory_order_relaxed); }
/// Forgets a request (tests; a program that keeps running after handling one).
inline void clear_interrupt() noexcept { interrupt_detail::requested.store(0, std::memory_order_relaxed); }

/// Thrown where a loop stops because a stop was requested; what() says where ("interrupted at epoch 2,
/// step 17"). It is an Error, so code that cleans up on errors (a run folder being written) cleans up.
class Interrupted : public Error {
 public:
  Interrupted(const std::string& what, int signal_number) : Error(what), signal_(signal_number) {}
  int signal_number() const noexcept { return signal_; }

 private:
  int signal_;
};

/// Every training loop calls this once per step, beside check_finite_loss: when a stop was requested it
/// throws Interrupted naming the epoch and step (counted from 1, as the progress bar shows them), before
/// the step changes any weight.
inline void check_interrupt(int epoch, std::int64_t step) {
  if (!interrupted()) [[likely]]
    return;
  throw Interrupted("interrupted at epoch " + std::to_string(epoch) + ", step " + std::to_string(step),
                    interrupt_signal());
}

}  // namespace recsys
