// recsys/cuda/memory.cuh — the caching device allocator, pinned host buffers and the CUDA memory backend (allocate/free/copy/zero). Host-only.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <mutex>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "recsys/core/allocator.hpp"
#include "recsys/core/memory.hpp"
#include "recsys/cuda/runtime.cuh"

namespace recsys::cuda {

/// Device memory for tensors. cudaMalloc and cudaFree synchronise the device and cost tens of
/// microseconds, so freed blocks are kept per (device, stream, size class) and handed out again: a
/// training loop that allocates the same shapes every step stops calling cudaMalloc after step one.
/// A block is reused only by work on the stream it was last used on, so stream order alone keeps a
/// kernel that still reads a freed block from racing with its next owner (no events needed).
class CachingDeviceAllocator {
 public:
  /// Process-wide instance, never destroyed: tensors in static storage may free during exit, when
  /// the CUDA runtime may already be gone (their frees are then ignored; the driver reclaims all).
  static CachingDeviceAllocator& instance() {
    static auto* a = new CachingDeviceAllocator();
    return *a;
  }

  /// Size classes: 512-byte granules up to 4 KiB, then four classes per power of two (<= 25% waste).
  static std::size_t round_size(std::size_t n) {
    if (n <= 4096) return n == 0 ? 512 : (n + 511) / 512 * 512;
    std::size_t pow2 = 4096;
    while (pow2 < n) pow2 <<= 1;
    const std::size_t step = pow2 / 8;
    return (n + step - 1) / step * step;
  }

  void* allocate(std::size_t nbytes, int device) {
    const std::size_t size = round_size(nbytes);
    DeviceGuard guard(device);
    const cudaStream_t stream = current_stream();
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.allocations;
    void* p = nullptr;
    auto it = free_.find(Key{device, stream, size});
    if (it != free_.end() && !it->second.empty()) {
      p = it->second.back();
      it->second.pop_back();
      stats_.bytes_cached -= size;
      ++stats_.cache_hits;
    } else {
      cudaError_t err = cudaMalloc(&p, size);
      if (err == cudaErrorMemoryAllocation) {  // give this device's cache back and try once more
        (void)cudaGetLastError();
        release_cached_locked(device);
        err = cudaMalloc(&p, size);
      }
      if (err != cudaSuccess) {
        (void)cudaGetLastError();
        RECSYS_FAIL("cuda allocate: cannot allocate ", nbytes, " bytes on cuda:", device, " (",
                    cudaGetErrorString(err), "; ", stats_.bytes_in_use, " bytes in use by recsys)");
      }
      ++stats_.system_allocations;
    }
    live_[p] = Block{device, stream, size};
    stats_.bytes_in_use += size;
    if (stats_.bytes_in_use > stats_.peak_bytes_in_use) stats_.peak_bytes_in_use = stats_.bytes_in_use;
    return p;
  }

  /// Never throws: it runs from Storage's destructor.
  void deallocate(void* p) noexcept {
    if (!p) return;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = live_.find(p);
    if (it == live_.end()) return;  // not ours (or freed twice): nothing safe to do
    const Block b = it->second;
    live_.erase(it);
    stats_.bytes_in_use -= b.size;
    if (caching_) {
      free_[Key{b.device, b.stream, b.size}].push_back(p);
      stats_.bytes_cached += b.size;
    } else {
      (void)cudaFree(p);
    }
  }

  /// Returns every cached block to the driver (after the device finishes the work that may use them).
  void empty_cache() {
    std::lock_guard<std::mutex> lock(mutex_);
    release_cached_locked(-1);
  }

  /// Turns caching off (every free goes to cudaFree, e.g. for compute-sanitizer) or back on.
  void set_caching(bool on) {
    std::lock_guard<std::mutex> lock(mutex_);
    caching_ = on;
    if (!on) release_cached_locked(-1);
  }

  /// bytes_in_use, peak, cached bytes, allocate() calls, cache hits and cudaMalloc calls (system_allocations).
  AllocatorStats stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }
  void reset_peak() {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.peak_bytes_in_use = stats_.bytes_in_use;
  }

 private:
  using Key = std::tuple<int, cudaStream_t, std::size_t>;
  struct Block {
    int device;
    cudaStream_t stream;
    std::size_t size;
  };

  CachingDeviceAllocator() = default;

  void release_cached_locked(int device) {
    std::set<int> synced;
    for (auto it = free_.begin(); it != free_.end();) {
      const int d = std::get<0>(it->first);
      if (device >= 0 && d != device) {
        ++it;
        continue;
      }
      // A cached block may still be read by queued kernels: finish them before cudaFree. The whole
      // device is synchronized, not the block's stream: that stream may have been destroyed since.
      if (synced.insert(d).second) {
        DeviceGuard guard(d);
        (void)cudaDeviceSynchronize();
      }
      for (void* p : it->second) {
        (void)cudaFree(p);
        stats_.bytes_cached -= std::get<2>(it->first);
      }
      it = free_.erase(it);
    }
  }

