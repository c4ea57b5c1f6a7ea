// tests/core/profiler_test.cpp — profiler::Session: slot calls counted and filed under their scope, nested slots once, the GPU timer's events all handed back.
#include <doctest/doctest.h>

#include <recsys/nn/dense.hpp>
#include <recsys/nn/sequential.hpp>
#include <recsys/io/chrome_trace.hpp>
#include <recsys/optim/adam.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>

#include "test_util.hpp"

using namespace recsys;

namespace {

/// Busy-waits about `us` microseconds (sleeping would let the scheduler stretch it arbitrarily).
void spin_for_us(int us) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
  while (std::chrono::steady_clock::now() < until) {
  }
}

void profiler_test_leaf(int us) { spin_for_us(us); }
inline KernelSlot<void(int)> profiler_test_leaf_slot{"test_leaf", &profiler_test_leaf, &profiler_test_leaf};

void profiler_test_outer(int us) {
  profiler_test_leaf_slot(Device::cpu(), us);  // a slot inside a slot: only the outer call is timed
  profiler_test_leaf_slot(Device::cpu(), us);
}
inline KernelSlot<void(int)> profiler_test_outer_slot{"test_outer", &profiler_test_outer};

void profiler_test_throw(int) { throw std::runtime_error("kernel failed"); }
inline KernelSlot<void(int)> profiler_test_throw_slot{"test_throw", &profiler_test_throw};

const profiler::KernelStat* find_row(const profiler::Report& r, const std::string& scope, const std::string& kernel) {
  for (const profiler::KernelStat& k : r.kernels)
    if (k.scope == scope && k.kernel == kernel) return &k;
  return nullptr;
}

/// A stand-in GPU timer: each "event" is a slot in a table holding the host time it was recorded at.
struct FakeTimer {
  static inline std::map<std::intptr_t, double> recorded;  // live events -> time in ms
  static inline std::intptr_t next = 1;
  static inline int released = 0;
  static void* record() {
    const double now = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
    recorded[next] = now;
    return reinterpret_cast<void*>(next++);
  }
  static double elapsed_ms(void* a, void* b) {
    return recorded.at(reinterpret_cast<std::intptr_t>(b)) - recorded.at(reinterpret_cast<std::intptr_t>(a));
  }
  static void release(void* e) {
    CHECK(recorded.erase(reinterpret_cast<std::intptr_t>(e)) == 1);  // each event handed back exactly once
    ++released;
  }
};

/// Installs the fake timer for a scope and restores whatever was there.
struct FakeTimerGuard {
  profiler::DeviceTimer saved = profiler::device_timer();
  FakeTimerGuard() {
    FakeTimer::recorded.clear();
    FakeTimer::released = 0;
    profiler::device_timer() = {&FakeTimer::record, &FakeTimer::elapsed_ms, &FakeTimer::release};
  }
  ~FakeTimerGuard() { profiler::device_timer() = saved; }
};

}  // namespace

TEST_CASE("profiler: slot calls are counted and timed only while a session runs") {
  profiler_test_leaf_slot(Device::cpu(), 1);  // before: not recorded
  CHECK_FALSE(profiler::active());
  profiler::Session session;
  CHECK(profiler::active());
  for (int i = 0; i < 3; ++i) profiler_test_leaf_slot(Device::cpu(), 200);
  const profiler::Report r = session.stop();
  CHECK_FALSE(profiler::active());
  profiler_test_leaf_slot(Device::cpu(), 1);  // after: not recorded either
  REQUIRE(r.kernels.size() == 1);
  const profiler::KernelStat& k = r.kernels[0];
  CHECK(k.scope == "-");
  CHECK(k.kernel == "test_leaf");
  CHECK(k.device == Device::cpu());
  CHECK(k.calls == 3);
  CHECK(k.total_ms >= 0.6);
  CHECK(k.max_ms >= 0.2);
  CHECK(k.max_ms <= k.total_ms);
  CHECK(k.mean_us() == doctest::Approx(k.total_ms * 1e3 / 3));
  CHECK(r.wall_ms >= r.kernel_ms());
  CHECK(r.calls() == 3);
}

TEST_CASE("profiler: copies between devices are timed too, named by direction") {
  std::vector<float> src(1000, 1.0f), dst(1000, 0.0f);
  profiler::Session session;
  copy_bytes(dst.data(), Device::cpu(), src.data(), Device::cpu(), src.size() * sizeof(float));
  const profiler::Report r = session.stop();
  CHECK(dst[999] == 1.0f);
  REQUIRE(find_row(r, "-", "copy host to host") != nullptr);
  CHECK(find_row(r, "-", "copy host to host")->calls == 1);
}

