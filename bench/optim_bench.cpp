// bench/optim_bench.cpp — optimizer update throughput (GB/s) on the reference CNN-LSTM's parameter set: fused Adam/AdamW/SGD
// steps, the raw Adam kernel on the 1000x128 embedding, an op-by-op (unfused) Adam as the peer, and clip_grad_norm.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "recsys/core/factory.hpp"
#include "recsys/core/parallel.hpp"
#include "recsys/optim/adam.hpp"
#include "recsys/optim/clip_grad.hpp"
#include "recsys/optim/sgd.hpp"

namespace {

using namespace recsys;

/// The parameters of Embedding(1000, 128) → Conv1D(128, 3) → LSTM(128) → Dense(1), float32.
std::vector<Tensor> model_parameters() {
  Generator gen(1);
  std::vector<Tensor> ps = {
      randn({1000, 128}, gen),                           // embedding
      randn({3, 128, 128}, gen), randn({128}, gen),      // conv kernel, bias
      randn({128, 512}, gen), randn({128, 512}, gen),    // LSTM W_ih, W_hh (4 gates)
      randn({512}, gen),                                 // LSTM bias
      randn({128, 1}, gen), randn({1}, gen),             // dense
  };
  for (Tensor& p : ps) {
    p.set_requires_grad();
    p.set_grad(randn(p.shape(), gen));
  }
  return ps;
}

std::int64_t total_elements(const std::vector<Tensor>& ps) {
  std::int64_t n = 0;
  for (const Tensor& p : ps) n += p.numel();
  return n;
}

/// Bytes an update moves per element: Adam reads p, g, m, v and writes p, m, v (AMSGrad adds vmax
/// read + write); SGD with momentum reads p, g, buf and writes p, buf.
void report(benchmark::State& state, std::int64_t elements, int bytes_per_element) {
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(elements) * bytes_per_element,
                                              benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
  state.counters["params"] = static_cast<double>(elements);
}

void BM_AdamStep(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(0)));
  const std::vector<Tensor> ps = model_parameters();
  optim::Adam adam(ps, {.lr = 1e-3});
  for (auto _ : state) adam.step();
  report(state, total_elements(ps), 7 * 4);
}

void BM_AdamAmsgradStep(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(0)));
  const std::vector<Tensor> ps = model_parameters();
  optim::Adam adam(ps, {.lr = 1e-3, .amsgrad = true});
  for (auto _ : state) adam.step();
  report(state, total_elements(ps), 9 * 4);
}

void BM_AdamWStep(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(0)));
  const std::vector<Tensor> ps = model_parameters();
  optim::AdamW adamw(ps);
  for (auto _ : state) adamw.step();
  report(state, total_elements(ps), 7 * 4);
}

void BM_SgdMomentumStep(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(0)));
  const std::vector<Tensor> ps = model_parameters();
  optim::SGD sgd(ps, {.lr = 0.01, .momentum = 0.9});
  for (auto _ : state) sgd.step();
  report(state, total_elements(ps), 5 * 4);
}

/// The fused kernel alone on the 1000x128 embedding table (no per-step bookkeeping).
void BM_AdamKernelEmbedding(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(0)));
  const std::int64_t n = 1000 * 128;
  std::vector<float> p(n, 0.5f), g(n, 0.1f), m(n, 0.f), v(n, 0.f);
  AdamUpdate u{.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .step_size = 1e-2, .bias_correction2_sqrt = 0.03};
  for (auto _ : state) {
    cpu::adam_update<float>(p.data(), g.data(), m.data(), v.data(), nullptr, n, u);
    benchmark::ClobberMemory();
  }
  report(state, n, 7 * 4);
}

/// The peer: the same Adam update done op by op, one pass over memory per elementwise op, as an
/// unfused framework (PyTorch's foreach=False path) runs it: m *= b1; m += (1-b1) g; v *= b2;
/// v += (1-b2) g*g; d = sqrt(v); d /= bc2; d += eps; t = m / d; p -= step * t.
void BM_AdamUnfusedEmbedding(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(0)));
  const std::int64_t n = 1000 * 128;
  std::vector<float> p(n, 0.5f), g(n, 0.1f), m(n, 0.f), v(n, 0.f), d(n), t(n);
  const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, step = 1e-2f, bc2 = 0.03f;
  const bool par = n >= kParallelGrain;
  for (auto _ : state) {
#pragma omp parallel if (par)
    {
#pragma omp for simd schedule(static)
      for (std::int64_t i = 0; i < n; ++i) m[i] *= b1;
#pragma omp for simd schedule(static)
      for (std::int64_t i = 0; i < n; ++i) m[i] += (1 - b1) * g[i];
#pragma omp for simd schedule(static)
      for (std::int64_t i = 0; i < n; ++i) v[i] *= b2;
#pragma omp for simd schedule(static)
      for (std::int64_t i = 0; i < n; ++i) v[i] += (1 - b2) * g[i] * g[i];
#pragma omp for simd schedule(static)
      for (std::int64_t i = 0; i < n; ++i) d[i] = std::sqrt(v[i]);
#pragma omp for simd schedule(static)
      for (std::int64_t i = 0; i < n; ++i) d[i] /= bc2;
#pragma omp for simd schedule(static)
      for (std::int64_t i = 0; i < n; ++i) d[i] += eps;
#pragma omp for simd schedule(static)
      for (std::int64_t i = 0; i < n; ++i) t[i] = m[i] / d[i];
#pragma omp for simd schedule(static)
      for (std::int64_t i = 0; i < n; ++i) p[i] -= step * t[i];
    }
    benchmark::ClobberMemory();
  }
  report(state, n, 7 * 4);  // the same useful work, so GB/s compares directly with BM_AdamKernelEmbedding
}

void BM_ClipGradNorm(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(0)));
  const std::vector<Tensor> ps = model_parameters();
  for (auto _ : state) benchmark::DoNotOptimize(optim::clip_grad_norm(ps, 1e30));  // norm only: never scales
  report(state, total_elements(ps), 4);
}

}  // namespace

BENCHMARK(BM_AdamStep)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_AdamAmsgradStep)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_AdamWStep)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_SgdMomentumStep)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_AdamKernelEmbedding)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_AdamUnfusedEmbedding)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_ClipGradNorm)->Arg(1)->Arg(2)->UseRealTime();

BENCHMARK_MAIN();
