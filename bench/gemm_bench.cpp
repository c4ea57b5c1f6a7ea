// bench/gemm_bench.cpp — SGEMM GFLOP/s: the dispatched fast kernel, each SIMD level and the reference, square and model shapes, 1 and 2 threads.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "recsys/core/parallel.hpp"
#include "recsys/cpu/gemm.hpp"

namespace {

using recsys::GemmArgs;

/// A GEMM problem as the reference CNN-LSTM model issues it (see bench/README.md).
struct Shape {
  const char* name;
  bool trans_a, trans_b;
  std::int64_t m, n, k;
  std::int64_t lda = 0;  // 0: dense (k, or m when trans_a)
};

const std::vector<Shape>& shapes() {
  static const std::vector<Shape> list = {
      {"square128", false, false, 128, 128, 128},
      {"square256", false, false, 256, 256, 256},
      {"square512", false, false, 512, 512, 512},
      {"square1024", false, false, 1024, 1024, 1024},
      {"square2048", false, false, 2048, 2048, 2048},
      // LSTM(128) on a batch of 32: the recurrent step h·W_hh, with W_hh stored k×n and n×k.
      {"lstm_step", false, false, 32, 512, 128},
      {"lstm_step_bt", false, true, 32, 512, 128},
      // Backward of the step: dh = dgates·W_hhᵀ and dW_hh += hᵀ·dgates.
      {"lstm_step_dgrad", false, true, 32, 128, 512},
      {"lstm_step_wgrad", true, false, 128, 512, 32},
      // The LSTM input projection over all 49 pooled steps at once (32·49 = 1568 rows), and its weight gradient.
      {"lstm_input", false, false, 1568, 512, 128},
      {"lstm_input_wgrad", true, false, 128, 512, 1568},
      // Conv1D(128, 3) over channels-last (32, 98+2, 128): windows of 3·128 overlap, lda = 128.
      {"conv_window", false, false, 3136, 128, 384, 128},
      {"conv_dgrad", false, true, 3136, 384, 128},
      {"conv_wgrad", true, false, 384, 128, 3136, 128},
  };
  return list;
}

enum class Impl { fast, avx512, avx2, portable, reference };

const char* impl_name(Impl impl) {
  switch (impl) {
    case Impl::fast: return "fast";
    case Impl::avx512: return "avx512";
    case Impl::avx2: return "avx2";
    case Impl::portable: return "portable";
    default: return "reference";
  }
}

/// Operands for one shape, filled with small values; A is sized for its lda (overlapping rows).
struct Problem {
  GemmArgs<float> p;
  std::vector<float> a, b, c;

  explicit Problem(const Shape& s) {
    p.trans_a = s.trans_a;
    p.trans_b = s.trans_b;
    p.m = s.m;
    p.n = s.n;
    p.k = s.k;
    const std::int64_t a_rows = s.trans_a ? s.k : s.m, a_cols = s.trans_a ? s.m : s.k;
    p.lda = s.lda != 0 ? s.lda : a_cols;
    p.ldb = s.trans_b ? s.k : s.n;
    p.ldc = s.n;
    a.resize(static_cast<std::size_t>((a_rows - 1) * p.lda + a_cols));
    b.resize(static_cast<std::size_t>(s.k * s.n));
    c.resize(static_cast<std::size_t>(s.m * s.n));
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(static_cast<int>(i % 17) - 8) / 16.0f;
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(static_cast<int>(i % 13) - 6) / 16.0f;
    p.a = a.data();
    p.b = b.data();
    p.c = c.data();
  }
};

bool supported(Impl impl) {
  using recsys::cpu::SimdLevel;
  const SimdLevel level = recsys::cpu::detect_simd_level();
  if (impl == Impl::avx512) return level == SimdLevel::avx512;
  if (impl == Impl::avx2) return level != SimdLevel::portable;
  return true;
}

void run(Impl impl, const GemmArgs<float>& p) {
  switch (impl) {
    case Impl::fast: recsys::cpu::gemm(p); break;
#if RECSYS_X86_SIMD
    case Impl::avx512: recsys::cpu::sgemm(recsys::cpu::avx512_sgemm_kernels(), p); break;
    case Impl::avx2: recsys::cpu::sgemm(recsys::cpu::avx2_sgemm_kernels(), p); break;
#endif
    case Impl::portable: recsys::cpu::sgemm(recsys::cpu::portable_sgemm_kernels(), p); break;
    default: recsys::cpu::gemm_reference(p); break;
  }
}

void bm_sgemm(benchmark::State& state, Impl impl, Shape shape, int threads) {
  if (!supported(impl)) {
    state.SkipWithError("this CPU lacks the instruction set");
    return;
  }
  recsys::set_num_threads(threads);
  Problem prob(shape);
  run(impl, prob.p);  // warm up: packing buffers, OpenMP threads, caches
  for (auto _ : state) {
    run(impl, prob.p);
    benchmark::DoNotOptimize(prob.c.data());
    benchmark::ClobberMemory();
  }
  const double flops = 2.0 * static_cast<double>(shape.m * shape.n * shape.k);
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9 * static_cast<double>(state.iterations()),
                                                 benchmark::Counter::kIsRate);
  state.SetLabel(impl == Impl::fast ? recsys::cpu::sgemm_kernels().name : impl_name(impl));
}

/// Names are sgemm/<impl>/<shape>/threads:<t>, which bench/compare_pytorch.py parses.
const bool registered = [] {
  for (Impl impl : {Impl::fast, Impl::avx512, Impl::avx2, Impl::portable, Impl::reference})
    for (const Shape& s : shapes())
      for (int threads : {1, 2}) {
        if (impl == Impl::portable && s.m * s.n * s.k > (std::int64_t{1} << 28)) continue;  // too slow to matter
        const std::string name =
            std::string("sgemm/") + impl_name(impl) + "/" + s.name + "/threads:" + std::to_string(threads);
        benchmark::RegisterBenchmark(name.c_str(), bm_sgemm, impl, s, threads)->UseRealTime()->Unit(
            benchmark::kMicrosecond);
      }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
