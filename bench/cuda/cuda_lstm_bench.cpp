// bench/cuda/cuda_lstm_bench.cpp — our LSTM layer (forward + backward through time) against cuDNN's at the reference model's shapes.
#include <recsys/recsys.hpp>
#include <recsys/ops/lstm.hpp>

#include <vector>

#include "bench_util.hpp"

#if defined(RECSYS_HAVE_CUDNN)
#include <cudnn.h>
#endif

using namespace recsys;

namespace {

// The reference model's LSTM: input 128 (the Conv1D filters), hidden 128, 49 steps (100 tokens,
// a width-3 convolution and a pool of 2), at the two batch sizes the training benchmark uses.
constexpr std::int64_t kSteps = 49, kInput = 128, kHidden = 128;

/// Our layer with the recurrence chosen by range(1): 0 stepwise (per-step GEMM and cell launches), 1 persistent.
void BM_lstm_ours(benchmark::State& state) {
  const std::int64_t B = state.range(0);
  const cuda::LstmRecurrenceGuard recurrence(state.range(1) ? cuda::LstmRecurrence::persistent
                                                               : cuda::LstmRecurrence::stepwise);
  Generator g(3);
  const Device gpu = Device::cuda();
  const Tensor x = (randn({B, kSteps, kInput}, g) * 0.5).to(gpu).set_requires_grad();
  const Tensor w_ih = (randn({kInput, 4 * kHidden}, g) * 0.05).to(gpu).set_requires_grad();
  const Tensor w_hh = (randn({kHidden, 4 * kHidden}, g) * 0.05).to(gpu).set_requires_grad();
  const Tensor bias = zeros({4 * kHidden}, gpu).set_requires_grad();
  const Tensor dy = randn({B, kSteps, kHidden}, g).to(gpu);
  auto run = [&] { lstm(x, w_ih, w_hh, bias).output.backward(dy); };
  run();
  for (auto _ : state) state.SetIterationTime(cuda::bench::time_gpu(10, run));
  state.SetItemsProcessed(state.iterations() * B);
}

#if defined(RECSYS_HAVE_CUDNN)
#define RECSYS_CUDNN(expr)                                                                     \
  do {                                                                                         \
    const cudnnStatus_t s_ = (expr);                                                           \
    if (s_ != CUDNN_STATUS_SUCCESS) RECSYS_FAIL("cuDNN: ", #expr, ": ", cudnnGetErrorString(s_)); \
  } while (0)

/// cuDNN's LSTM (v8 API): forward in training mode, then backward data and backward weights.
void BM_lstm_cudnn(benchmark::State& state) {
  const int B = static_cast<int>(state.range(0)), T = kSteps, I = kInput, H = kHidden;
  cudnnHandle_t h;
  RECSYS_CUDNN(cudnnCreate(&h));
  RECSYS_CUDNN(cudnnSetStream(h, cuda::current_stream()));
  cudnnDropoutDescriptor_t drop;
  RECSYS_CUDNN(cudnnCreateDropoutDescriptor(&drop));
  std::size_t drop_bytes = 0;
  RECSYS_CUDNN(cudnnDropoutGetStatesSize(h, &drop_bytes));
  const Tensor drop_states = empty({static_cast<std::int64_t>(drop_bytes) + 1}, {DType::float32, Device::cuda()});
  RECSYS_CUDNN(cudnnSetDropoutDescriptor(drop, h, 0.0f, drop_states.raw_data(), drop_bytes, 0));
  cudnnRNNDescriptor_t rnn;
  RECSYS_CUDNN(cudnnCreateRNNDescriptor(&rnn));
  RECSYS_CUDNN(cudnnSetRNNDescriptor_v8(rnn, CUDNN_RNN_ALGO_STANDARD, CUDNN_LSTM, CUDNN_RNN_DOUBLE_BIAS,
                                        CUDNN_UNIDIRECTIONAL, CUDNN_LINEAR_INPUT, CUDNN_DATA_FLOAT, CUDNN_DATA_FLOAT,
                                        CUDNN_DEFAULT_MATH, I, H, H, 1, drop, CUDNN_RNN_PADDED_IO_ENABLED));  // unpacked layouts need it
  cudnnRNNDataDescriptor_t x_desc, y_desc;
  std::vector<int> lengths(static_cast<std::size_t>(B), T);
  RECSYS_CUDNN(cudnnCreateRNNDataDescriptor(&x_desc));
  RECSYS_CUDNN(cudnnCreateRNNDataDescriptor(&y_desc));
  RECSYS_CUDNN(cudnnSetRNNDataDescriptor(x_desc, CUDNN_DATA_FLOAT, CUDNN_RNN_DATA_LAYOUT_BATCH_MAJOR_UNPACKED, T, B, I,
                                         lengths.data(), nullptr));
  RECSYS_CUDNN(cudnnSetRNNDataDescriptor(y_desc, CUDNN_DATA_FLOAT, CUDNN_RNN_DATA_LAYOUT_BATCH_MAJOR_UNPACKED, T, B, H,
                                         lengths.data(), nullptr));
  cudnnTensorDescriptor_t hc_desc;
  RECSYS_CUDNN(cudnnCreateTensorDescriptor(&hc_desc));
  const int dims[3] = {1, B, H}, strides[3] = {B * H, H, 1};
  RECSYS_CUDNN(cudnnSetTensorNdDescriptor(hc_desc, CUDNN_DATA_FLOAT, 3, dims, strides));
  std::size_t weight_bytes = 0, work_bytes = 0, reserve_bytes = 0;
  RECSYS_CUDNN(cudnnGetRNNWeightSpaceSize(h, rnn, &weight_bytes));
  RECSYS_CUDNN(cudnnGetRNNTempSpaceSizes(h, rnn, CUDNN_FWD_MODE_TRAINING, x_desc, &work_bytes, &reserve_bytes));
  Generator g(3);
  const Device gpu = Device::cuda();
  auto floats = [](std::size_t bytes) { return static_cast<std::int64_t>(bytes / 4 + 1); };
  const Tensor weights = (randn({floats(weight_bytes)}, g) * 0.05).to(gpu);
  const Tensor dweights = zeros({floats(weight_bytes)}, gpu), work = empty({floats(work_bytes)}, gpu),
               reserve = empty({floats(reserve_bytes)}, gpu);
  const Tensor x = (randn({B, T, I}, g) * 0.5).to(gpu), y = empty({B, T, H}, gpu), dy = randn({B, T, H}, g).to(gpu),
               dx = empty({B, T, I}, gpu);
  const Tensor seq = from_vector(std::vector<std::int32_t>(lengths.begin(), lengths.end())).to(gpu);
  auto run = [&] {
    RECSYS_CUDNN(cudnnRNNForward(h, rnn, CUDNN_FWD_MODE_TRAINING, seq.data<std::int32_t>(), x_desc, x.raw_data(), y_desc,
                                 y.raw_data(), hc_desc, nullptr, nullptr, hc_desc, nullptr, nullptr, weight_bytes,
                                 weights.raw_data(), work_bytes, work.raw_data(), reserve_bytes, reserve.raw_data()));
    RECSYS_CUDNN(cudnnRNNBackwardData_v8(h, rnn, seq.data<std::int32_t>(), y_desc, y.raw_data(), dy.raw_data(), x_desc,
                                         dx.raw_data(), hc_desc, nullptr, nullptr, nullptr, hc_desc, nullptr, nullptr,
                                         nullptr, weight_bytes, weights.raw_data(), work_bytes, work.raw_data(),
                                         reserve_bytes, reserve.raw_data()));
    RECSYS_CUDNN(cudnnRNNBackwardWeights_v8(h, rnn, CUDNN_WGRAD_MODE_ADD, seq.data<std::int32_t>(), x_desc, x.raw_data(),
                                            hc_desc, nullptr, y_desc, y.raw_data(), weight_bytes, dweights.raw_data(),
                                            work_bytes, work.raw_data(), reserve_bytes, reserve.raw_data()));
  };
  run();
  for (auto _ : state) state.SetIterationTime(cuda::bench::time_gpu(10, run));
  state.SetItemsProcessed(state.iterations() * B);
  cudnnDestroyTensorDescriptor(hc_desc);
  cudnnDestroyRNNDataDescriptor(x_desc);
  cudnnDestroyRNNDataDescriptor(y_desc);
  cudnnDestroyRNNDescriptor(rnn);
  cudnnDestroyDropoutDescriptor(drop);
  cudnnDestroy(h);
}
BENCHMARK(BM_lstm_cudnn)->Arg(32)->Arg(256)->UseManualTime()->Unit(benchmark::kMillisecond);
#endif

}  // namespace

BENCHMARK(BM_lstm_ours)
    ->ArgsProduct({{32, 256}, {0, 1}})
    ->ArgNames({"", "persistent"})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) { return recsys::cuda::bench::run_main(argc, argv); }
