// tests/dist/data_parallel_test.cpp — data-parallel training on ranks that are threads: averaged gradients equal the whole batch's, and N ranks train the model one process trains.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "test_util.hpp"

using namespace recsys;

namespace {

using DpMlp = nn::Sequential<nn::Dense, nn::Dense>;
using DpReferenceNet = nn::Sequential<nn::Embedding, nn::Conv1D, nn::MaxPool1D, nn::LSTM, nn::Dense>;

DpMlp dp_mlp(std::uint64_t seed, DType dtype = DType::float64) {
  Generator gen(seed);
  DpMlp net(nn::Dense(5, 4, nn::Activation::tanh, true, gen), nn::Dense(4, 1, nn::Activation::sigmoid, true, gen));
  if (dtype != DType::float32) net.to(dtype);
  return net;
}

/// The seed's network, small: vocab 40, width 8, sequences of 12 tokens.
DpReferenceNet dp_reference_net(std::uint64_t seed) {
  Generator gen(seed);
  return DpReferenceNet(nn::Embedding(40, 8, 0, gen), nn::Conv1D(8, 8, 3, {.activation = nn::Activation::relu}, gen),
                        nn::MaxPool1D(2), nn::LSTM(8, 8, {}, gen), nn::Dense(8, 1, nn::Activation::sigmoid, true, gen));
}

struct DpData {
  Tensor x, y;
};

DpData dp_tokens(std::int64_t n) {
  Generator gen(7);
  Tensor x = randint(1, 40, {n, 12}, gen, DType::int64);
  Tensor y = Tensor::empty({n, 1});
  const auto* ids = x.data<std::int64_t>();
  for (std::int64_t i = 0; i < n; ++i) y.data<float>()[i] = ids[i * 12] < 20 ? 1.f : 0.f;  // learnable from token 0
  return {x, y};
}

DpData dp_features(std::int64_t n, DType dtype) {
  Generator gen(11);
  Tensor x = randn({n, 5}, gen, DType::float64);
  Tensor y = Tensor::empty({n, 1}, DType::float64);
  for (std::int64_t i = 0; i < n; ++i)  // a noisy linear rule
    y.data<double>()[i] = x.data<double>()[i * 5] + 0.5 * x.data<double>()[i * 5 + 1] + 0.3 * gen.normal() > 0 ? 1 : 0;
  return {x.to(dtype), y.to(dtype)};
}

std::vector<std::vector<double>> dp_values(const std::vector<Tensor>& tensors) {
  std::vector<std::vector<double>> out;
  for (const Tensor& t : tensors) out.push_back(t.to(DType::float64).to_vector<double>());
  return out;
}

double dp_max_diff(const std::vector<std::vector<double>>& a, const std::vector<std::vector<double>>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a[i].size() == b[i].size());
    for (std::size_t j = 0; j < a[i].size(); ++j) worst = std::max(worst, std::abs(a[i][j] - b[i][j]));
  }
  return worst;
}

