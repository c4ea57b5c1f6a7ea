// bench/cuda/cuda_train_bench.cpp — the reference model's training step on the GPU (samples/s at batch 32 and 256, the allocator's steady state); --profile prints where a step's time goes.
#include <recsys/recsys.hpp>
#include <recsys/nn/conv1d.hpp>
#include <recsys/nn/dense.hpp>
#include <recsys/nn/embedding.hpp>
#include <recsys/nn/lstm.hpp>
#include <recsys/nn/maxpool1d.hpp>
#include <recsys/nn/sequential.hpp>
#include <recsys/optim/adam.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

#include "bench_util.hpp"
#include "recsys/cuda/memory.cuh"

using namespace recsys;

namespace {

/// DESIGN.md §2: Embedding(1000, 128) → Conv1D(128, 3, relu) → MaxPool1D(2) → LSTM(128) → Dense(1, sigmoid).
auto reference_model() {
  return nn::Sequential(nn::Embedding(1000, 128), nn::Conv1D(128, 128, 3, {.activation = nn::Activation::relu}),
                        nn::MaxPool1D(2), nn::LSTM(128, 128), nn::Dense(128, 1, nn::Activation::sigmoid));
}

/// The reference model on the GPU with Adam and one fixed (batch, 100) batch of token ids;
/// operator() is one training step, reading the loss back as a training loop does.
struct TrainStep {
  using Model = decltype(reference_model());
  static Model seeded_model() {
    manual_seed(1);
    Model m = reference_model();
    m.to(Device::cuda());
    return m;
  }

  explicit TrainStep(std::int64_t batch) : model(seeded_model()), opt(model.parameters(), {.lr = 1e-3}) {
    Generator g(2);
    ids = randint(0, 1000, {batch, 100}, g).to(Device::cuda());
    labels = randint(0, 2, {batch, 1}, g, DType::float32).to(Device::cuda());
  }
  float operator()() {
    opt.zero_grad();
    const Tensor loss = binary_cross_entropy(model(ids), labels);
    loss.backward();
    opt.step();
    return loss.item<float>();
  }

  Model model;
  optim::Adam opt;
  Tensor ids, labels;
};

/// range(1) 1 runs the LSTM recurrence as one persistent kernel (cuda::LstmRecurrence).
void BM_reference_model_train_step(benchmark::State& state) {
  const std::int64_t batch = state.range(0);
  const cuda::LstmRecurrenceGuard recurrence(state.range(1) ? cuda::LstmRecurrence::persistent
                                                               : cuda::LstmRecurrence::stepwise);
  TrainStep step(batch);
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

/// --profile: where a training step's GPU time goes, per scope and per kernel, for each batch and
/// recurrence (profiler::Session times every kernel slot call with CUDA events); with
/// --profile_dir=DIR also a chart and a Chrome trace of each, DIR/profile_b<batch>_<recurrence>.svg
/// and .trace.json.
int profile_main(const std::string& dir) {
  if (!cuda::is_available()) {
    std::printf("cuda_train_bench --profile: SKIPPED: no CUDA GPU available\n");
    return 0;
  }
  cuda::testing::enable_backend();
  constexpr int kSteps = 20;
  for (const std::int64_t batch : {32, 256}) {
    for (const bool persistent : {false, true}) {
      const cuda::LstmRecurrenceGuard recurrence(persistent ? cuda::LstmRecurrence::persistent
                                                            : cuda::LstmRecurrence::stepwise);
      TrainStep step(batch);
      for (int i = 0; i < 3; ++i) step();
      cuda::synchronize();
      profiler::Session session;
      for (int i = 0; i < kSteps; ++i) step();
      const profiler::Report r = session.stop();
      const char* mode = persistent ? "persistent" : "stepwise";
      std::printf("#### batch %lld, %s recurrence (per step, mean of %d)\n\n```\n%s\n%s```\n\n",
                  static_cast<long long>(batch), mode, kSteps, r.scope_table(20, kSteps).c_str(),
                  r.table(25, kSteps).c_str());
      if (!dir.empty()) {
        const std::string stem = dir + "/profile_b" + std::to_string(batch) + "_" + mode;
        io::write_file_atomic(stem + ".svg", render_profile_svg(r,
                                                                "Reference model training step on the GPU, batch " +
                                                                    std::to_string(batch) + ", " + mode +
                                                                    " LSTM recurrence",
                                                                kSteps));
        io::write_file_atomic(stem + ".trace.json", io::chrome_trace(r));
      }
    }
  }
  return 0;
}

int main(int argc, char** argv) {
  bool profile = false;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg(argv[i]);
    if (arg == "--profile") profile = true;
    if (arg.substr(0, 14) == "--profile_dir=") dir = arg.substr(14), profile = true;
  }
  return profile ? profile_main(dir) : recsys::cuda::bench::run_main(argc, argv);
}
