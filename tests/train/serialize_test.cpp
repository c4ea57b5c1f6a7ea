// tests/train/serialize_test.cpp — nn::save_weights / nn::load_weights at module level (include/recsys/nn/serialize.hpp).
#include <doctest/doctest.h>

#include <recsys/nn/serialize.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "test_util.hpp"
#include "train/train_test_util.hpp"

using namespace recsys;
using recsys::testing::bitwise_equal;

namespace {

/// Clones of every parameter, to compare a module against later.
NamedTensors snapshot(nn::Module& m) {
  NamedTensors out;
  for (const auto& [name, t] : m.named_parameters()) out.emplace_back(name, t.detach().clone());
  return out;
}

bool unchanged(nn::Module& m, const NamedTensors& before) {
  const NamedTensors now = m.named_parameters();
  if (now.size() != before.size()) return false;
  for (std::size_t i = 0; i < now.size(); ++i)
    if (now[i].first != before[i].first || !bitwise_equal(now[i].second, before[i].second)) return false;
  return true;
}

}  // namespace

TEST_CASE("save_weights / load_weights round-trip a whole network by dotted names, with metadata") {
  testing::TempDir dir;
  const std::string path = dir.file("ref.safetensors");
  manual_seed(1);
  auto a = testing::reference_model(50, 8);
  nn::save_weights(a, path, {{"epoch", "3"}});
  const NamedTensors in_file = io::load_safetensors(path);
  REQUIRE(in_file.size() == 8);
  CHECK(in_file[0].first == "0.embeddings");
  CHECK(in_file[4].first == "3.recurrent_kernel");

  manual_seed(2);
  auto b = testing::reference_model(50, 8);
  const io::LoadResult r = nn::load_weights(b, path);
  CHECK(r.metadata.at("epoch") == "3");
  CHECK(r.missing.empty());
  CHECK(r.unexpected.empty());
  const NamedTensors pa = a.named_parameters(), pb = b.named_parameters();
  for (std::size_t i = 0; i < pa.size(); ++i) CHECK(bitwise_equal(pa[i].second, pb[i].second));
  for (const auto& [name, t] : pb) CHECK(t.requires_grad());  // still trainable parameters
  Generator g(3);
  const Tensor ids = randint(0, 50, {2, 9}, g);
  CHECK(bitwise_equal(a(ids), b(ids)));
}

TEST_CASE("a failed load leaves the module unchanged") {
  testing::TempDir dir;
  manual_seed(4);
  auto net = testing::small_mlp(4, 3);
  const NamedTensors before = snapshot(net);

  // A file for a wider network: same names, other shapes.
  auto wide = testing::small_mlp(4, 5);
  nn::save_weights(wide, dir.file("wide.safetensors"));
  CHECK_THROWS_WITH_AS(nn::load_weights(net, dir.file("wide.safetensors")),
                       doctest::Contains("tensor '0.kernel': shape [4, 5] in the file but [4, 3] in the destination"), Error);
  CHECK(unchanged(net, before));

  // A file holding only the first layer: missing names, unless allowed.
  nn::Dense first(4, 3);
  nn::save_weights(first, dir.file("first.safetensors"));
  CHECK_THROWS_WITH_AS(nn::load_weights(net, dir.file("first.safetensors")), doctest::Contains("missing tensor"), Error);
  CHECK(unchanged(net, before));

  // A truncated file: the header promises more bytes than there are.
  nn::save_weights(net, dir.file("whole.safetensors"));
  const auto size = std::filesystem::file_size(dir.file("whole.safetensors"));
  std::filesystem::resize_file(dir.file("whole.safetensors"), size - 4);
  NoGradGuard no_grad;
  for (auto& [name, t] : net.named_parameters()) t.fill_(0.5);
  const NamedTensors halves = snapshot(net);
  CHECK_THROWS_AS(nn::load_weights(net, dir.file("whole.safetensors")), Error);
  CHECK(unchanged(net, halves));
  CHECK_THROWS_WITH_AS(nn::load_weights(net, dir.file("absent.safetensors")), doctest::Contains("absent.safetensors"), Error);
  CHECK(unchanged(net, halves));
}

TEST_CASE("load_weights options: a partial file loads what it has when missing names are allowed") {
  testing::TempDir dir;
  manual_seed(5);
  auto net = testing::small_mlp(4, 3);
  nn::Dense layer(4, 3);
  {
    NoGradGuard no_grad;
    for (auto& [name, t] : layer.named_parameters()) t.fill_(2.0);
  }
  // Saved under the names the first layer has inside the network.
  io::save_safetensors(dir.file("first.safetensors"), layer.named_parameters("0."));
  const NamedTensors before = snapshot(net);
  const io::LoadResult r = nn::load_weights(net, dir.file("first.safetensors"), {.allow_missing = true});
  CHECK(r.missing == std::vector<std::string>{"1.kernel", "1.bias"});
  const NamedTensors now = net.named_parameters();
  CHECK(now[0].second.to_vector<float>() == std::vector<float>(12, 2.0f));
  CHECK(bitwise_equal(now[2].second, before[2].second));
}
