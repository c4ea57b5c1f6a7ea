// bench/cuda/bench_util.hpp — shared by the GPU benchmarks: backend start-up, CUDA-event timing, skipping without a GPU.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdio>
#include <functional>

#include "cuda_enable.hpp"
#include "recsys/cuda/runtime.cuh"

namespace recsys::cuda::bench {

/// Times `iters` calls of f on the current stream with CUDA events; returns seconds per call.
inline double time_gpu(int iters, const std::function<void()>& f) {
  Event start(true), stop(true);
  start.record();
  for (int i = 0; i < iters; ++i) f();
  stop.record();
  stop.synchronize();
  return static_cast<double>(start.elapsed_ms(stop)) * 1e-3 / iters;
}

/// main() of every GPU benchmark: exits 0 with a message when there is no GPU (CI builds them only).
inline int run_main(int argc, char** argv) {
  if (!is_available()) {
    std::printf("%s: SKIPPED: no CUDA GPU available\n", argv[0]);
    return 0;
  }
  testing::enable_backend();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace recsys::cuda::bench
