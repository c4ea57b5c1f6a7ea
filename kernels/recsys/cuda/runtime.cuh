// recsys/cuda/runtime.cuh — host side of the CUDA backend: errors, devices, streams and events. Host-only, so C++ files may include it.
#pragma once

#include <cuda_runtime.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>

#include "recsys/core/device.hpp"
#include "recsys/core/error.hpp"

/// Throws recsys::Error naming `what` (the op or call) when a CUDA runtime call fails.
#define RECSYS_CUDA_CHECK(expr, what)                                                  \
  do {                                                                                 \
    const cudaError_t recsys_cuda_err_ = (expr);                                       \
    if (recsys_cuda_err_ != cudaSuccess) [[unlikely]]                                  \
      ::recsys::cuda::detail::throw_cuda_error(recsys_cuda_err_, what, #expr);         \
  } while (0)

namespace recsys::cuda {

namespace detail {
[[noreturn]] inline void throw_cuda_error(cudaError_t err, const char* what, const char* expr) {
  (void)cudaGetLastError();  // clear a sticky launch error so the next call does not report it again
  RECSYS_FAIL(what, ": CUDA error ", cudaGetErrorName(err), " (", cudaGetErrorString(err), ") in ", expr);
}
}  // namespace detail

/// Number of visible CUDA devices; 0 when there is no GPU or no driver (never throws).
inline int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return n;
}

/// True when at least one CUDA device can be used.
inline bool is_available() { return device_count() > 0; }

/// The device kernels are launched on (the calling thread's current CUDA device).
inline int current_device() {
  int d = 0;
  RECSYS_CUDA_CHECK(cudaGetDevice(&d), "cuda::current_device");
  return d;
}

/// Makes `device` current for the calling thread.
inline void set_device(int device) { RECSYS_CUDA_CHECK(cudaSetDevice(device), "cuda::set_device"); }

/// Switches the current device for a scope and switches back (only when it differs: cudaSetDevice is not free).
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) : previous_(current_device()) {
    if (device != previous_) set_device(device);
  }
  ~DeviceGuard() {
    int now = previous_;
    if (cudaGetDevice(&now) == cudaSuccess && now != previous_) (void)cudaSetDevice(previous_);
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_;
};

inline constexpr int kMaxDevices = 64;

namespace detail {
/// A stream chosen by StreamGuard for this thread (null: use the device's default stream).
inline cudaStream_t& stream_override() {
  thread_local cudaStream_t s = nullptr;
  return s;
}
}  // namespace detail

/// The stream recsys uses on `device` unless told otherwise: created once, non-blocking, so work on
/// it never serialises with the legacy default stream of other libraries.
inline cudaStream_t default_stream(int device) {
  RECSYS_CHECK(device >= 0 && device < kMaxDevices, "cuda::default_stream: device index ", device, " out of range");
  static std::mutex mutex;
  static std::array<cudaStream_t, kMaxDevices> streams{};
  std::lock_guard<std::mutex> lock(mutex);
  cudaStream_t& s = streams[static_cast<std::size_t>(device)];
  if (!s) {
    DeviceGuard guard(device);
    RECSYS_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cuda::default_stream");
  }
  return s;
}

/// The stream every kernel and copy of this thread goes to: a StreamGuard's, else the device default.
inline cudaStream_t current_stream() {
  cudaStream_t s = detail::stream_override();
  return s ? s : default_stream(current_device());
}

/// Sends this thread's work to another stream for a scope: `{ cuda::StreamGuard g(my_stream); ... }`.
/// Memory freed inside the scope is reused only by work on the same stream, so reuse stays ordered.
class StreamGuard {
 public:
  explicit StreamGuard(cudaStream_t stream) : previous_(detail::stream_override()) {
    detail::stream_override() = stream;
  }
  ~StreamGuard() { detail::stream_override() = previous_; }
  StreamGuard(const StreamGuard&) = delete;
  StreamGuard& operator=(const StreamGuard&) = delete;

 private:
  cudaStream_t previous_;
};

/// An owned stream (for overlapping copies with compute, e.g. in the batch loader).
class Stream {
 public:
  Stream() { RECSYS_CUDA_CHECK(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking), "cuda::Stream"); }
  ~Stream() {
    if (s_) (void)cudaStreamDestroy(s_);
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const { return s_; }
  void synchronize() const { RECSYS_CUDA_CHECK(cudaStreamSynchronize(s_), "cuda::Stream::synchronize"); }

 private:
  cudaStream_t s_ = nullptr;
};

