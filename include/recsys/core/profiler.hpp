// recsys/core/profiler.hpp — where a step's time goes: every kernel-slot call timed (CPU wall clock, GPU events), grouped by the op that issued it, and its timeline (io/chrome_trace.hpp writes it out).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "recsys/core/device.hpp"
#include "recsys/core/error.hpp"

/// Usage:
///   recsys::profiler::Session session;
///   for (int i = 0; i < 20; ++i) train_step();
///   std::fputs(session.stop().table().c_str(), stdout);
///
/// Every kernel slot (core/dispatch.hpp) and every copy_bytes between devices (core/memory.hpp, named
/// "copy host to device" and so on) times its calls while a session runs: the CPU with the wall
/// clock, CUDA with a pair of events on the current stream (read back at stop(), so the GPU is not
/// synchronized per call). A call is filed under the innermost profiler::Scope open on the calling
/// thread: the autograd engine opens "backward <op>" around each node, nn::Sequential "forward <layer>"
/// around each layer and the optimizers "step <optimizer>"; anything else is filed under "-". A thread
/// with no scope of its own (an OpenMP worker running part of an op, e.g. the CPU LSTM's row bands)
/// files its calls under the session thread's innermost scope. Only the outermost slot call on a
/// thread is timed, so nested slots are not counted twice; calls on different threads overlap, so
/// kernel time is summed over threads and can exceed the wall time. With no session running, the
/// cost per slot call is one relaxed atomic load.
namespace recsys::profiler {

/// CUDA timing, filled in by recsys::cuda::enable(): an event recorded now on the current stream,
/// the milliseconds between two such events (waiting for the second), and handing an event back.
struct DeviceTimer {
  void* (*record)() = nullptr;
  double (*elapsed_ms)(void* start, void* stop) = nullptr;
  void (*release)(void* event) = nullptr;
};
inline DeviceTimer& device_timer() {
  static DeviceTimer timer;
  return timer;
}

/// One row of a report: the calls of one kernel from one scope on one device.
struct KernelStat {
  std::string scope;   // e.g. "backward lstm", "forward Conv1D", "step Adam", or "-"
  std::string kernel;  // the slot's name, e.g. "gemm", "lstm_cell_forward"
  Device device;
  std::int64_t calls = 0;
  double total_ms = 0;
  double max_ms = 0;

  double mean_us() const { return calls > 0 ? total_ms * 1e3 / static_cast<double>(calls) : 0.0; }
  /// Counts n more calls that took total milliseconds together, the longest of them longest.
  void add(std::int64_t n, double total, double longest) {
    calls += n;
    total_ms += total;
    max_ms = std::max(max_ms, longest);
  }
};

/// One call on the session's timeline: start relative to the session's start. GPU calls are placed
/// by their events relative to the device's first timed call, which is pinned to the host time at
/// which it was issued (so host and GPU rows line up to within that call's launch latency).
struct TraceEvent {
  std::string scope;
  std::string kernel;
  Device device;
  int thread = 0;  // host threads in order of their first call (0: usually the session's thread)
  double start_ms = 0;
  double duration_ms = 0;
};

/// What a session measured. GPU rows are stream time from the event before a launch to the event
/// after it, so when the GPU waits for the host to launch (small kernels) that wait is included.
struct Report {
  std::vector<KernelStat> kernels;  // the most total time first
  double wall_ms = 0;               // session start to stop, including draining the GPU's queue
  std::vector<TraceEvent> timeline;  // every call, in the order they were recorded

  double kernel_ms() const {
    double s = 0;
    for (const KernelStat& k : kernels) s += k.total_ms;
    return s;
  }
  std::int64_t calls() const {
    std::int64_t n = 0;
    for (const KernelStat& k : kernels) n += k.calls;
    return n;
  }

  /// The rows summed per scope (kernel "*"), the most total time first.
  std::vector<KernelStat> by_scope() const {
    std::map<std::pair<std::string, std::string>, KernelStat> acc;
    for (const KernelStat& k : kernels) {
      KernelStat& s = acc[{k.scope, to_string(k.device)}];
      if (s.calls == 0) s = {k.scope, "*", k.device};
      s.add(k.calls, k.total_ms, k.max_ms);
    }
    std::vector<KernelStat> out;
    for (auto& [key, s] : acc) out.push_back(std::move(s));
    sort_by_time(out);
    return out;
  }

  /// A fixed-width text table of the first max_rows rows; per_step divides calls and times by the
  /// number of steps the session covered (pass 1 for totals).
  std::string table(std::size_t max_rows = 30, int per_step = 1) const { return format(kernels, max_rows, per_step); }
  std::string scope_table(std::size_t max_rows = 30, int per_step = 1) const {
    return format(by_scope(), max_rows, per_step);
  }

  static void sort_by_time(std::vector<KernelStat>& rows) {
    std::stable_sort(rows.begin(), rows.end(), [](const KernelStat& a, const KernelStat& b) { return a.total_ms > b.total_ms; });
  }

