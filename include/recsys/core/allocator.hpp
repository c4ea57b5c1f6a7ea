// recsys/core/allocator.hpp — the caching host allocator: 64-byte-aligned blocks recycled by size class.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <vector>

#include "recsys/core/config.hpp"
#include "recsys/core/error.hpp"

namespace recsys {

/// A tensor allocation the system refused (std::aligned_alloc returned null even after the cache was given
/// back). An Error like any other, with its own type so a program can report it as running out of memory.
class OutOfMemory : public Error {
 public:
  using Error::Error;
};

/// Counters an allocator keeps; bytes are the rounded block sizes.
struct AllocatorStats {
  std::size_t bytes_in_use = 0;
  std::size_t peak_bytes_in_use = 0;
  std::size_t bytes_cached = 0;
  std::uint64_t allocations = 0;   // calls to allocate()
  std::uint64_t cache_hits = 0;    // served from the cache
  std::uint64_t system_allocations = 0;  // served by the system allocator
};

/// Host memory for tensors. Freed blocks are kept per size class and handed out again, so a training
/// loop that allocates the same shapes every step stops calling the system allocator after the
/// first step: no page-fault churn from glibc unmapping and re-mapping large buffers.
class CachingHostAllocator {
 public:
  static constexpr std::size_t kAlignment = 64;

  /// The process-wide instance. Deliberately never destroyed, so tensors in static storage can
  /// still release their memory during program exit.
  static CachingHostAllocator& instance() {
    static auto* a = new CachingHostAllocator();
    return *a;
  }

  void* allocate(std::size_t nbytes) {
    const std::size_t size = round_size(nbytes);
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.allocations;
    void* p = nullptr;
    auto it = free_.find(size);
    if (it != free_.end() && !it->second.empty()) {
      p = it->second.back();
      it->second.pop_back();
      stats_.bytes_cached -= size;
      ++stats_.cache_hits;
    } else {
      p = std::aligned_alloc(kAlignment, size);
      if (!p) {  // give the cache back to the system and try once more
        release_cached_locked();
        p = std::aligned_alloc(kAlignment, size);
      }
      if (p == nullptr) throw OutOfMemory(detail::str_cat("allocate: out of host memory allocating ", nbytes, " bytes"));
      ++stats_.system_allocations;
    }
    stats_.bytes_in_use += size;
    if (stats_.bytes_in_use > stats_.peak_bytes_in_use) stats_.peak_bytes_in_use = stats_.bytes_in_use;
    return p;
  }

  void deallocate(void* p, std::size_t nbytes) {
    if (!p) return;
    const std::size_t size = round_size(nbytes);
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.bytes_in_use -= size;
    if (caching_ && stats_.bytes_cached + size <= cache_limit_) {
      free_[size].push_back(p);
      stats_.bytes_cached += size;
    } else {
      std::free(p);
    }
  }

  /// Returns every cached block to the system.
  void empty_cache() {
    std::lock_guard<std::mutex> lock(mutex_);
    release_cached_locked();
  }

  /// Turns caching on or off (off by default under AddressSanitizer, which must see every free).
  void set_caching(bool on) {
    std::lock_guard<std::mutex> lock(mutex_);
    caching_ = on;
    if (!on) release_cached_locked();
  }
  /// Caps the bytes kept in the cache; blocks freed beyond the cap go back to the system.
  void set_cache_limit(std::size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    cache_limit_ = bytes;
  }

  AllocatorStats stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }
  void reset_peak() {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.peak_bytes_in_use = stats_.bytes_in_use;
  }

  /// Size classes: four per power of two above 256 bytes, so rounding wastes at most 25%.
  static std::size_t round_size(std::size_t n) {
    if (n <= 256) return n <= kAlignment ? kAlignment : (n + kAlignment - 1) / kAlignment * kAlignment;
    std::size_t pow2 = 256;
    while (pow2 < n) pow2 <<= 1;
    const std::size_t step = pow2 / 8;  // classes at 5/8, 6/8, 7/8 and 8/8 of pow2
    return (n + step - 1) / step * step;
  }

 private:
  CachingHostAllocator() = default;

  void release_cached_locked() {
    for (auto& [size, blocks] : free_)
      for (void* p : blocks) std::free(p);
    free_.clear();
    stats_.bytes_cached = 0;
  }

  mutable std::mutex mutex_;
  std::map<std::size_t, std::vector<void*>> free_;
  AllocatorStats stats_;
  bool caching_ = !RECSYS_ASAN;
  std::size_t cache_limit_ = std::size_t{8} << 30;
};

}  // namespace recsys
