// bench/csv_bench.cpp — CSV parse throughput (MB/s) on MovieLens ratings.csv: tokenize, typed, inferred, chunked.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>
#include <vector>

#include "recsys/data/csv.hpp"

namespace {

using namespace recsys::data;

/// ratings.csv from ../shared/data, or the path in RECSYS_CSV_BENCH_FILE.
std::string ratings_path() {
  if (const char* p = std::getenv("RECSYS_CSV_BENCH_FILE")) return p;
  return std::string(RECSYS_SHARED_DATA) + "/movielens-ml-latest-small/ratings.csv";
}

/// False (and the benchmark marked skipped) when the file is absent.
bool have_file(benchmark::State& state, const std::string& path) {
  if (std::filesystem::exists(path)) return true;
  state.SkipWithError(("missing " + path + " (the shared data sets live in ../shared/data)").c_str());
  return false;
}

void report(benchmark::State& state, const std::string& path, std::int64_t rows) {
  const auto bytes = static_cast<std::int64_t>(std::filesystem::file_size(path));
  state.SetBytesProcessed(state.iterations() * bytes);
  state.counters["rows/s"] = benchmark::Counter(static_cast<double>(rows) * static_cast<double>(state.iterations()),
                                                benchmark::Counter::kIsRate);
}

/// Records and fields only (escapes resolved, no typing): the state machine alone.
void BM_csv_tokenize(benchmark::State& state) {
  const std::string path = ratings_path();
  if (!have_file(state, path)) return;
  std::int64_t rows = 0;
  for (auto _ : state) {
    CsvReader reader(path);
    std::vector<std::string_view> fields;
    rows = 0;
    while (reader.next_record(fields)) ++rows;
    benchmark::DoNotOptimize(rows);
  }
  report(state, path, rows);
}

/// read_csv with the column types inferred (what pandas.read_csv does by default).
void BM_read_csv_inferred(benchmark::State& state) {
  const std::string path = ratings_path();
  if (!have_file(state, path)) return;
  std::int64_t rows = 0;
  for (auto _ : state) {
    const Table t = read_csv(path);
    rows = t.num_rows();
    benchmark::DoNotOptimize(t.column(0).ints().data());
  }
  report(state, path, rows);
}

/// read_csv with every type given (parsed straight into int64/float64 columns).
void BM_read_csv_typed(benchmark::State& state) {
  const std::string path = ratings_path();
  if (!have_file(state, path)) return;
  CsvOptions options;
  options.dtypes = {{"userId", ColumnType::int64},
                    {"movieId", ColumnType::int64},
                    {"rating", ColumnType::float64},
                    {"timestamp", ColumnType::int64}};
  std::int64_t rows = 0;
  for (auto _ : state) {
    const Table t = read_csv(path, options);
    rows = t.num_rows();
    benchmark::DoNotOptimize(t.column(0).ints().data());
  }
  report(state, path, rows);
}

/// Streaming: 64 KiB reads and 8,192-row chunks, so memory stays constant for any file size.
void BM_read_csv_chunked(benchmark::State& state) {
  const std::string path = ratings_path();
  if (!have_file(state, path)) return;
  CsvOptions options;
  options.buffer_bytes = 64 << 10;
  std::int64_t rows = 0;
  for (auto _ : state) {
    CsvReader reader(path, options);
    rows = 0;
    while (auto chunk = reader.next_chunk(8192)) rows += chunk->num_rows();
    benchmark::DoNotOptimize(rows);
  }
  report(state, path, rows);
}

}  // namespace

BENCHMARK(BM_csv_tokenize)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_read_csv_inferred)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_read_csv_typed)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_read_csv_chunked)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
