// bench/model_bench.cpp — the reference CNN-LSTM end to end: a training step (forward, BCE, backward, Adam) and inference, in samples/s.
//
// The model is DESIGN.md §2's, built from the public API exactly as a user would write it:
//   ids (B, 100) → Embedding(1000, 128) → Conv1D(128, 3, relu) → MaxPool1D(2) → LSTM(128) → Dense(1, sigmoid),
//   binary_cross_entropy, Adam(1e-3), the plain loop: zero_grad, forward, loss, backward, step.
// One training step is ≈ 67 MFLOP per sample (kTrainFlops), inference ≈ 22.
//
// Two ways to run it:
//   model_bench [Google Benchmark flags]   model/train and model/infer at B = 32, 256 and 1, 2 threads;
//       counters samples/s, GFLOP/s and sys_allocs/step (system allocations per step after warm-up:
//       0 means the caching allocator serves the whole steady state).
//   model_bench --run=train|infer --batch=B --threads=T [--steps=50] [--warmup=5] [--profile]
//               [--profile_svg=FILE] [--profile_trace=FILE]
//       one measurement in a fresh process, printed as one JSON line (steps/s, samples/s, peak resident
//       memory, allocator counters). --profile then runs the steps again under profiler::Session and
//       prints, on stderr, where a step's time goes (per scope, then per scope and kernel);
//       --profile_svg also draws it (a bar per scope, split by kernel) into FILE, --profile_trace writes
//       its timeline as a Chrome trace (open in ui.perfetto.dev). bench/compare_pytorch.py runs this face interleaved with the same
//       model in PyTorch, whose data and loop bench/compare_pytorch.py copies from model_batch() below.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <recsys/recsys.hpp>

namespace {

using namespace recsys;

constexpr std::int64_t kVocab = 1000, kDim = 128, kSeq = 100, kKernel = 3;
constexpr std::int64_t kConvT = kSeq - kKernel + 1, kPoolT = kConvT / 2;  // 98 and 49 steps
// GEMM flops per sample (everything else is a few percent): conv, LSTM input projection, recurrence.
constexpr double kForwardFlops =
    2.0 * kConvT * kKernel * kDim * kDim + 2.0 * kPoolT * kDim * 4 * kDim + 2.0 * (kPoolT - 1) * kDim * 4 * kDim;
constexpr double kTrainFlops = 3 * kForwardFlops;

auto reference_model() {
  return nn::Sequential(nn::Embedding(kVocab, kDim), nn::Conv1D(kDim, kDim, kKernel, {.activation = nn::Activation::relu}),
                        nn::MaxPool1D(2), nn::LSTM(kDim, kDim), nn::Dense(kDim, 1, nn::Activation::sigmoid));
}

/// Ids and labels that depend on the position only, so the PyTorch script builds the same batch:
/// id(b, t) = ((b·100 + t)·2654435761 mod 2³²) mod 1000, label(b) = b mod 2.
struct Batch {
  Tensor ids, labels;
};
Batch model_batch(std::int64_t batch) {
  std::vector<std::int64_t> ids(static_cast<std::size_t>(batch * kSeq));
  std::vector<float> labels(static_cast<std::size_t>(batch));
  for (std::int64_t i = 0; i < batch * kSeq; ++i)
    ids[static_cast<std::size_t>(i)] = static_cast<std::int64_t>((static_cast<std::uint64_t>(i) * 2654435761u) % (1ull << 32) % kVocab);
  for (std::int64_t b = 0; b < batch; ++b) labels[static_cast<std::size_t>(b)] = static_cast<float>(b % 2);
  return {from_vector(ids, {batch, kSeq}), from_vector(labels, {batch, 1})};
}

/// The model, its optimizer and one batch: what a training loop holds.
struct Setup {
  decltype(reference_model()) model = reference_model();
  optim::Adam opt{model.parameters(), {.lr = 1e-3}};
  Batch data;
  explicit Setup(std::int64_t batch) : data(model_batch(batch)) {}