bool dp_same_bits(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const Tensor x = a[i].contiguous(), y = b[i].contiguous();
    if (x.nbytes() != y.nbytes() || std::memcmp(x.raw_data(), y.raw_data(), x.nbytes()) != 0) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("dist::DataParallel: the averaged gradients of the ranks' shards are the whole batch's gradient") {
  const DpData d = dp_features(10, DType::float64);
  // One process, the whole batch.
  DpMlp whole = dp_mlp(3);
  binary_cross_entropy(whole(d.x), d.y).backward();
  std::vector<Tensor> expected;
  for (const Tensor& p : whole.parameters()) expected.push_back(p.grad());
  for (int ranks : {2, 3, 4}) {
    CAPTURE(ranks);
    dist::ThreadGroup group(ranks);
    std::vector<std::vector<std::vector<double>>> grads(static_cast<std::size_t>(ranks));
    group.run([&](dist::Communicator& comm) {
      DpMlp net = dp_mlp(100 + static_cast<std::uint64_t>(comm.rank()));  // different weights everywhere ...
      dist::DataParallel dp(comm, net.parameters());
      dp.broadcast_parameters();  // ... until rank 0's are broadcast
      const dist::Shard s = dist::shard_of(10, comm.rank(), comm.size());
      binary_cross_entropy(net(d.x.slice(0, s.begin, s.end)), d.y.slice(0, s.begin, s.end)).backward();
      dp.average_gradients(s.rows(), 10);
      std::vector<Tensor> g;
      for (const Tensor& p : net.parameters()) g.push_back(p.grad());
      grads[static_cast<std::size_t>(comm.rank())] = dp_values(g);
    });
    DpMlp rank0 = dp_mlp(100);
    binary_cross_entropy(rank0(d.x), d.y).backward();
    std::vector<Tensor> rank0_grads;
    for (const Tensor& p : rank0.parameters()) rank0_grads.push_back(p.grad());
    for (int r = 0; r < ranks; ++r) {
      CHECK(dp_max_diff(grads[static_cast<std::size_t>(r)], dp_values(rank0_grads)) < 1e-12);
      CHECK(grads[static_cast<std::size_t>(r)] == grads[0]);  // every rank the same bits
    }
  }
  CHECK(!expected.empty());
}

TEST_CASE("dist::DataParallel: a rank without rows and a parameter without a gradient contribute zeros") {
  const DpData d = dp_features(2, DType::float64);
  dist::ThreadGroup group(3);  // 2 rows over 3 ranks: rank 0 has none
  std::vector<std::vector<std::vector<double>>> grads(3);
  group.run([&](dist::Communicator& comm) {
    DpMlp net = dp_mlp(5);
    dist::DataParallel dp(comm, net.parameters());
    const dist::Shard s = dist::shard_of(2, comm.rank(), comm.size());
    if (s.rows() > 0)
      binary_cross_entropy(net(d.x.slice(0, s.begin, s.end)), d.y.slice(0, s.begin, s.end)).backward();
    dp.average_gradients(s.rows(), 2);
    std::vector<Tensor> g;
    for (const Tensor& p : net.parameters()) g.push_back(p.grad());
    grads[static_cast<std::size_t>(comm.rank())] = dp_values(g);
  });
  DpMlp whole = dp_mlp(5);
  binary_cross_entropy(whole(d.x), d.y).backward();
  std::vector<Tensor> g;
  for (const Tensor& p : whole.parameters()) g.push_back(p.grad());
  for (int r = 0; r < 3; ++r) CHECK(dp_max_diff(grads[static_cast<std::size_t>(r)], dp_values(g)) < 1e-12);
}

TEST_CASE("train::Model::fit data-parallel: 2 ranks train the seed's network that 1 process trains on the same global batches") {
  const DpData d = dp_tokens(96);
  const train::FitOptions base{.epochs = 2, .batch_size = 16, .shuffle = true, .seed = 42, .verbose = 0};
  auto make = [](std::uint64_t seed) {
    train::Model model(dp_reference_net(seed));
    model.compile(train::adam({.lr = 1e-2}), train::Loss::binary_crossentropy, {train::Metric::accuracy});
    return model;
  };
  auto one = make(1);
  const History h1 = one.fit(d.x, d.y, base);

  auto run_two = [&](std::vector<std::vector<Tensor>>& params, std::vector<History>& histories) {
    dist::ThreadGroup group(2);
    params.assign(2, {});
    histories.assign(2, {});
    group.run([&](dist::Communicator& comm) {
      set_num_threads(1);
      auto model = make(comm.rank() == 0 ? 1 : 99);  // rank 1's own initial weights are replaced by rank 0's
      train::FitOptions o = base;
      o.communicator = &comm;
      histories[static_cast<std::size_t>(comm.rank())] = model.fit(d.x, d.y, o);
      std::vector<Tensor> p;
      for (const Tensor& t : model.parameters()) p.push_back(t.clone());
      params[static_cast<std::size_t>(comm.rank())] = p;
    });
  };
  std::vector<std::vector<Tensor>> params, again;
  std::vector<History> histories, histories_again;
  run_two(params, histories);
  run_two(again, histories_again);

  CHECK(dp_same_bits(params[0], params[1]));  // the ranks hold one model
  CHECK(dp_same_bits(params[0], again[0]));   // and a rerun gives the same bits
  const double diff = dp_max_diff(dp_values(params[0]), dp_values(one.parameters()));
  MESSAGE("2 ranks vs 1 process after 12 Adam steps: max |weight difference| = ", diff);
  CHECK(diff < 1e-5);
  for (const char* key : {"loss", "accuracy"})
    for (int r = 0; r < 2; ++r) {
      const std::vector<double>& a = histories[static_cast<std::size_t>(r)][key];
      const std::vector<double>& b = h1[key];
      REQUIRE(a.size() == b.size());
      for (std::size_t e = 0; e < a.size(); ++e) CHECK(a[e] == doctest::Approx(b[e]).epsilon(1e-5));
    }
}

TEST_CASE("train::Model::fit data-parallel: uneven shards and a short last batch (3 ranks, batch 16, 50 rows)") {
  const DpData d = dp_features(50, DType::float64);
  const train::FitOptions base{.epochs = 3, .batch_size = 16, .shuffle = true, .seed = 5, .verbose = 0};
  auto make = [] {
    train::Model model(dp_mlp(8));
    model.compile(train::sgd({.lr = 0.5}), train::Loss::binary_crossentropy, {train::Metric::accuracy, train::Metric::auc});
    return model;
  };
  auto one = make();
  const History h1 = one.fit(d.x, d.y, base);
  dist::ThreadGroup group(3);
  std::vector<std::vector<std::vector<double>>> params(3);
  std::vector<History> histories(3);
  group.run([&](dist::Communicator& comm) {
    auto model = make();
    train::FitOptions o = base;
    o.communicator = &comm;
    histories[static_cast<std::size_t>(comm.rank())] = model.fit(d.x, d.y, o);
    params[static_cast<std::size_t>(comm.rank())] = dp_values(model.parameters());
  });
  for (int r = 0; r < 3; ++r) {
    CHECK(dp_max_diff(params[static_cast<std::size_t>(r)], dp_values(one.parameters())) < 1e-12);
    for (const char* key : {"loss", "accuracy", "auc"}) {
      const std::vector<double>& a = histories[static_cast<std::size_t>(r)][key];
      const std::vector<double>& b = h1[key];
      REQUIRE(a.size() == b.size());
      for (std::size_t e = 0; e < a.size(); ++e) CHECK(a[e] == doctest::Approx(b[e]).epsilon(1e-12));
    }
  }
}

TEST_CASE("train::Model::fit data-parallel: ranks with different data are an error on every rank, before any step") {
  dist::ThreadGroup group(2);
  std::vector<std::string> errors(2);
  CHECK_THROWS_WITH_AS(group.run([&](dist::Communicator& comm) {
    const DpData d = dp_features(comm.rank() == 0 ? 20 : 18, DType::float64);
    train::Model model(dp_mlp(1));
    model.compile(train::sgd({.lr = 0.1}), train::Loss::binary_crossentropy);
    train::FitOptions o{.batch_size = 4, .verbose = 0};
    o.communicator = &comm;
    try {
      model.fit(d.x, d.y, o);
    } catch (const Error& e) {
      errors[static_cast<std::size_t>(comm.rank())] = e.what();
      throw;
    }
  }),
                       doctest::Contains("every rank of a data-parallel fit needs the same data and options"), Error);
  CHECK(errors[0].find("fit: rank 0 has 20 training rows") != std::string::npos);
  CHECK(errors[1].find("fit: rank 1 has 18 training rows") != std::string::npos);
}