/// An owned event: record it after enqueuing work, then wait for it from the host or another stream.
class Event {
 public:
  explicit Event(bool timing = false) {
    RECSYS_CUDA_CHECK(cudaEventCreateWithFlags(&e_, timing ? cudaEventDefault : cudaEventDisableTiming),
                      "cuda::Event");
  }
  ~Event() {
    if (e_) (void)cudaEventDestroy(e_);
  }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  void record(cudaStream_t s) { RECSYS_CUDA_CHECK(cudaEventRecord(e_, s), "cuda::Event::record"); }
  void record() { record(current_stream()); }
  void synchronize() const { RECSYS_CUDA_CHECK(cudaEventSynchronize(e_), "cuda::Event::synchronize"); }
  /// Milliseconds between two recorded timing events.
  float elapsed_ms(const Event& later) const {
    float ms = 0;
    RECSYS_CUDA_CHECK(cudaEventElapsedTime(&ms, e_, later.e_), "cuda::Event::elapsed_ms");
    return ms;
  }
  cudaEvent_t get() const { return e_; }

 private:
  cudaEvent_t e_ = nullptr;
};

/// Waits until all work queued on this thread's current stream has finished, and reports its errors.
inline void synchronize() { RECSYS_CUDA_CHECK(cudaStreamSynchronize(current_stream()), "cuda::synchronize"); }

/// Number of streaming multiprocessors of the current device (kernels size their grids with it).
inline int multiprocessor_count() {
  static std::array<int, kMaxDevices> cache{};
  const int d = current_device();
  int& n = cache[static_cast<std::size_t>(d)];
  if (n == 0) RECSYS_CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, d), "cuda::multiprocessor_count");
  return n;
}

/// Precision of float GEMMs on the GPU. fp32 (the default) matches the CPU to float rounding. tf32
/// and bf16 round the inputs to 10 resp. 7 mantissa bits and multiply on tensor cores, accumulating
/// in fp32. Documented tolerance (what tests/cuda/gemm_test.cpp checks): |C - exact| <= 2^-9 (tf32)
/// resp. 2^-6 (bf16) times sum_k |a_ik b_kj| — two input roundings per product plus fp32 sums.
enum class GemmPrecision : std::uint8_t { fp32, tf32, bf16 };

/// The precision float GEMMs use on the GPU (process-wide, like PyTorch's allow_tf32 switch).
inline std::atomic<GemmPrecision>& gemm_precision_setting() {
  static std::atomic<GemmPrecision> p{GemmPrecision::fp32};
  return p;
}
/// Chooses fp32 (default, exact), tf32 or bf16 tensor cores for float GEMMs on the GPU.
inline void set_gemm_precision(GemmPrecision p) { gemm_precision_setting() = p; }
inline GemmPrecision gemm_precision() { return gemm_precision_setting(); }

/// How the embedding gradient is formed on the GPU. deterministic (the default) sorts the ids and
/// sums each id's rows in position order: the same bits as the CPU, run after run. atomic adds rows
/// with atomicAdd: faster for large batches, but the order of additions (so the rounding) varies.
enum class EmbeddingBackward : std::uint8_t { deterministic, atomic };

inline std::atomic<EmbeddingBackward>& embedding_backward_setting() {
  static std::atomic<EmbeddingBackward> m{EmbeddingBackward::deterministic};
  return m;
}
/// Chooses the embedding gradient algorithm (process-wide).
inline void set_embedding_backward(EmbeddingBackward m) { embedding_backward_setting() = m; }
inline EmbeddingBackward embedding_backward_mode() { return embedding_backward_setting(); }

/// How the LSTM runs its recurrence on the GPU. stepwise (the default) launches one recurrent GEMM and
/// one fused cell kernel per step, forward and backward. persistent runs all steps in one cooperative
/// kernel (cuda/lstm_persistent.cuh) that keeps each block's slice of w_hh in shared memory and
/// synchronises the grid between steps; a layer it cannot hold on chip falls back to stepwise. Both
/// accumulate every dot product in the same order, so they agree to float rounding of the cell maths.
enum class LstmRecurrence : std::uint8_t { stepwise, persistent };

inline std::atomic<LstmRecurrence>& lstm_recurrence_setting() {
  static std::atomic<LstmRecurrence> m{LstmRecurrence::stepwise};
  return m;
}
/// Chooses the LSTM recurrence on the GPU (process-wide).
inline void set_lstm_recurrence(LstmRecurrence m) { lstm_recurrence_setting() = m; }
inline LstmRecurrence lstm_recurrence() { return lstm_recurrence_setting(); }

/// How many times the persistent LSTM kernels have run, forward and backward (so a test can tell that
/// the path it meant to check is the one that ran, and not the stepwise fallback).
inline std::atomic<std::int64_t>& lstm_persistent_launches() {
  static std::atomic<std::int64_t> n{0};
  return n;
}

/// Chooses the LSTM recurrence for a scope and restores the previous choice on leaving it.
class LstmRecurrenceGuard {
 public:
  explicit LstmRecurrenceGuard(LstmRecurrence m) : previous_(lstm_recurrence()) { set_lstm_recurrence(m); }
  ~LstmRecurrenceGuard() { set_lstm_recurrence(previous_); }
  LstmRecurrenceGuard(const LstmRecurrenceGuard&) = delete;
  LstmRecurrenceGuard& operator=(const LstmRecurrenceGuard&) = delete;

 private:
  LstmRecurrence previous_;
};

}  // namespace recsys::cuda
