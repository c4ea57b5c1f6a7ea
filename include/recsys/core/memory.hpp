// recsys/core/memory.hpp — per-device memory hooks (allocate, free, copy, zero) and the Storage they back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "recsys/core/allocator.hpp"
#include "recsys/core/device.hpp"
#include "recsys/core/error.hpp"
#include "recsys/core/profiler.hpp"

namespace recsys {

/// Memory operations of one device type. The CPU entry is always filled; recsys::cuda::enable()
/// fills the CUDA entry, so a CPU-only build never needs nvcc.
struct MemoryBackend {
  void* (*allocate)(std::size_t nbytes, int device_index) = nullptr;
  void (*deallocate)(void* p, std::size_t nbytes, int device_index) = nullptr;
  /// Copies nbytes; either side may be the host. The CUDA backend handles every pair that involves CUDA.
  void (*copy)(void* dst, Device dst_device, const void* src, Device src_device, std::size_t nbytes) = nullptr;
  void (*zero)(void* p, std::size_t nbytes, int device_index) = nullptr;
};

namespace detail {
inline void* cpu_allocate(std::size_t n, int) { return CachingHostAllocator::instance().allocate(n); }
inline void cpu_deallocate(void* p, std::size_t n, int) { CachingHostAllocator::instance().deallocate(p, n); }
inline void cpu_copy(void* dst, Device, const void* src, Device, std::size_t n) {
  if (n) std::memcpy(dst, src, n);
}
inline void cpu_zero(void* p, std::size_t n, int) {
  if (n) std::memset(p, 0, n);
}
}  // namespace detail

/// The memory backend for a device type; throws a clear error if CUDA was not enabled.
inline MemoryBackend& memory_backend(DeviceType t) {
  static MemoryBackend backends[2] = {
      {&detail::cpu_allocate, &detail::cpu_deallocate, &detail::cpu_copy, &detail::cpu_zero}, {}};
  return backends[static_cast<int>(t)];
}

inline const MemoryBackend& checked_backend(Device d, const char* op) {
  const MemoryBackend& b = memory_backend(d.type);
  RECSYS_CHECK(b.allocate != nullptr, op, ": no backend for device ", d,
               " (compile a .cu file that calls recsys::cuda::enable() and link recsys::cuda)");
  return b;
}

/// Copies bytes between devices, choosing the backend that can see both sides (timed by the profiler
/// like a kernel, under a name that says the direction).
inline void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, std::size_t n) {
  const Device via = dst_device.is_cuda() ? dst_device : src_device;
  const char* what = src_device.is_cpu() ? (dst_device.is_cpu() ? "copy host to host" : "copy host to device")
                                         : (dst_device.is_cpu() ? "copy device to host" : "copy device to device");
  const profiler::SlotTimer timer(what, via);
  checked_backend(via, "copy").copy(dst, dst_device, src, src_device, n);
}

/// A block of device memory shared by a tensor and all its views. The version counter is bumped by
/// every in-place write, so autograd can tell when a tensor saved for backward was overwritten.
class Storage {
 public:
  Storage(std::size_t nbytes, Device device)
      : nbytes_(nbytes), device_(device),
        data_(checked_backend(device, "Storage").allocate(nbytes, device.index)) {}
  ~Storage() { memory_backend(device_.type).deallocate(data_, nbytes_, device_.index); }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  std::size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }
  std::uint64_t version() const { return version_; }
  void bump_version() { ++version_; }

 private:
  std::size_t nbytes_;
  Device device_;
  void* data_;
  std::uint64_t version_ = 0;
};

}  // namespace recsys
