// tests/nn/torch_interop_test.cpp — weights in a PyTorch state_dict's names and layouts (nn::WeightLayout::pytorch), against a file written by PyTorch (tests/golden/interop_fixtures.py).
#include <doctest/doctest.h>

#include <recsys/io/safetensors.hpp>
#include <recsys/nn/serialize.hpp>
#include <recsys/rec/training.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "test_util.hpp"

using namespace recsys;

namespace {

const std::string kInterop = std::string(RECSYS_TEST_FIXTURES) + "/interop/";

/// The reference network at the fixture's size (interop_fixtures.py: VOCAB 50, DIM 8, FILTERS 6, KSIZE 3,
/// POOL 2, HIDDEN 5), with weights from `seed` (different from PyTorch's, so a load that misses a tensor shows).
rec::ReferenceNet small_reference(std::uint64_t seed = 7) {
  rec::FitOptions o;
  o.embedding_dim = 8, o.filters = 6, o.kernel_size = 3, o.pool_size = 2, o.lstm_units = 5;
  return rec::make_reference_network(50, o, seed);
}

std::map<std::string, Tensor> fixture_io() {
  std::map<std::string, Tensor> m;
  for (auto& [n, t] : io::load_safetensors(kInterop + "reference_io.safetensors")) m.emplace(n, t);
  return m;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  const auto x = a.to_vector<double>(), y = b.to_vector<double>();
  REQUIRE(x.size() == y.size());
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::fabs(x[i] - y[i]));
  return worst;
}

const nn::WeightOptions kTorch{.layout = nn::WeightLayout::pytorch};

}  // namespace

TEST_CASE("torch interop: a state_dict saved by PyTorch loads in one call and gives PyTorch's outputs (float32)") {
  auto io_ = fixture_io();
  auto net = small_reference();
  net.eval();
  const Tensor before = net(io_.at("x"));
  CHECK(max_abs_diff(before, io_.at("y")) > 1e-3);  // our own initial weights give other outputs
  nn::load_weights(net, kInterop + "reference_f32.safetensors", kTorch);
  const Tensor y = net(io_.at("x"));
  CHECK(y.dtype() == DType::float32);
  CHECK(max_abs_diff(y, io_.at("y")) <= 1e-6);
}

TEST_CASE("torch interop: float64 weights are refused for a float32 network unless convert_dtype is set") {
  auto io_ = fixture_io();
  auto net = small_reference();
  net.eval();
  const Tensor before = net(io_.at("x"));
  CHECK_THROWS_WITH_AS(nn::load_weights(net, kInterop + "reference_f64.safetensors", kTorch),
                       doctest::Contains("tensor 'embedding.weight' is float64 and the module's is float32 (set convert_dtype"),
                       Error);
  CHECK(max_abs_diff(net(io_.at("x")), before) == 0);  // nothing was loaded
  nn::load_weights(net, kInterop + "reference_f64.safetensors",
                   {.layout = nn::WeightLayout::pytorch, .convert_dtype = true});  // as the README writes it
  CHECK(max_abs_diff(net(io_.at("x")), io_.at("y")) <= 1e-6);

  // A float64 network reads the float64 file as it is and matches the float64 PyTorch outputs closely.
  auto net64 = small_reference();
  net64.eval();
  net64.to(DType::float64);
  nn::load_weights(net64, kInterop + "reference_f64.safetensors", kTorch);
  CHECK(max_abs_diff(net64(io_.at("x")), io_.at("y64")) <= 1e-12);
}

TEST_CASE("torch interop: saving in PyTorch layout writes the state_dict names and shapes, and loads back") {
  recsys::testing::TempDir dir;
  auto net = small_reference(11);
  net.eval();
  const std::string path = dir.file("ours_torch.safetensors");
  nn::save_weights(net, path, kTorch);

  // The same names and shapes as PyTorch's own file of this network, and the "pt" format PyTorch writes.
  const io::SafetensorsFile ours = io::read_safetensors(path);
  const io::SafetensorsFile theirs = io::read_safetensors(kInterop + "reference_f32.safetensors");
  REQUIRE(ours.tensors.size() == theirs.tensors.size());
  std::map<std::string, Shape> shapes;
  for (const auto& [n, t] : theirs.tensors) shapes.emplace(n, t.shape());
  for (const auto& [n, t] : ours.tensors) {
    INFO(n);
    REQUIRE(shapes.count(n) == 1);
    CHECK(t.shape() == shapes.at(n));
  }
  CHECK(ours.metadata.at("format") == "pt");
  for (const auto& [n, t] : ours.tensors)
    if (n == "lstm.bias_hh_l0") CHECK(max_abs_diff(t, zeros(t.shape())) == 0);  // our one bias went to bias_ih

  // Round trip: a network with other weights reads it back to the same outputs and the same parameters.
  auto back = small_reference(12);
  back.eval();
  const Tensor x = fixture_io().at("x");
  CHECK(max_abs_diff(back(x), net(x)) > 1e-4);
  nn::load_weights(back, path, kTorch);
  CHECK(max_abs_diff(back(x), net(x)) == 0);
  const NamedTensors a = net.named_parameters(), b = back.named_parameters();
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(max_abs_diff(a[i].second, b[i].second) == 0);

  // And PyTorch's file saved again by us (after loading) holds PyTorch's values with the biases summed.
  nn::load_weights(back, kInterop + "reference_f32.safetensors", kTorch);
  nn::save_weights(back, path, kTorch);
  std::map<std::string, Tensor> torch_values, resaved;
  for (const auto& [n, t] : theirs.tensors) torch_values.emplace(n, t);
  for (const auto& [n, t] : io::read_safetensors(path).tensors) resaved.emplace(n, t);
  for (const char* n : {"embedding.weight", "conv.weight", "conv.bias", "lstm.weight_ih_l0", "lstm.weight_hh_l0",
                        "fc.weight", "fc.bias"}) {
    INFO(n);
    CHECK(max_abs_diff(resaved.at(n), torch_values.at(n)) == 0);
  }
  CHECK(max_abs_diff(resaved.at("lstm.bias_ih_l0"), torch_values.at("lstm.bias_ih_l0") + torch_values.at("lstm.bias_hh_l0")) <= 1e-7);
}

