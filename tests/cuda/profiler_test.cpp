// tests/cuda/profiler_test.cpp — profiler::Session on the GPU: kernel calls timed with pooled CUDA events, filed by scope.
#include "cuda_test_util.hpp"

#include "recsys/cuda/profiler.cuh"

#include <map>
#include <string>

using namespace recsys;
using recsys::cuda_testing::kGpu;

namespace {

std::size_t free_timing_events() {
  auto& pool = cuda::profiler_timer::pool();
  const std::lock_guard lock(pool.mutex);
  return pool.free[0].size();
}

}  // namespace

TEST_CASE("the profiler times GPU kernel calls with events, and reuses them from session to session") {
  Generator g(5);
  const Tensor a = randn({512, 512}, g).to(kGpu), b = randn({512, 512}, g).to(kGpu);
  const Tensor host = randn({1000}, g);
  auto profile = [&] {
    profiler::Session session;
    {
      const profiler::Scope scope("forward", "test");
      for (int i = 0; i < 5; ++i) (void)matmul(a, b);
      (void)host.to(kGpu).to(Device::cpu());
    }
    return session.stop();
  };
  (void)profile();
  const std::size_t pooled = free_timing_events();
  CHECK(pooled >= 10);  // a start and a stop event per call, all back in the pool
  const profiler::Report r = profile();
  CHECK(free_timing_events() == pooled);  // the second session made no new events
  const profiler::KernelStat* gemm = nullptr;
  for (const profiler::KernelStat& k : r.kernels)
    if (k.scope == "forward test" && k.kernel == std::string("gemm")) gemm = &k;
  REQUIRE(gemm != nullptr);
  CHECK(gemm->device == kGpu);
  CHECK(gemm->calls == 5);
  CHECK(gemm->total_ms > 0);  // 2·512³ flops take microseconds, never zero
  CHECK(gemm->max_ms <= gemm->total_ms);
  CHECK(r.wall_ms >= gemm->total_ms);  // stop() waited for the GPU before reading the clock
  std::map<std::string, std::int64_t> copies;
  for (const profiler::KernelStat& k : r.kernels)
    if (k.kernel.rfind("copy ", 0) == 0) copies[k.kernel] += k.calls;
  CHECK(copies["copy host to device"] == 1);
  CHECK(copies["copy device to host"] == 1);
}
