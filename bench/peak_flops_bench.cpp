// bench/peak_flops_bench.cpp — the FMA peak probe: this machine's single-precision FMA throughput per core and for all threads.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "recsys/core/parallel.hpp"
#include "recsys/cpu/cpu_features.hpp"

#if RECSYS_X86_SIMD
#include <immintrin.h>
#endif

namespace {

// 12 independent accumulator chains: more than FMA latency × pipes on current cores (4 × 2 on Zen 5
// and recent Intel cores), and with the two constants they still fit AVX2's 16 registers. The
// operands never leave registers, so this is the arithmetic ceiling a GEMM micro-kernel can
// approach, not a memory number.
constexpr int kChains = 12;
constexpr std::int64_t kSteps = 1 << 18;  // FMAs per chain per call

#if RECSYS_X86_SIMD
RECSYS_TARGET_AVX512 double fma_loop_avx512(float seed) {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(seed + static_cast<float>(i));
  const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
  for (std::int64_t s = 0; s < kSteps; ++s) {
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], x, y);
  }
  __m512 sum = acc[0];
  for (int i = 1; i < kChains; ++i) sum = _mm512_add_ps(sum, acc[i]);
  return static_cast<double>(_mm512_reduce_add_ps(sum));
}

RECSYS_TARGET_AVX2 double fma_loop_avx2(float seed) {
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(seed + static_cast<float>(i));
  const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
  for (std::int64_t s = 0; s < kSteps; ++s) {
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], x, y);
  }
  alignas(32) float out[8];
  __m256 sum = acc[0];
  for (int i = 1; i < kChains; ++i) sum = _mm256_add_ps(sum, acc[i]);
  _mm256_store_ps(out, sum);
  return static_cast<double>(out[0]);
}
#endif

/// Runs the loop on `threads` threads at once; returns FLOPs done (2 per lane per FMA).
double run(int width, int threads) {
  double sink = 0;
#pragma omp parallel num_threads(threads) reduction(+ : sink)
  {
#if RECSYS_X86_SIMD
    sink += width == 16 ? fma_loop_avx512(1.0f) : fma_loop_avx2(1.0f);
#endif
  }
  benchmark::DoNotOptimize(sink);
  return 2.0 * width * kChains * static_cast<double>(kSteps) * threads;
}

/// Names are peak/<isa>/threads:<t>; the GFLOP/s counter is total over the threads.
void bm_peak(benchmark::State& state, int width, int threads) {
  const recsys::cpu::SimdLevel level = recsys::cpu::detect_simd_level();
  if ((width == 16 && level != recsys::cpu::SimdLevel::avx512) || level == recsys::cpu::SimdLevel::portable) {
    state.SkipWithError("this CPU lacks the instruction set");
    return;
  }
  double flops = 0;
  run(width, threads);  // wake the OpenMP threads and the vector units
  for (auto _ : state) flops += run(width, threads);
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsRate);
}

const bool registered = [] {
  for (int threads : {1, 2}) {
    benchmark::RegisterBenchmark(("peak/avx512/threads:" + std::to_string(threads)).c_str(), bm_peak, 16, threads)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("peak/avx2/threads:" + std::to_string(threads)).c_str(), bm_peak, 8, threads)
        ->UseRealTime();
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