TEST_CASE("torch interop: mismatches are named by the file's tensor names and change nothing") {
  recsys::testing::TempDir dir;
  auto net = small_reference();
  net.eval();
  const Tensor x = fixture_io().at("x");
  const Tensor before = net(x);
  NamedTensors torch_file = io::read_safetensors(kInterop + "reference_f32.safetensors").tensors;

  // A missing tensor.
  NamedTensors without;
  for (const auto& e : torch_file)
    if (e.first != "lstm.bias_hh_l0") without.push_back(e);
  io::save_safetensors(dir.file("missing.safetensors"), without);
  CHECK_THROWS_WITH_AS(nn::load_weights(net, dir.file("missing.safetensors"), kTorch),
                       doctest::Contains("has no tensor 'lstm.bias_hh_l0'"), Error);
  // allowed missing: the other bias alone, and the name reported.
  nn::WeightOptions lenient = kTorch;
  lenient.load.allow_missing = true;
  {
    auto other = small_reference();
    const io::LoadResult r = nn::load_weights(other, dir.file("missing.safetensors"), lenient);
    CHECK(r.missing == std::vector<std::string>{"lstm.bias_hh_l0"});
  }

  // An extra tensor, a wrong shape (a Linear weight not transposed), and other submodule names.
  NamedTensors extra = torch_file;
  extra.emplace_back("head.weight", zeros({1, 5}));
  io::save_safetensors(dir.file("extra.safetensors"), extra);
  CHECK_THROWS_WITH_AS(nn::load_weights(net, dir.file("extra.safetensors"), kTorch),
                       doctest::Contains("holds tensor 'head.weight', which the module has no place for"), Error);
  NamedTensors wrong = torch_file;
  for (auto& [n, t] : wrong)
    if (n == "fc.weight") t = t.t().contiguous();
  io::save_safetensors(dir.file("wrong.safetensors"), wrong);
  CHECK_THROWS_WITH_AS(nn::load_weights(net, dir.file("wrong.safetensors"), kTorch),
                       doctest::Contains("tensor 'fc.weight' has shape [5, 1], expected [1, 5]"), Error);
  CHECK(max_abs_diff(net(x), before) == 0);

  NamedTensors renamed;
  for (const auto& [n, t] : torch_file) renamed.emplace_back(n.rfind("fc.", 0) == 0 ? "dense." + n.substr(3) : n, t);
  io::save_safetensors(dir.file("renamed.safetensors"), renamed);
  nn::WeightOptions named = kTorch;
  named.torch_names = {{"4", "dense"}};
  nn::load_weights(net, dir.file("renamed.safetensors"), named);
  CHECK(max_abs_diff(net(x), fixture_io().at("y")) <= 1e-6);
  named.torch_names = {{"9", "dense"}};
  CHECK_THROWS_WITH_AS(nn::load_weights(net, dir.file("renamed.safetensors"), named),
                       doctest::Contains("torch_names names '9'"), Error);
}

TEST_CASE("torch interop: the recsys layout with convert_dtype loads a float64 file into a float32 network") {
  recsys::testing::TempDir dir;
  auto net = small_reference(3);
  net.eval();
  net.to(DType::float64);
  nn::save_weights(net, dir.file("f64.safetensors"));
  auto f32 = small_reference(4);
  f32.eval();
  CHECK_THROWS_AS(nn::load_weights(f32, dir.file("f64.safetensors")), Error);  // the plain load refuses
  nn::WeightOptions convert;
  convert.convert_dtype = true;
  nn::load_weights(f32, dir.file("f64.safetensors"), convert);
  const Tensor x = fixture_io().at("x");
  CHECK(f32(x).dtype() == DType::float32);
  CHECK(max_abs_diff(f32(x), net(x)) <= 1e-6);
}
