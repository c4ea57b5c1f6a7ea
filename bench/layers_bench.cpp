// bench/layers_bench.cpp — embedding, conv1d, maxpool1d, dropout and the fused embedding-conv-pool at the reference model's shapes: GB/s, GFLOP/s, samples/s.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include <recsys/recsys.hpp>

// The reference model (DESIGN.md §2): ids (B, 100) → Embedding(1000, 128) → Conv1D(128, 3) → ReLU →
// MaxPool1D(2) → LSTM(128) → Dense(1). Every benchmark takes the batch size B as its argument.
// Backward benchmarks keep the graph (retain_graph) and clear the leaves' .grad each iteration,
// so they time exactly one backward pass of the op.

namespace {

using namespace recsys;

constexpr std::int64_t kVocab = 1000, kDim = 128, kSeq = 100, kKernel = 3, kFilters = 128;

void set_rates(benchmark::State& state, std::int64_t batch, double bytes, double flops) {
  const auto iters = static_cast<double>(state.iterations());
  state.counters["samples/s"] = benchmark::Counter(iters * static_cast<double>(batch), benchmark::Counter::kIsRate);
  if (bytes > 0) state.counters["GB/s"] = benchmark::Counter(iters * bytes * 1e-9, benchmark::Counter::kIsRate);
  if (flops > 0) state.counters["GFLOP/s"] = benchmark::Counter(iters * flops * 1e-9, benchmark::Counter::kIsRate);
}

Tensor model_ids(std::int64_t batch, Generator& gen) { return randint(0, kVocab, {batch, kSeq}, gen, DType::int32); }

void BM_embedding_gather(benchmark::State& state) {
  const std::int64_t batch = state.range(0);
  Generator gen(1);
  const Tensor ids = model_ids(batch, gen), w = randn({kVocab, kDim}, gen);
  for (auto _ : state) benchmark::DoNotOptimize(embedding(w, ids).data<float>());
  // each looked-up row is read once and written once
  set_rates(state, batch, 2.0 * batch * kSeq * kDim * sizeof(float), 0);
}

void BM_embedding_scatter_add(benchmark::State& state) {
  const std::int64_t batch = state.range(0);
  Generator gen(2);
  const Tensor ids = model_ids(batch, gen), w = randn({kVocab, kDim}, gen).set_requires_grad();
  const Tensor gy = randn({batch, kSeq, kDim}, gen);
  const Tensor out = embedding(w, ids, 0);
  for (auto _ : state) {
    w.set_grad(Tensor());
    out.backward(gy, /*retain_graph=*/true);
    benchmark::DoNotOptimize(w.grad().data<float>());
  }
  // gradient rows read once; the (vocab, dim) table zeroed and read-modify-written at least once
  set_rates(state, batch, (1.0 * batch * kSeq * kDim + 2.0 * kVocab * kDim) * sizeof(float), 0);
}

double conv_flops(std::int64_t batch, std::int64_t t_out) { return 2.0 * batch * t_out * kKernel * kDim * kFilters; }

void BM_conv1d_forward(benchmark::State& state) {
  const std::int64_t batch = state.range(0);
  Generator gen(3);
  const Tensor x = randn({batch, kSeq, kDim}, gen), w = randn({kKernel, kDim, kFilters}, gen),
               b = randn({kFilters}, gen);
  for (auto _ : state) benchmark::DoNotOptimize(conv1d(x, w, b).data<float>());
  set_rates(state, batch, 0, conv_flops(batch, kSeq - kKernel + 1));
}

void BM_conv1d_forward_same(benchmark::State& state) {
  const std::int64_t batch = state.range(0);
  Generator gen(3);
  const Tensor x = randn({batch, kSeq, kDim}, gen), w = randn({kKernel, kDim, kFilters}, gen),
               b = randn({kFilters}, gen);
  for (auto _ : state) benchmark::DoNotOptimize(conv1d(x, w, b, 1, "same").data<float>());
  set_rates(state, batch, 0, conv_flops(batch, kSeq));
}

/// The textbook alternative, for comparison: copy every window into a (B·T_out, K·C) im2col
/// matrix, then one matmul. Same arithmetic, plus the copy the overlapping-window GEMM avoids.
void BM_conv1d_forward_im2col(benchmark::State& state) {
  const std::int64_t batch = state.range(0), t_out = kSeq - kKernel + 1;
  Generator gen(3);
  const Tensor x = randn({batch, kSeq, kDim}, gen), w = randn({kKernel, kDim, kFilters}, gen);
  const Tensor w2 = w.view({kKernel * kDim, kFilters});
  for (auto _ : state) {
    Tensor cols = Tensor::empty({batch * t_out, kKernel * kDim});
    const float* xs = x.data<float>();
    float* cs = cols.data<float>();
#pragma omp parallel for schedule(static)
    for (std::int64_t r = 0; r < batch * t_out; ++r) {
      const float* src = xs + (r / t_out * kSeq + r % t_out) * kDim;
      std::copy(src, src + kKernel * kDim, cs + r * kKernel * kDim);
    }
    benchmark::DoNotOptimize(matmul(cols, w2).data<float>());
  }
  set_rates(state, batch, 0, conv_flops(batch, t_out));
}

void BM_conv1d_backward(benchmark::State& state) {
  const std::int64_t batch = state.range(0), t_out = kSeq - kKernel + 1;
  Generator gen(4);
  const Tensor x = randn({batch, kSeq, kDim}, gen).set_requires_grad(),
               w = randn({kKernel, kDim, kFilters}, gen).set_requires_grad(),
               b = randn({kFilters}, gen).set_requires_grad();
  const Tensor gy = randn({batch, t_out, kFilters}, gen);
  const Tensor out = conv1d(x, w, b);
  for (auto _ : state) {
    for (const Tensor* t : {&x, &w, &b}) t->set_grad(Tensor());
    out.backward(gy, /*retain_graph=*/true);
    benchmark::DoNotOptimize(w.grad().data<float>());
  }
  set_rates(state, batch, 0, 2 * conv_flops(batch, t_out));  // input and weight gradients
}

/// The backward pass of the model's first conv layer: the input is data, so only weight and bias.
void BM_conv1d_backward_weight_only(benchmark::State& state) {
  const std::int64_t batch = state.range(0), t_out = kSeq - kKernel + 1;
  Generator gen(4);
  const Tensor x = randn({batch, kSeq, kDim}, gen), w = randn({kKernel, kDim, kFilters}, gen).set_requires_grad(),
               b = randn({kFilters}, gen).set_requires_grad();
  const Tensor gy = randn({batch, t_out, kFilters}, gen);
  const Tensor out = conv1d(x, w, b);
  for (auto _ : state) {
    for (const Tensor* t : {&w, &b}) t->set_grad(Tensor());
    out.backward(gy, /*retain_graph=*/true);
    benchmark::DoNotOptimize(w.grad().data<float>());
  }
  set_rates(state, batch, 0, conv_flops(batch, t_out));
}

void BM_maxpool1d_forward(benchmark::State& state) {
  const std::int64_t batch = state.range(0), t_in = kSeq - kKernel + 1;
  Generator gen(5);
  const Tensor x = randn({batch, t_in, kFilters}, gen);
  for (auto _ : state) benchmark::DoNotOptimize(maxpool1d(x, 2).data<float>());
  // x read; out and the int32 argmax written
  set_rates(state, batch, (1.0 * batch * t_in * kFilters + 2.0 * batch * (t_in / 2) * kFilters) * 4, 0);
}

void BM_maxpool1d_backward(benchmark::State& state) {
  const std::int64_t batch = state.range(0), t_in = kSeq - kKernel + 1;
  Generator gen(6);
  const Tensor x = randn({batch, t_in, kFilters}, gen).set_requires_grad();
  const Tensor gy = randn({batch, t_in / 2, kFilters}, gen);
  const Tensor out = maxpool1d(x, 2);
  for (auto _ : state) {
    x.set_grad(Tensor());
    out.backward(gy, /*retain_graph=*/true);
    benchmark::DoNotOptimize(x.grad().data<float>());
  }
  // gy and argmax read, gx written
  set_rates(state, batch, (2.0 * batch * (t_in / 2) * kFilters + 1.0 * batch * t_in * kFilters) * 4, 0);
}

void BM_dropout_forward(benchmark::State& state) {
  const std::int64_t batch = state.range(0);
  Generator gen(7);
  const Tensor x = randn({batch, kSeq, kDim}, gen);  // Keras' CNN-LSTM drops the embedding output
  for (auto _ : state) benchmark::DoNotOptimize(dropout(x, 0.25, gen).data<float>());
  set_rates(state, batch, 2.0 * batch * kSeq * kDim * sizeof(float), 0);
}

/// Embedding → Conv1D(ReLU) → MaxPool1D, forward with gradients and backward to E, W and b: the
/// training step's first three layers. `pooled_op` runs embedding_conv1d_maxpool (the pooling in the
/// gather, the pooled gradient scattered straight into the table's), otherwise the same three ops
/// one by one (embedding_conv1d, relu, maxpool1d). Same bits; the difference is the conv output and
/// the passes over it.
void embedding_conv_pool_train(benchmark::State& state, bool pooled_op) {
  const std::int64_t batch = state.range(0), t_pool = (kSeq - kKernel + 1) / 2;
  Generator gen(8);
  const Tensor ids = model_ids(batch, gen);
  const Tensor e = randn({kVocab, kDim}, gen).set_requires_grad();
  const Tensor w = randn({kKernel, kDim, kFilters}, gen).set_requires_grad();
  const Tensor b = randn({kFilters}, gen).set_requires_grad();
  const Tensor gy = randn({batch, t_pool, kFilters}, gen);
  for (auto _ : state) {
    for (const Tensor* p : {&e, &w, &b}) p->set_grad(Tensor());
    const Tensor y = pooled_op ? embedding_conv1d_maxpool(ids, e, w, b, 1, "valid", 0, true, 2)
                               : maxpool1d(relu(embedding_conv1d(ids, e, w, b, 1, "valid", 0)), 2);
    y.backward(gy);
    benchmark::DoNotOptimize(w.grad().data<float>());
  }
  set_rates(state, batch, 0, 0);
}
void BM_embedding_conv_pool_train(benchmark::State& state) { embedding_conv_pool_train(state, true); }
void BM_embedding_conv_pool_train_three_ops(benchmark::State& state) { embedding_conv_pool_train(state, false); }

void batches(benchmark::internal::Benchmark* b) {
  for (std::int64_t batch : {32, 256}) b->Arg(batch);
  b->ArgName("batch")->UseRealTime()->Unit(benchmark::kMicrosecond);
}

}  // namespace

BENCHMARK(BM_embedding_gather)->Apply(batches);
BENCHMARK(BM_embedding_scatter_add)->Apply(batches);
BENCHMARK(BM_conv1d_forward)->Apply(batches);
BENCHMARK(BM_conv1d_forward_same)->Apply(batches);
BENCHMARK(BM_conv1d_forward_im2col)->Apply(batches);
BENCHMARK(BM_conv1d_backward)->Apply(batches);
BENCHMARK(BM_conv1d_backward_weight_only)->Apply(batches);
BENCHMARK(BM_maxpool1d_forward)->Apply(batches);
BENCHMARK(BM_maxpool1d_backward)->Apply(batches);
BENCHMARK(BM_dropout_forward)->Apply(batches);
BENCHMARK(BM_embedding_conv_pool_train)->Apply(batches);
BENCHMARK(BM_embedding_conv_pool_train_three_ops)->Apply(batches);

BENCHMARK_MAIN();