  float train_step() {
    opt.zero_grad();
    const Tensor loss = binary_cross_entropy(model(data.ids), data.labels);
    loss.backward();
    opt.step();
    return loss.item<float>();
  }
  float infer() {
    NoGradGuard no_grad;
    return model(data.ids).data<float>()[0];
  }
};

std::uint64_t system_allocations() { return CachingHostAllocator::instance().stats().system_allocations; }

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

void model_bench(benchmark::State& state, bool train) {
  const std::int64_t batch = state.range(0);
  const int saved_threads = num_threads();
  set_num_threads(static_cast<int>(state.range(1)));
  manual_seed(1);
  Setup s(batch);
  if (!train) s.model.eval();
  for (int i = 0; i < 3; ++i) train ? s.train_step() : s.infer();  // warm-up: Adam slots, gradients, cached blocks
  const std::uint64_t allocs_before = system_allocations();
  for (auto _ : state) benchmark::DoNotOptimize(train ? s.train_step() : s.infer());
  const auto iters = static_cast<double>(state.iterations());
  state.counters["samples/s"] = benchmark::Counter(iters * static_cast<double>(batch), benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] = benchmark::Counter(iters * static_cast<double>(batch) * (train ? kTrainFlops : kForwardFlops) * 1e-9,
                                                 benchmark::Counter::kIsRate);
  state.counters["sys_allocs/step"] = static_cast<double>(system_allocations() - allocs_before) / iters;
  set_num_threads(saved_threads);
}

void apply_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"B", "threads"});
  for (std::int64_t batch : {32, 256})
    for (std::int64_t threads : {1, 2}) b->Args({batch, threads});
  b->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime()->MinTime(2.0);
}

BENCHMARK_CAPTURE(model_bench, train, true)->Apply(apply_shapes);
BENCHMARK_CAPTURE(model_bench, infer, false)->Apply(apply_shapes);

/// Value of `--name=value` in argv, or `fallback`.
std::string flag(int argc, char** argv, const char* name, const std::string& fallback) {
  const std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) return argv[i] + prefix.size();
  return fallback;
}

bool has_flag(int argc, char** argv, const char* name) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return true;
  return false;
}

/// The --run face: warm-up steps, then `steps` timed steps; one JSON line on stdout.
int run_once(int argc, char** argv) {
  const std::string mode = flag(argc, argv, "run", "train");
  const std::int64_t batch = std::stoll(flag(argc, argv, "batch", "32"));
  const int threads = std::stoi(flag(argc, argv, "threads", "1"));
  const int steps = std::stoi(flag(argc, argv, "steps", "50")), warmup = std::stoi(flag(argc, argv, "warmup", "5"));
  if ((mode != "train" && mode != "infer") || batch < 1 || threads < 1 || steps < 1 || warmup < 0) {
    std::fprintf(stderr,
                 "usage: model_bench --run=train|infer --batch=B --threads=T [--steps=50] [--warmup=5] [--profile]"
                 " [--profile_svg=FILE] [--profile_trace=FILE]\n");
    return 2;
  }
  const bool train = mode == "train";
  set_num_threads(threads);
  manual_seed(1);
  Setup s(batch);
  if (!train) s.model.eval();
  const double rss_before = peak_rss_mib();
  float last = 0;
  for (int i = 0; i < warmup; ++i) last = train ? s.train_step() : s.infer();
  const std::uint64_t allocs_before = system_allocations();
  std::vector<double> times;
  for (int i = 0; i < steps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    last = train ? s.train_step() : s.infer();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  double total = 0;
  for (double t : times) total += t;
  std::sort(times.begin(), times.end());
  const AllocatorStats st = CachingHostAllocator::instance().stats();
  std::printf(
      "{\"mode\": \"%s\", \"batch\": %lld, \"threads\": %d, \"steps\": %d, \"samples_per_s\": %.3f, "
      "\"median_step_s\": %.6f, \"peak_rss_mib\": %.1f, \"rss_before_steps_mib\": %.1f, "
      "\"steady_system_allocations\": %llu, \"peak_tensor_mib\": %.1f, \"last\": %.6f}\n",
      mode.c_str(), static_cast<long long>(batch), threads, steps, static_cast<double>(steps * batch) / total,
      times[times.size() / 2], peak_rss_mib(), rss_before,
      static_cast<unsigned long long>(st.system_allocations - allocs_before),
      static_cast<double>(st.peak_bytes_in_use) / (1 << 20), static_cast<double>(last));
  const std::string svg_path = flag(argc, argv, "profile_svg", "");
  const std::string trace_path = flag(argc, argv, "profile_trace", "");
  if (has_flag(argc, argv, "--profile") || !svg_path.empty() || !trace_path.empty()) {
    // A separate pass, so the timer's own cost stays out of the numbers above.
    profiler::Session session;
    for (int i = 0; i < steps; ++i) last = train ? s.train_step() : s.infer();
    const profiler::Report r = session.stop();
    std::fprintf(stderr, "profile of %d %s steps at batch %lld, %d threads (per step):\n%s\n%s", steps, mode.c_str(),
                 static_cast<long long>(batch), threads, r.scope_table(30, steps).c_str(), r.table(40, steps).c_str());
    if (!svg_path.empty()) {
      const std::string title = "model_bench " + mode + ", batch " + std::to_string(batch) + ", " +
                                std::to_string(threads) + " threads: kernel time per step, by scope and kernel";
      io::write_file_atomic(svg_path, render_profile_svg(r, title, steps));
    }
    if (!trace_path.empty()) io::write_file_atomic(trace_path, io::chrome_trace(r));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--run=", 6) == 0) return run_once(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