TEST_CASE("profiler: a call is filed under the innermost scope, nested slots are timed once") {
  profiler::Session session;
  {
    const profiler::Scope outer("epoch", "1");
    profiler_test_leaf_slot(Device::cpu(), 1);
    {
      const profiler::Scope inner("forward", "Dense");
      profiler_test_outer_slot(Device::cpu(), 100);
    }
    profiler_test_leaf_slot(Device::cpu(), 1);
  }
  profiler_test_leaf_slot(Device::cpu(), 1);
  const profiler::Report r = session.stop();
  REQUIRE(find_row(r, "epoch 1", "test_leaf") != nullptr);
  CHECK(find_row(r, "epoch 1", "test_leaf")->calls == 2);
  REQUIRE(find_row(r, "forward Dense", "test_outer") != nullptr);
  CHECK(find_row(r, "forward Dense", "test_outer")->calls == 1);
  CHECK(find_row(r, "forward Dense", "test_outer")->total_ms >= 0.2);  // covers both inner calls
  CHECK(find_row(r, "forward Dense", "test_leaf") == nullptr);          // which are not rows of their own
  REQUIRE(find_row(r, "-", "test_leaf") != nullptr);
  CHECK(find_row(r, "-", "test_leaf")->calls == 1);
  CHECK(r.kernels.size() == 3);
  CHECK(r.kernels[0].kernel == "test_outer");  // most time first
  // by_scope sums the kernels of each scope.
  const std::vector<profiler::KernelStat> scopes = r.by_scope();
  REQUIRE(scopes.size() == 3);
  CHECK(scopes[0].scope == "forward Dense");
  CHECK(scopes[0].kernel == "*");
}

TEST_CASE("profiler: a kernel that throws is still recorded and leaves the nesting count balanced") {
  profiler::Session session;
  CHECK_THROWS_WITH_AS(profiler_test_throw_slot(Device::cpu(), 0), "kernel failed", std::runtime_error);
  profiler_test_outer_slot(Device::cpu(), 1);  // timed: the failed call did not leave us "nested"
  const profiler::Report r = session.stop();
  CHECK(find_row(r, "-", "test_throw") != nullptr);
  REQUIRE(find_row(r, "-", "test_outer") != nullptr);
  CHECK(find_row(r, "-", "test_outer")->calls == 1);
}

TEST_CASE("profiler: other threads use their own scopes, or else the session thread's") {
  profiler::Session session;
  {
    const profiler::Scope scope("forward", "LSTM");
    std::thread with_scope([] {
      const profiler::Scope s("serve", "worker");
      profiler_test_leaf_slot(Device::cpu(), 1);
      profiler_test_leaf_slot(Device::cpu(), 1);
    });
    with_scope.join();
    std::thread helper([] { profiler_test_leaf_slot(Device::cpu(), 1); });  // like an OpenMP worker of the op
    helper.join();
    profiler_test_leaf_slot(Device::cpu(), 1);
  }
  std::thread later([] { profiler_test_leaf_slot(Device::cpu(), 1); });  // the session thread's scope closed
  later.join();
  const profiler::Report r = session.stop();
  REQUIRE(find_row(r, "serve worker", "test_leaf") != nullptr);
  CHECK(find_row(r, "serve worker", "test_leaf")->calls == 2);
  REQUIRE(find_row(r, "forward LSTM", "test_leaf") != nullptr);
  CHECK(find_row(r, "forward LSTM", "test_leaf")->calls == 2);
  REQUIRE(find_row(r, "-", "test_leaf") != nullptr);
  CHECK(find_row(r, "-", "test_leaf")->calls == 1);
  // Timeline threads are numbered from 0 by first call (a joined thread's id may be reused by the next).
  REQUIRE(r.timeline.size() == 5);
  CHECK(r.timeline[0].thread == 0);
  CHECK(r.timeline[1].thread == 0);                        // the same worker
  CHECK(r.timeline[3].thread != r.timeline[0].thread);     // the session thread, alive beside it
  for (const profiler::TraceEvent& e : r.timeline) CHECK(e.thread < 4);
}

TEST_CASE("profiler: one session at a time, stop() once, and a dropped session discards its calls") {
  {
    profiler::Session a;
    CHECK_THROWS_WITH_AS(profiler::Session(),
                         "profiler::Session: another session is already running; stop it before starting one", Error);
    profiler_test_leaf_slot(Device::cpu(), 1);
    (void)a.stop();
    CHECK_THROWS_WITH_AS(a.stop(), "profiler::Session::stop: this session was already stopped", Error);
  }
  {
    profiler::Session dropped;
    profiler_test_leaf_slot(Device::cpu(), 1);
  }  // destroyed without stop()
  CHECK_FALSE(profiler::active());
  profiler::Session b;
  const profiler::Report r = b.stop();
  CHECK(r.kernels.empty());
  CHECK(r.calls() == 0);
}

