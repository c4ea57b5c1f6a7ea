// bench/lstm_bench.cpp — lstm() forward and forward+backward at the reference model's shapes (T = 49, I = H = 128).
//
// Reports samples/s and GFLOP/s (GEMM flops only: forward 2·B·T·4H·(I + H), backward twice that) for
// B = 32 and 256 on 1 and 2 threads; the CPU column is the process's CPU time (all threads), which
// stays meaningful on a shared machine where wall time does not. The backward pass is seeded through
// the last h only, as in the reference model (LSTM(128) → Dense(1)).
//
// The PyTorch peer, timed by hand on the same machine (torch with MKL; same shapes and seeding):
//   import time, torch; torch.set_num_threads(THREADS); m = torch.nn.LSTM(128, 128, batch_first=True)
//   x = torch.randn(B, 49, 128, requires_grad=True); gh = torch.ones(1, B, 128)
//   forward:           with torch.no_grad(): m(x)
//   forward_backward:  x.grad = None; [p.grad = None for p in m.parameters()]; m(x)[1][0].backward(gh)
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "recsys/autograd/engine.hpp"
#include "recsys/core/factory.hpp"
#include "recsys/ops/lstm.hpp"

namespace {

using namespace recsys;

constexpr std::int64_t kSteps = 49, kInput = 128, kHidden = 128;

void lstm_bench(benchmark::State& state, bool with_backward) {
  const std::int64_t B = state.range(0);
  const int saved_threads = num_threads();
  set_num_threads(static_cast<int>(state.range(1)));
  Generator gen(1);
  const double bound = 1.0 / 11.3;  // 1/sqrt(H), Keras/PyTorch-style scale keeps the gates out of saturation
  Tensor x = randn({B, kSteps, kInput}, gen);
  Tensor w_ih = uniform({kInput, 4 * kHidden}, -bound, bound, gen);
  Tensor w_hh = uniform({kHidden, 4 * kHidden}, -bound, bound, gen);
  Tensor bias = uniform({4 * kHidden}, -bound, bound, gen);
  const Tensor grad_h = ones({B, kHidden});
  if (with_backward)
    for (Tensor* t : {&x, &w_ih, &w_hh, &bias}) t->set_requires_grad();

  for (auto _ : state) {
    if (with_backward) {
      for (Tensor* t : {&x, &w_ih, &w_hh, &bias}) t->set_grad(Tensor());
      const LstmResult r = lstm(x, w_ih, w_hh, bias);
      autograd::backward({r.h}, {grad_h});
      benchmark::DoNotOptimize(w_hh.grad().data<float>());
    } else {
      NoGradGuard no_grad;
      const LstmResult r = lstm(x, w_ih, w_hh, bias);
      benchmark::DoNotOptimize(r.h.data<float>());
    }
  }
  const double forward_flops = 2.0 * B * kSteps * 4 * kHidden * (kInput + kHidden);
  const double flops = with_backward ? 3 * forward_flops : forward_flops;
  const auto iters = static_cast<double>(state.iterations());
  state.counters["samples/s"] = benchmark::Counter(static_cast<double>(B) * iters, benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] = benchmark::Counter(flops * iters * 1e-9, benchmark::Counter::kIsRate);
  state.SetLabel(std::string("cell isa ") + cpu::lstm_cell_isa_name());
  set_num_threads(saved_threads);
}

void apply_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"B", "threads"});
  for (std::int64_t batch : {32, 256})
    for (std::int64_t threads : {1, 2}) b->Args({batch, threads});
  b->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime()->MinTime(1.0);
}

}  // namespace

BENCHMARK_CAPTURE(lstm_bench, forward, false)->Apply(apply_shapes);
BENCHMARK_CAPTURE(lstm_bench, forward_backward, true)->Apply(apply_shapes);

BENCHMARK_MAIN();
