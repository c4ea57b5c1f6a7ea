// tests/train/golden_model_test.cpp — 5 Adam steps of the whole reference model against PyTorch (tests/golden/model_fixtures.py).
#include <doctest/doctest.h>

#include <recsys/nn/conv1d.hpp>
#include <recsys/nn/dense.hpp>
#include <recsys/nn/embedding.hpp>
#include <recsys/nn/lstm.hpp>
#include <recsys/nn/maxpool1d.hpp>
#include <recsys/nn/sequential.hpp>
#include <recsys/train/model.hpp>

#include <algorithm>
#include <cmath>
#include <string>

#include "test_util.hpp"

using namespace recsys;

namespace {

auto reference_model() {
  return nn::Sequential(nn::Embedding(1000, 128), nn::Conv1D(128, 128, 3, {.activation = nn::Activation::relu}),
                        nn::MaxPool1D(2), nn::LSTM(128, 128), nn::Dense(128, 1, nn::Activation::sigmoid));
}

const std::string kFixture = std::string(RECSYS_TEST_FIXTURES) + "/model/adam_5steps.safetensors";

/// The fixture's tensors whose names start with `prefix`, with the prefix removed.
NamedTensors with_prefix(const NamedTensors& all, const std::string& prefix) {
  NamedTensors out;
  for (const auto& [name, t] : all)
    if (name.rfind(prefix, 0) == 0) out.emplace_back(name.substr(prefix.size()), t);
  return out;
}

const Tensor& find(const NamedTensors& all, const std::string& name) {
  for (const auto& [n, t] : all)
    if (n == name) return t;
  FAIL("fixture has no tensor ", name);
  static Tensor none;
  return none;
}

/// Loads the fixture's initial weights ("init.<name>") into the network through the weight-file API.
template <class Net>
void load_initial_weights(Net& net) {
  NamedTensors dest;
  for (const auto& [name, t] : net.named_parameters()) dest.emplace_back("init." + name, t);
  io::load_into(kFixture, dest, {.allow_unexpected = true});
}

/// Largest |a - b| / (atol + rtol |b|) over all elements: <= 1 means every element is within tolerance.
double worst_ratio(const Tensor& got, const Tensor& want, double rtol, double atol) {
  const auto a = got.to_vector<double>(), b = want.to_vector<double>();
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]) / (atol + rtol * std::fabs(b[i])));
  return worst;
}

}  // namespace

TEST_CASE("golden: 5 Adam steps of the reference model in float64 (plain loop) match PyTorch") {
  const NamedTensors all = io::load_safetensors(kFixture);
  const Tensor x = find(all, "x"), y = find(all, "y").to(DType::float64);
  const std::vector<double> losses = find(all, "losses").to_vector<double>();
  REQUIRE(losses.size() == 5);

  auto net = reference_model();
  load_initial_weights(net);
  net.to(DType::float64);
  optim::Adam opt(net.parameters(), {.lr = 1e-3});
  for (std::size_t step = 0; step < losses.size(); ++step) {
    opt.zero_grad();
    Tensor loss = binary_cross_entropy(net(x), y);
    loss.backward();
    opt.step();
    INFO("step ", step, ": ours ", loss.item(), ", torch ", losses[step]);
    CHECK(std::fabs(loss.item() - losses[step]) <= 1e-12 * std::fabs(losses[step]));
  }
  // The fixture's final weights are float64 results rounded to float32: compare at that precision.
  for (const auto& [name, want] : with_prefix(all, "final.")) {
    const Tensor got = find(net.named_parameters(), name);
    INFO(name);
    CHECK(worst_ratio(got.to(DType::float32), want, 1e-6, 1e-8) <= 1.0);
  }
}

TEST_CASE("golden: 5 Adam steps of the reference model in float32 (through fit) match PyTorch") {
  const NamedTensors all = io::load_safetensors(kFixture);
  const Tensor x = find(all, "x"), y = find(all, "y");
  const std::vector<double> losses = find(all, "losses").to_vector<double>();

  train::Model model(reference_model());
  load_initial_weights(model.net());
  model.compile(train::adam({.lr = 1e-3}), train::Loss::binary_crossentropy);
  // One batch of all 8 samples per epoch: each epoch is one Adam step, and its logged loss is that step's.
  const History h = model.fit(x, y, {.epochs = 5, .batch_size = 8, .shuffle = false, .verbose = 0});
  REQUIRE(h["loss"].size() == losses.size());
  for (std::size_t step = 0; step < losses.size(); ++step) {
    INFO("step ", step, ": ours ", h["loss"][step], ", torch ", losses[step]);
    CHECK(std::fabs(h["loss"][step] - losses[step]) <= 1e-5 * std::fabs(losses[step]));
  }
  // Adam moves a weight by about lr = 1e-3 per step whatever its gradient's size, so where a
  // gradient is tiny, float32 rounding of it shows up at a fraction of lr (1e-5 measured, in the
  // embeddings); the bound is 2% of one step.
  for (const auto& [name, want] : with_prefix(all, "final.")) {
    const Tensor got = find(model.named_parameters(), name);
    INFO(name);
    CHECK(worst_ratio(got, want, 0, 2e-5) <= 1.0);
  }
}