 private:
  std::string format(const std::vector<KernelStat>& rows, std::size_t max_rows, int per_step) const {
    RECSYS_CHECK(per_step >= 1, "profiler::Report::table: per_step must be >= 1, got ", per_step);
    const double div = per_step;
    const char* unit = per_step > 1 ? "per step" : "total";
    std::string out;
    char line[256];
    std::snprintf(line, sizeof line, "%-34s %-22s %-7s %9s %11s %9s %9s %6s\n", "scope", "kernel", "device", "calls",
                  per_step > 1 ? "ms/step" : "ms", "mean us", "max us", "wall%");
    out += line;
    double shown_ms = 0;
    std::int64_t shown_calls = 0;
    for (std::size_t i = 0; i < rows.size() && i < max_rows; ++i) {
      const KernelStat& k = rows[i];
      std::snprintf(line, sizeof line, "%-34.34s %-22.22s %-7s %9.1f %11.3f %9.1f %9.1f %5.1f%%\n", k.scope.c_str(),
                    k.kernel.c_str(), to_string(k.device).c_str(), static_cast<double>(k.calls) / div, k.total_ms / div,
                    k.mean_us(), k.max_ms * 1e3, wall_ms > 0 ? 100.0 * k.total_ms / wall_ms : 0.0);
      out += line;
      shown_ms += k.total_ms;
      shown_calls += k.calls;
    }
    if (rows.size() > max_rows) {
      std::snprintf(line, sizeof line, "%-34s %-22s %-7s %9.1f %11.3f\n", "(other rows)", "", "",
                    static_cast<double>(calls() - shown_calls) / div, (kernel_ms() - shown_ms) / div);
      out += line;
    }
    std::snprintf(line, sizeof line,
                  "%s: wall %.3f ms, in kernels %.3f ms summed over threads (%.1f%% of wall), %.1f kernel calls; "
                  "on one thread the rest is host work between kernels (graph bookkeeping, allocation, launches)\n",
                  unit, wall_ms / div, kernel_ms() / div, wall_ms > 0 ? 100.0 * kernel_ms() / wall_ms : 0.0,
                  static_cast<double>(calls()) / div);
    out += line;
    return out;
  }
};

namespace detail {

struct TimedCall {
  std::string scope;
  const char* kernel;
  Device device;
  double ms = 0;                 // CPU calls
  void* start = nullptr;         // CUDA calls: events, resolved at stop()
  void* stop = nullptr;
  std::chrono::steady_clock::time_point issued{};  // host clock when the call began
  std::thread::id thread{};
};

struct State {
  std::mutex mutex;
  bool open = false;
  std::thread::id session_thread;
  std::string session_scope = "-";  // the session thread's innermost scope, for threads without one
  std::vector<TimedCall> calls;
};
inline State& state() {
  static State s;
  return s;
}
inline std::atomic<bool> running{false};
inline thread_local std::vector<std::string> scopes;  // innermost last
inline thread_local int slot_depth = 0;

/// This thread's innermost scope, "-" outside any.
inline std::string innermost_scope() { return scopes.empty() ? std::string("-") : scopes.back(); }

inline double ms_between(std::chrono::steady_clock::time_point from, std::chrono::steady_clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

/// After this thread's scopes changed: if it is the session's thread, publish its innermost scope.
inline void publish_scope() {
  State& s = state();
  const std::lock_guard lock(s.mutex);
  if (s.open && std::this_thread::get_id() == s.session_thread) s.session_scope = innermost_scope();
}

/// The scope a call on this thread is filed under (caller holds the state's mutex).
inline std::string current_scope(const State& s) {
  if (!scopes.empty() || std::this_thread::get_id() == s.session_thread) return innermost_scope();
  return s.session_scope;
}

/// Hands a call's events back to the device timer's pool (an event that cannot go back is lost, not fatal).
inline void release_events(TimedCall& c) noexcept {
  const DeviceTimer& timer = device_timer();
  for (void** e : {&c.start, &c.stop}) {
    if (*e && timer.release) {
      try {
        timer.release(*e);
      } catch (...) {
      }
    }
    *e = nullptr;
  }
}
inline void release_events(std::vector<TimedCall>& calls) noexcept {
  for (TimedCall& c : calls) release_events(c);
}

}  // namespace detail

/// True while a Session runs.
inline bool active() { return detail::running.load(std::memory_order_relaxed); }

/// Names the work that follows on this thread until the scope closes: "<phase> <name>".
class Scope {
 public:
  Scope(std::string_view phase, std::string_view name) {
    if (!active()) return;
    std::string label(phase);
    if (!name.empty()) label.append(" ").append(name);
    detail::scopes.push_back(std::move(label));
    pushed_ = true;
    detail::publish_scope();
  }
  ~Scope() {
    if (!pushed_) return;
    detail::scopes.pop_back();
    try {
      detail::publish_scope();
    } catch (...) {  // a lock that cannot be taken only costs the label of worker threads' calls
    }
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  bool pushed_ = false;
};

/// Times one kernel-slot call (KernelSlot::operator() makes one per call).
class SlotTimer {
 public:
  SlotTimer(const char* kernel, Device device) : kernel_(kernel), device_(device) {
    if (!active()) return;
    if (detail::slot_depth == 0) {  // nested calls are covered by the outer call's time
      t0_ = std::chrono::steady_clock::now();
      if (device.is_cpu()) {
        timing_ = true;
      } else if (device_timer().record) {
        try {
          start_ = device_timer().record();
          timing_ = true;
        } catch (...) {  // the kernel still runs, untimed
        }
      }
    }
    ++detail::slot_depth;
    counted_ = true;
  }
  ~SlotTimer() {
    if (!counted_) return;
    --detail::slot_depth;
    if (!timing_) return;
    detail::TimedCall c{std::string(), kernel_, device_};
    c.start = start_;
    c.issued = t0_;
    c.thread = std::this_thread::get_id();
    try {
      if (device_.is_cpu())
        c.ms = detail::ms_between(t0_, std::chrono::steady_clock::now());
      else
        c.stop = device_timer().record();
      detail::State& s = detail::state();
      const std::lock_guard lock(s.mutex);
      if (s.open) {
        c.scope = detail::current_scope(s);
        s.calls.push_back(std::move(c));
        return;
      }
    } catch (...) {
      // A profiler that cannot record (out of memory, a failed event) drops this call, not the program.
    }
    detail::release_events(c);  // the session stopped meanwhile, or recording failed
  }
  SlotTimer(const SlotTimer&) = delete;
  SlotTimer& operator=(const SlotTimer&) = delete;

