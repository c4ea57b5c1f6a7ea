// bench/synthetic_bench.cpp — throughput of the synthetic movie-site generator (ratings/s), in memory and writing CSV.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <filesystem>
#include <string>

#ifdef _OPENMP
#include <omp.h>
#endif

#include <recsys/data/synthetic.hpp>

namespace {

using recsys::data::SyntheticConfig;
using recsys::data::SyntheticGenerator;
using recsys::data::SyntheticRating;

/// The demo's site at a given number of ratings: 600 users and 1,500 movies up to 100k, growing beyond.
SyntheticConfig config_for(std::int64_t ratings) {
  SyntheticConfig c;
  c.ratings = ratings;
  c.users = std::max<std::int64_t>(600, ratings / 100);
  c.items = std::max<std::int64_t>(1500, ratings / 200);
  return c;
}

void set_threads(benchmark::State& state) {
#ifdef _OPENMP
  omp_set_num_threads(static_cast<int>(state.range(1)));
#endif
  state.counters["threads"] = static_cast<double>(state.range(1));
}

// Generation only: every row goes to a sink that counts review bytes (no I/O).
void BM_SyntheticGenerate(benchmark::State& state) {
  set_threads(state);
  const SyntheticGenerator gen(config_for(state.range(0)));
  std::int64_t bytes = 0;
  for (auto _ : state) {
    const auto s = gen.generate([&](const SyntheticRating& r) { bytes += static_cast<std::int64_t>(r.review.size()); });
    benchmark::DoNotOptimize(s.bayes_accuracy);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));  // items/s = ratings/s
  state.counters["review_bytes"] = static_cast<double>(bytes) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_SyntheticGenerate)
    ->ArgsProduct({{100000, 1000000}, {1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The whole job: build the site, write user_data.csv, item_data.csv and the summary.
void BM_SyntheticWriteCsv(benchmark::State& state) {
  set_threads(state);
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("recsys_synthetic_bench_" + std::to_string(::getpid()));
  std::uintmax_t bytes = 0;
  for (auto _ : state) {
    recsys::data::write_synthetic(dir.string(), config_for(state.range(0)));
    bytes = std::filesystem::file_size(dir / "user_data.csv") + std::filesystem::file_size(dir / "item_data.csv");
  }
  std::filesystem::remove_all(dir);
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_SyntheticWriteCsv)->ArgsProduct({{100000}, {1, 2}})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