TEST_CASE("profiler: GPU calls are timed with the device timer's events, and every event is handed back") {
  const FakeTimerGuard fake;
  {
    profiler::Session session;
    for (int i = 0; i < 4; ++i) profiler_test_leaf_slot(Device::cuda(), 100);
    profiler_test_leaf_slot(Device::cpu(), 1);
    CHECK(FakeTimer::recorded.size() == 8);  // a start and a stop event per GPU call
    const profiler::Report r = session.stop();
    REQUIRE(find_row(r, "-", "test_leaf") != nullptr);
    const profiler::KernelStat* gpu = nullptr;
    for (const profiler::KernelStat& k : r.kernels)
      if (k.device == Device::cuda()) gpu = &k;
    REQUIRE(gpu != nullptr);
    CHECK(gpu->calls == 4);
    CHECK(gpu->total_ms >= 0.4);
    CHECK(r.kernels.size() == 2);  // the CPU call is a row of its own
    // The timeline: the GPU calls in issue order, each after the one before and lasting what its row says.
    REQUIRE(r.timeline.size() == 5);
    double gpu_sum = 0, last_start = -1;
    for (const profiler::TraceEvent& e : r.timeline) {
      CHECK(e.start_ms >= 0);
      CHECK(e.start_ms + e.duration_ms <= r.wall_ms);
      if (e.device.is_cpu()) continue;
      CHECK(e.start_ms > last_start);
      CHECK(e.duration_ms >= 0.1);
      last_start = e.start_ms + e.duration_ms;  // calls on one stream do not overlap
      gpu_sum += e.duration_ms;
    }
    CHECK(gpu_sum == doctest::Approx(gpu->total_ms));
    const std::string trace = io::chrome_trace(r);
    CHECK(trace.rfind("{\"displayTimeUnit\": \"ms\", \"traceEvents\": [", 0) == 0);
    CHECK(recsys::testing::count_occurrences(trace, "\"ph\": \"X\"") == 5);
    CHECK(trace.find("\"args\": {\"name\": \"cuda:0\"}") != std::string::npos);  // one track per device
    CHECK(trace.find("\"args\": {\"name\": \"cpu\"}") != std::string::npos);
    CHECK(trace.find("\"name\": \"test_leaf\", \"cat\": \"-\"") != std::string::npos);
  }
  CHECK(FakeTimer::recorded.empty());
  CHECK(FakeTimer::released == 8);
  {
    profiler::Session dropped;
    profiler_test_leaf_slot(Device::cuda(), 1);
  }
  CHECK(FakeTimer::recorded.empty());  // discarded sessions hand their events back too
  CHECK(FakeTimer::released == 10);
}

TEST_CASE("profiler: a device timer that fails costs the timing of that call, never the kernel") {
  const FakeTimerGuard fake;
  static int kernels_run = 0;
  kernels_run = 0;
  static KernelSlot<void(int)> counting{"test_counting", [](int) { ++kernels_run; }, [](int) { ++kernels_run; }};
  profiler::device_timer().record = [] () -> void* { throw Error("no events left"); };
  profiler::Session session;
  counting(Device::cuda(), 0);
  profiler::device_timer().record = &FakeTimer::record;
  counting(Device::cuda(), 0);  // timed: the failure did not leave the nesting count raised
  const profiler::Report r = session.stop();
  CHECK(kernels_run == 2);
  REQUIRE(find_row(r, "-", "test_counting") != nullptr);
  CHECK(find_row(r, "-", "test_counting")->calls == 1);
  CHECK(FakeTimer::recorded.empty());
}

TEST_CASE("profiler: a training step is filed by layer, backward op and optimizer") {
  manual_seed(3);
  auto model = nn::Sequential(nn::Dense(6, 5, nn::Activation::relu), nn::Dense(5, 1));
  optim::Adam opt(model.parameters());
  Generator g(4);
  const Tensor x = randn({8, 6}, g);
  const Tensor y = randn({8, 1}, g);
  profiler::Session session;
  for (int step = 0; step < 2; ++step) {
    opt.zero_grad();
    const Tensor loss = mse_loss(model(x), y);
    loss.backward();
    opt.step();
  }
  const profiler::Report r = session.stop();
  REQUIRE(find_row(r, "forward Dense", "gemm") != nullptr);
  CHECK(find_row(r, "forward Dense", "gemm")->calls == 4);  // two layers, two steps
  CHECK(find_row(r, "step Adam", "adam_update") != nullptr);
  CHECK(find_row(r, "step Adam", "adam_update")->calls == 8);  // four parameters, two steps
  bool backward_gemm = false;
  for (const profiler::KernelStat& k : r.kernels) backward_gemm |= k.scope.rfind("backward ", 0) == 0 && k.kernel == "gemm";
  CHECK(backward_gemm);
  // The table lists the rows and a totals line; per step halves the counts.
  const std::string per_step = r.table(50, 2);
  CHECK(per_step.find("forward Dense") != std::string::npos);
  CHECK(per_step.find("ms/step") != std::string::npos);
  CHECK(per_step.find("per step: wall") != std::string::npos);
  const std::string one_row = r.table(1);
  CHECK(one_row.find("(other rows)") != std::string::npos);
  CHECK_THROWS_WITH_AS(r.table(10, 0), "profiler::Report::table: per_step must be >= 1, got 0", Error);
}