 private:
  const char* kernel_;
  Device device_;
  bool counted_ = false;
  bool timing_ = false;
  std::chrono::steady_clock::time_point t0_{};
  void* start_ = nullptr;
};

/// Profiling runs from construction to stop() (or destruction, which discards the measurements).
/// One session at a time in a process.
class Session {
 public:
  Session() {
    detail::State& s = detail::state();
    const std::lock_guard lock(s.mutex);
    RECSYS_CHECK(!s.open, "profiler::Session: another session is already running; stop it before starting one");
    s.open = true;
    s.session_thread = std::this_thread::get_id();
    s.session_scope = detail::innermost_scope();
    s.calls.clear();
    t0_ = std::chrono::steady_clock::now();
    detail::running.store(true, std::memory_order_relaxed);
  }
  ~Session() {
    if (stopped_) return;
    std::vector<detail::TimedCall> calls = finish();
    detail::release_events(calls);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// Ends the session and returns what it measured (waits for the GPU work it timed).
  Report stop() {
    RECSYS_CHECK(!stopped_, "profiler::Session::stop: this session was already stopped");
    std::vector<detail::TimedCall> calls = finish();
    struct Release {  // events go back to the pool even if reading one fails
      std::vector<detail::TimedCall>& calls;
      ~Release() { detail::release_events(calls); }
    } release{calls};
    std::map<std::tuple<std::string, std::string, int, int>, KernelStat> acc;
    const DeviceTimer& timer = device_timer();
    std::map<std::thread::id, int> threads;
    std::map<int, const detail::TimedCall*> gpu_origin;  // per device: its first timed call
    Report report;
    report.timeline.reserve(calls.size());
    for (detail::TimedCall& c : calls) {
      const double ms = c.start ? timer.elapsed_ms(c.start, c.stop) : c.ms;
      double start_ms = detail::ms_between(t0_, c.issued);
      if (c.start) {
        const detail::TimedCall* origin = gpu_origin.emplace(c.device.index, &c).first->second;
        start_ms = detail::ms_between(t0_, origin->issued) +
                   (origin == &c ? 0.0 : timer.elapsed_ms(origin->start, c.start));
      }
      const int thread = threads.emplace(c.thread, static_cast<int>(threads.size())).first->second;
      report.timeline.push_back({c.scope, c.kernel, c.device, thread, start_ms, ms});
      KernelStat& k = acc[{c.scope, c.kernel, static_cast<int>(c.device.type), c.device.index}];
      if (k.calls == 0) k = {c.scope, c.kernel, c.device};
      k.add(1, ms, ms);
    }
    report.wall_ms = detail::ms_between(t0_, std::chrono::steady_clock::now());
    for (auto& [key, k] : acc) report.kernels.push_back(std::move(k));
    Report::sort_by_time(report.kernels);
    return report;
  }

 private:
  std::vector<detail::TimedCall> finish() {
    stopped_ = true;
    detail::running.store(false, std::memory_order_relaxed);
    detail::State& s = detail::state();
    const std::lock_guard lock(s.mutex);
    s.open = false;
    std::vector<detail::TimedCall> calls = std::move(s.calls);
    s.calls.clear();
    return calls;
  }

  std::chrono::steady_clock::time_point t0_;
  bool stopped_ = false;
};

}  // namespace recsys::profiler
