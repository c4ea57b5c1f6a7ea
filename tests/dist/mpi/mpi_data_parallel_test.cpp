// tests/dist/mpi/mpi_data_parallel_test.cpp — run by ctest under `mpirun -np 2`: the MPI collectives against a serial reference, and 2-process training of the seed's network against 1 process (each rank trains both).
#include <recsys/dist/mpi_communicator.hpp>
#include <recsys/recsys.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

using namespace recsys;

namespace {

int failures = 0;
int my_rank = 0;

void expect(bool ok, const std::string& what) {
  if (!ok) {
    ++failures;
    std::fprintf(stderr, "rank %d: FAILED: %s\n", my_rank, what.c_str());
  }
}

using Net = nn::Sequential<nn::Embedding, nn::Conv1D, nn::MaxPool1D, nn::LSTM, nn::Dense>;

train::Model<Net> make_model(std::uint64_t seed) {
  Generator gen(seed);
  train::Model<Net> model(Net(nn::Embedding(40, 8, 0, gen), nn::Conv1D(8, 8, 3, {.activation = nn::Activation::relu}, gen),
                              nn::MaxPool1D(2), nn::LSTM(8, 8, {}, gen), nn::Dense(8, 1, nn::Activation::sigmoid, true, gen)));
  model.compile(train::adam({.lr = 1e-2}), train::Loss::binary_crossentropy, {train::Metric::accuracy});
  return model;
}

std::vector<float> flat(const std::vector<Tensor>& params) {
  std::vector<float> out;
  for (const Tensor& p : params) {
    const std::vector<float> v = p.to_vector<float>();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

void test_collectives(dist::MpiCommunicator& comm) {
  const int n = comm.size(), r = comm.rank();
  // 1001 elements: chunks of different sizes; values whose float sum depends on the order.
  std::vector<float> mine(1001);
  auto value = [](int rank, std::size_t i) {
    return rank == 0 ? 1e8f : rank == 1 ? static_cast<float>(i % 7) + 0.1f : -1e8f + static_cast<float>(rank);
  };
  for (std::size_t i = 0; i < mine.size(); ++i) mine[i] = value(r, i);
  comm.allreduce_sum(std::span<float>(mine));
  bool same = true;
  for (std::size_t i = 0; i < mine.size(); ++i) {
    float expected = value(0, i);
    for (int k = 1; k < n; ++k) expected += value(k, i);
    same = same && std::memcmp(&expected, &mine[i], sizeof(float)) == 0;
  }
  expect(same, "allreduce_sum(float) equals the rank-order serial sum bitwise");
  std::vector<double> d{static_cast<double>(r), 1.0};
  comm.allreduce_sum(std::span<double>(d));
  expect(d[0] == n * (n - 1) / 2.0 && d[1] == n, "allreduce_sum(double)");
  std::vector<int> b{r, r * 3};
  comm.broadcast(std::span<int>(b), n - 1);
  expect(b[0] == n - 1 && b[1] == 3 * (n - 1), "broadcast from the last rank");
  const std::vector<int> all = comm.allgather_value(r * 10);
  bool gathered = static_cast<int>(all.size()) == n;
  for (int k = 0; gathered && k < n; ++k) gathered = all[static_cast<std::size_t>(k)] == k * 10;
  expect(gathered, "allgather_value");
  comm.barrier();
}

}  // namespace

int main() {
  try {
    auto comm = std::make_shared<dist::MpiCommunicator>();
    my_rank = comm->rank();
    set_num_threads(1);
    test_collectives(*comm);

    // Tiny data: 96 sequences of 12 tokens, a label learnable from the first token.
    Generator gen(7);
    const Tensor x = randint(1, 40, {96, 12}, gen, DType::int64);
    Tensor y = Tensor::empty({96, 1});
    for (std::int64_t i = 0; i < 96; ++i) y.data<float>()[i] = x.data<std::int64_t>()[i * 12] < 20 ? 1.f : 0.f;
    const train::FitOptions base{.epochs = 2, .batch_size = 16, .shuffle = true, .seed = 42, .verbose = 0};

    // One process on the same global batches (every rank computes it, on its own).
    dist::SingleProcess single;
    auto one = make_model(1);
    train::FitOptions o1 = base;
    o1.communicator = &single;
    const History h1 = one.fit(x, y, o1);

    // Data-parallel through the world, twice; rank 1 starts from other weights, replaced by rank 0's.
    dist::WorldScope scope(comm);
    std::vector<float> runs[2];
    History h2;
    for (int run = 0; run < 2; ++run) {
      auto model = make_model(comm->rank() == 0 ? 1 : 99);
      h2 = model.fit(x, y, base);
      runs[run] = flat(model.parameters());
    }
    expect(std::memcmp(runs[0].data(), runs[1].data(), runs[0].size() * sizeof(float)) == 0,
           "two data-parallel runs give the same bits");
    std::vector<float> root = runs[0];
    comm->broadcast(std::span<float>(root), 0);
    expect(std::memcmp(root.data(), runs[0].data(), root.size() * sizeof(float)) == 0, "every rank holds rank 0's bits");
    const std::vector<float> single_weights = flat(one.parameters());
    double diff = 0;
    for (std::size_t i = 0; i < single_weights.size(); ++i)
      diff = std::max(diff, std::abs(static_cast<double>(single_weights[i]) - runs[0][i]));
    expect(diff < 1e-5, "2 processes train the 1-process model (max |difference| " + std::to_string(diff) + ")");
    for (const char* key : {"loss", "accuracy"})
      for (std::size_t e = 0; e < h1[key].size(); ++e)
        expect(std::abs(h1[key][e] - h2[key][e]) < 1e-5 * std::max(1.0, std::abs(h1[key][e])),
               std::string("history ") + key + " epoch " + std::to_string(e + 1));
    if (comm->rank() == 0)
      std::printf("%d ranks: collectives match the serial reference; 2 epochs of the seed's network: max |w(%d ranks) - "
                  "w(1 process)| = %.3g, reruns bitwise equal; %d failures\n",
                  comm->size(), comm->size(), diff, failures);
    const std::vector<int> all_failures = comm->allgather_value(failures);
    int total = 0;
    for (int f : all_failures) total += f;
    return total == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rank %d: %s\n", my_rank, e.what());
    return 1;
  }
}
