// recsys/cuda/profiler.cuh — the profiler's CUDA timer (core/profiler.hpp): pooled timing events recorded on the current stream.
#pragma once

#include <array>
#include <mutex>
#include <vector>

#include "recsys/core/profiler.hpp"
#include "recsys/cuda/runtime.cuh"

namespace recsys::cuda::profiler_timer {

/// A timing event remembers its device: an event may only be recorded on a stream of the device it was made on.
struct PooledEvent {
  cudaEvent_t event;
  int device;
};

struct Pool {
  std::mutex mutex;
  std::array<std::vector<PooledEvent*>, kMaxDevices> free;  // per device; never destroyed (the process reuses them)
};
inline Pool& pool() {
  static Pool p;
  return p;
}

/// An event recorded now on this thread's current stream (made once, then reused: a profiled step
/// records thousands, and creating an event costs about as much as a small kernel).
inline void* record() {
  const int device = current_device();
  RECSYS_CHECK(device >= 0 && device < kMaxDevices, "profiler: CUDA device index ", device, " out of range");
  PooledEvent* e = nullptr;
  {
    Pool& p = pool();
    const std::lock_guard lock(p.mutex);
    if (!p.free[device].empty()) {
      e = p.free[device].back();
      p.free[device].pop_back();
    }
  }
  if (!e) {
    cudaEvent_t event = nullptr;
    RECSYS_CUDA_CHECK(cudaEventCreate(&event), "profiler (creating a timing event)");
    e = new PooledEvent{event, device};
  }
  const cudaError_t rc = cudaEventRecord(e->event, current_stream());
  if (rc != cudaSuccess) {
    const std::lock_guard lock(pool().mutex);
    pool().free[device].push_back(e);
  }
  RECSYS_CUDA_CHECK(rc, "profiler (recording a timing event)");
  return e;
}

/// Milliseconds from start to stop, waiting for stop to complete.
inline double elapsed_ms(void* start, void* stop) {
  auto* a = static_cast<PooledEvent*>(start);
  auto* b = static_cast<PooledEvent*>(stop);
  RECSYS_CUDA_CHECK(cudaEventSynchronize(b->event), "profiler (waiting for a timing event)");
  float ms = 0;
  RECSYS_CUDA_CHECK(cudaEventElapsedTime(&ms, a->event, b->event), "profiler (reading a timing event)");
  return ms;
}

inline void release(void* event) {
  auto* e = static_cast<PooledEvent*>(event);
  const std::lock_guard lock(pool().mutex);
  pool().free[e->device].push_back(e);
}

/// Points the profiler at these functions (recsys::cuda::enable() calls it).
inline void install() { recsys::profiler::device_timer() = {&record, &elapsed_ms, &release}; }

}  // namespace recsys::cuda::profiler_timer
