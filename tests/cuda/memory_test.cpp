// tests/cuda/memory_test.cpp — the caching device allocator (size classes, steady state without cudaMalloc, statistics), streams, pinned uploads, errors.
#include "cuda_test_util.hpp"

#include "recsys/cuda/memory.cuh"

using namespace recsys;
using recsys::cuda_testing::check_matches;
using recsys::cuda_testing::kGpu;

TEST_CASE("size classes: 512-byte granules, then four classes per power of two") {
  using A = cuda::CachingDeviceAllocator;
  CHECK(A::round_size(0) == 512);
  CHECK(A::round_size(1) == 512);
  CHECK(A::round_size(513) == 1024);
  CHECK(A::round_size(4096) == 4096);
  CHECK(A::round_size(4097) == 5120);         // 8192 * 5/8
  CHECK(A::round_size(1 << 20) == (1 << 20));
  CHECK(A::round_size((1 << 20) + 1) == 1310720);  // 2 MiB * 5/8
  for (std::size_t n : {100u, 5000u, 123457u, 99999999u}) CHECK(A::round_size(n) < n + n / 4 + 512);
}

TEST_CASE("a repeated training step reaches a steady state with no cudaMalloc and stable memory") {
  Generator g(41);
  const Tensor w = randn({129, 33}, g).to(kGpu).set_requires_grad(), x = randn({64, 129}, g).to(kGpu);
  const Tensor b = zeros({33}, kGpu).set_requires_grad();
  auto step = [&] {
    if (w.grad().defined()) w.zero_grad();
    if (b.grad().defined()) b.zero_grad();
    const Tensor loss = mean(relu(linear(x, w, b)) * 2.0);
    loss.backward();
    (void)loss.item<float>();  // waits for the step, like a training loop's loss print
  };
  step();
  step();
  const AllocatorStats before = cuda::memory_stats();
  for (int i = 0; i < 5; ++i) step();
  const AllocatorStats after = cuda::memory_stats();
  CHECK(after.system_allocations == before.system_allocations);  // zero cudaMalloc per step
  CHECK(after.cache_hits - before.cache_hits == after.allocations - before.allocations);
  CHECK(after.allocations > before.allocations);
  CHECK(after.bytes_in_use == before.bytes_in_use);  // nothing leaks from step to step
  CHECK(after.peak_bytes_in_use >= after.bytes_in_use);
}

TEST_CASE("bytes in use follow tensors' lifetimes, and empty_cache returns cached blocks") {
  const AllocatorStats s0 = cuda::memory_stats();
  {
    const Tensor t = empty({1000, 1000}, kGpu);  // 4 MB, a class of its own
    CHECK(cuda::memory_stats().bytes_in_use - s0.bytes_in_use == cuda::CachingDeviceAllocator::round_size(4'000'000));
  }
  CHECK(cuda::memory_stats().bytes_in_use == s0.bytes_in_use);
  CHECK(cuda::memory_stats().bytes_cached >= cuda::CachingDeviceAllocator::round_size(4'000'000));
  cuda::CachingDeviceAllocator::instance().empty_cache();
  CHECK(cuda::memory_stats().bytes_cached == 0);
}

TEST_CASE("work sent to another stream gives the same results") {
  Generator g(42);
  const Tensor a = randn({129, 33}, g), bm = randn({33, 7}, g);
  const Tensor expected = matmul(a, bm);
  cuda::Stream side;
  cudaStream_t before = cuda::current_stream();
  {
    cuda::StreamGuard guard(side.get());
    CHECK(cuda::current_stream() == side.get());
    const Tensor got = matmul(a.to(kGpu), bm.to(kGpu));
    check_matches(got, expected, 1e-5, "matmul on a side stream");
  }
  CHECK(cuda::current_stream() == before);
}

TEST_CASE("pinned buffers upload asynchronously and an event tells when they are done") {
  const std::int64_t n = 1 << 16;
  cuda::PinnedBuffer buf(n * sizeof(float));
  for (std::int64_t i = 0; i < n; ++i) buf.as<float>()[i] = static_cast<float>(i % 1000) * 0.5f;
  Tensor dst = empty({n}, kGpu);
  cuda::upload_async(dst.raw_data(), buf, n * sizeof(float), cuda::current_stream());
  cuda::Event done;
  done.record();
  done.synchronize();
  const std::vector<double> v = dst.to_vector<double>();
  for (std::int64_t i = 0; i < n; i += 997) CHECK(v[static_cast<std::size_t>(i)] == static_cast<double>(i % 1000) * 0.5);
  CHECK_THROWS_WITH_AS(cuda::upload_async(dst.raw_data(), buf, buf.size() + 1, cuda::current_stream()),
                       doctest::Contains("cuda::upload_async: copying"), recsys::Error);
}

TEST_CASE("an impossible allocation is a recsys::Error naming the size, and the device stays usable") {
  CHECK_THROWS_WITH_AS(empty({std::int64_t{1} << 42}, kGpu), doctest::Contains("cuda allocate: cannot allocate"),
                       recsys::Error);
  CHECK(sum(ones({3}, kGpu)).item<double>() == 3.0);
}
