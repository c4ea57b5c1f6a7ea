// tests/core/allocator_test.cpp — the caching host allocator: alignment, size classes, reuse and statistics.
#include <doctest/doctest.h>

#include <cstdint>

#include "test_util.hpp"

using namespace recsys;

TEST_CASE("size classes round up by at most a quarter") {
  CHECK(CachingHostAllocator::round_size(1) == 64);
  CHECK(CachingHostAllocator::round_size(64) == 64);
  CHECK(CachingHostAllocator::round_size(65) == 128);
  CHECK(CachingHostAllocator::round_size(257) == 320);
  CHECK(CachingHostAllocator::round_size(1 << 20) == (1 << 20));
  for (std::size_t n : {300u, 1000u, 5000u, 123457u, 9999999u}) {
    const std::size_t r = CachingHostAllocator::round_size(n);
    CHECK(r >= n);
    CHECK(r <= n + n / 4 + 64);
    CHECK(r % 64 == 0);
  }
}

TEST_CASE("tensor memory is 64-byte aligned") {
  for (int n : {1, 3, 17, 1000}) {
    Tensor t = zeros({n});
    CHECK(reinterpret_cast<std::uintptr_t>(t.raw_data()) % 64 == 0);
  }
}

TEST_CASE("a freed block is reused for the next tensor of the same size class") {
  auto& alloc = CachingHostAllocator::instance();
  if (RECSYS_ASAN) {
    MESSAGE("caching is off under AddressSanitizer so every free is checked; reuse is not tested here");
    return;
  }
  { Tensor warm = zeros({1000, 37}); }
  const AllocatorStats before = alloc.stats();
  for (int step = 0; step < 10; ++step) Tensor t = zeros({1000, 37});
  const AllocatorStats after = alloc.stats();
  CHECK(after.system_allocations == before.system_allocations);
  CHECK(after.cache_hits - before.cache_hits == 10);
  CHECK(after.peak_bytes_in_use >= CachingHostAllocator::round_size(1000 * 37 * 4));
}

TEST_CASE("empty_cache returns cached blocks") {
  auto& alloc = CachingHostAllocator::instance();
  { Tensor t = zeros({4096}); }
  alloc.empty_cache();
  CHECK(alloc.stats().bytes_cached == 0);
}
