// bench/cuda/cuda_train_bench.cpp — the reference model's training step on the GPU (samples/s at batch 32 and 256) and the allocator's steady state.
#include <recsys/recsys.hpp>
#include <recsys/nn/conv1d.hpp>
#include <recsys/nn/dense.hpp>
#include <recsys/nn/embedding.hpp>
#include <recsys/nn/lstm.hpp>
#include <recsys/nn/maxpool1d.hpp>
#include <recsys/nn/sequential.hpp>
#include <recsys/optim/adam.hpp>

#include <chrono>

#include "bench_util.hpp"
#include "recsys/cuda/memory.cuh"

using namespace recsys;

namespace {

/// DESIGN.md §2: Embedding(1000, 128) → Conv1D(128, 3, relu) → MaxPool1D(2) → LSTM(128) → Dense(1, sigmoid).
auto reference_model() {
  return nn::Sequential(nn::Embedding(1000, 128), nn::Conv1D(128, 128, 3, {.activation = nn::Activation::relu}),
                        nn::MaxPool1D(2), nn::LSTM(128, 128), nn::Dense(128, 1, nn::Activation::sigmoid));
}

/// One Adam step on a (batch, 100) batch of token ids, reading the loss back as a training loop does;
/// range(1) 1 runs the LSTM recurrence as one persistent kernel (cuda::LstmRecurrence).
void BM_reference_model_train_step(benchmark::State& state) {
  const std::int64_t batch = state.range(0);
  const cuda::LstmRecurrenceGuard recurrence(state.range(1) ? cuda::LstmRecurrence::persistent
                                                               : cuda::LstmRecurrence::stepwise);
  manual_seed(1);
  auto model = reference_model();
  model.to(Device::cuda());
  optim::Adam opt(model.parameters(), {.lr = 1e-3});
  Generator g(2);
  const Tensor ids = randint(0, 1000, {batch, 100}, g).to(Device::cuda());
  const Tensor labels = randint(0, 2, {batch, 1}, g, DType::float32).to(Device::cuda());
  auto step = [&] {
    opt.zero_grad();
    const Tensor loss = binary_cross_entropy(model(ids), labels);
    loss.backward();
    opt.step();
    return loss.item<float>();
  };
  for (int i = 0; i < 3; ++i) step();  // warm-up: the allocator's cache fills here
  const AllocatorStats before = cuda::memory_stats();
  std::int64_t steps = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(step());
    ++steps;
  }
  const AllocatorStats after = cuda::memory_stats();
  state.SetItemsProcessed(steps * batch);
  state.counters["cudaMalloc_per_step"] =
      static_cast<double>(after.system_allocations - before.system_allocations) / static_cast<double>(steps);
  state.counters["cache_hit_rate"] = static_cast<double>(after.cache_hits - before.cache_hits) /
                                     static_cast<double>(std::max<std::uint64_t>(1, after.allocations - before.allocations));
  state.counters["peak_MB"] = static_cast<double>(after.peak_bytes_in_use) / 1e6;
}

}  // namespace

BENCHMARK(BM_reference_model_train_step)
    ->ArgsProduct({{32, 256}, {0, 1}})
    ->ArgNames({"", "persistent"})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0);

int main(int argc, char** argv) { return recsys::cuda::bench::run_main(argc, argv); }