  mutable std::mutex mutex_;
  std::map<Key, std::vector<void*>> free_;
  std::unordered_map<void*, Block> live_;
  AllocatorStats stats_;
  bool caching_ = true;
};

/// Scratch device memory for a launcher, returned to the caching allocator when it goes out of scope.
class DeviceScratch {
 public:
  explicit DeviceScratch(std::size_t nbytes) : device_(current_device()) {
    p_ = CachingDeviceAllocator::instance().allocate(nbytes, device_);
  }
  ~DeviceScratch() { CachingDeviceAllocator::instance().deallocate(p_); }
  DeviceScratch(const DeviceScratch&) = delete;
  DeviceScratch& operator=(const DeviceScratch&) = delete;
  template <class T>
  T* as() const {
    return static_cast<T*>(p_);
  }

 private:
  int device_;
  void* p_;
};

/// Page-locked host memory: the DMA engine reads it directly, so uploads from it can run
/// asynchronously and overlap compute (the batch loader fills one while the GPU trains on another).
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(std::size_t nbytes) : size_(nbytes) {
    if (nbytes) RECSYS_CUDA_CHECK(cudaHostAlloc(&data_, nbytes, cudaHostAllocDefault), "cuda::PinnedBuffer");
  }
  ~PinnedBuffer() {
    if (data_) (void)cudaFreeHost(data_);
  }
  PinnedBuffer(PinnedBuffer&& o) noexcept : data_(o.data_), size_(o.size_) {
    o.data_ = nullptr;
    o.size_ = 0;
  }
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    return *this;
  }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;

  void* data() const { return data_; }
  template <class T>
  T* as() const {
    return static_cast<T*>(data_);
  }
  std::size_t size() const { return size_; }

 private:
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

/// Queues a host→device copy on `stream` and returns at once. `src` must stay untouched until the
/// copy is done: record an Event after this call and synchronize it before refilling the buffer.
inline void upload_async(void* dst_device, const PinnedBuffer& src, std::size_t nbytes, cudaStream_t stream) {
  RECSYS_CHECK(nbytes <= src.size(), "cuda::upload_async: copying ", nbytes, " bytes from a pinned buffer of ",
               src.size());
  if (nbytes)
    RECSYS_CUDA_CHECK(cudaMemcpyAsync(dst_device, src.data(), nbytes, cudaMemcpyHostToDevice, stream),
                      "cuda::upload_async");
}

namespace detail {

inline void* backend_allocate(std::size_t nbytes, int device) {
  return CachingDeviceAllocator::instance().allocate(nbytes, device);
}
inline void backend_deallocate(void* p, std::size_t, int) { CachingDeviceAllocator::instance().deallocate(p); }

/// Copies that involve a CUDA device. Reads to the host wait for the data; writes from the host wait
/// too, since the source may be pageable or recycled by the host allocator right after we return.
inline void backend_copy(void* dst, Device dst_device, const void* src, Device src_device, std::size_t n) {
  if (n == 0) return;
  const int dev = dst_device.is_cuda() ? dst_device.index : src_device.index;
  DeviceGuard guard(dev);
  const cudaStream_t s = current_stream();
  if (dst_device.is_cuda() && src_device.is_cuda()) {
    if (dst_device.index == src_device.index) {
      RECSYS_CUDA_CHECK(cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToDevice, s), "copy (device to device)");
      return;  // stream-ordered: no wait needed
    }
    RECSYS_CUDA_CHECK(cudaMemcpyPeerAsync(dst, dst_device.index, src, src_device.index, n, s), "copy (peer)");
  } else if (dst_device.is_cuda()) {
    RECSYS_CUDA_CHECK(cudaMemcpyAsync(dst, src, n, cudaMemcpyHostToDevice, s), "copy (host to device)");
  } else {
    RECSYS_CUDA_CHECK(cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToHost, s), "copy (device to host)");
  }
  RECSYS_CUDA_CHECK(cudaStreamSynchronize(s), "copy");
}

inline void backend_zero(void* p, std::size_t n, int device) {
  if (n == 0) return;
  DeviceGuard guard(device);
  RECSYS_CUDA_CHECK(cudaMemsetAsync(p, 0, n, current_stream()), "zero");
}

}  // namespace detail

/// Fills the CUDA entry of recsys::memory_backend (called by enable()).
inline void enable_memory() {
  memory_backend(DeviceType::cuda) = MemoryBackend{&detail::backend_allocate, &detail::backend_deallocate,
                                                   &detail::backend_copy, &detail::backend_zero};
}

/// Statistics of the device allocator (see CachingDeviceAllocator::stats).
inline AllocatorStats memory_stats() { return CachingDeviceAllocator::instance().stats(); }

}  // namespace recsys::cuda
