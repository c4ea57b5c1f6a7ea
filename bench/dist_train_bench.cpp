// bench/dist_train_bench.cpp — samples/s of data-parallel training of the seed's reference network at a fixed global batch, on however many processes mpirun starts (bench/dist_scaling.sh compares 1 and 2).
// Usage: mpirun -np N dist_train_bench [global_batch=256] [samples=8192]; prints one line on rank 0.
#include <recsys/dist/mpi_communicator.hpp>
#include <recsys/recsys.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>

using namespace recsys;

int main(int argc, char** argv) {
  const std::int64_t batch = argc > 1 ? std::atoll(argv[1]) : 256;
  const std::int64_t samples = argc > 2 ? std::atoll(argv[2]) : 8192;
  auto world = std::make_shared<dist::MpiCommunicator>();
  const dist::WorldScope scope(world);
  // The reference model (DESIGN.md section 2): Embedding 1000x128, Conv1D 128 k3 relu, MaxPool 2, LSTM 128, Dense 1.
  Generator gen(1);
  using Net = nn::Sequential<nn::Embedding, nn::Conv1D, nn::MaxPool1D, nn::LSTM, nn::Dense>;
  train::Model<Net> model(Net(nn::Embedding(1000, 128, -1, gen),
                              nn::Conv1D(128, 128, 3, {.activation = nn::Activation::relu}, gen), nn::MaxPool1D(2),
                              nn::LSTM(128, 128, {}, gen), nn::Dense(128, 1, nn::Activation::sigmoid, true, gen)));
  model.compile(train::adam({.lr = 1e-3}), train::Loss::binary_crossentropy, {train::Metric::accuracy});
  Generator data(7);  // every rank the same data
  const Tensor x = randint(0, 1000, {samples, 100}, data, DType::int64);
  const Tensor y = randint(0, 2, {samples, 1}, data, DType::float32);
  const train::FitOptions warm{.epochs = 1, .batch_size = batch, .seed = 3, .verbose = 0};
  model.fit(x.slice(0, 0, 2 * batch), y.slice(0, 0, 2 * batch), warm);  // first-touch, buffers, thread pools
  world->barrier();
  const auto t0 = std::chrono::steady_clock::now();
  model.fit(x, y, {.epochs = 1, .batch_size = batch, .seed = 4, .verbose = 0});
  world->barrier();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (world->is_root())
    std::printf("processes %d threads %d global_batch %lld samples %lld seconds %.3f samples_per_s %.1f\n", world->size(),
                num_threads(), static_cast<long long>(batch), static_cast<long long>(samples), seconds,
                static_cast<double>(samples) / seconds);
  return 0;
}
