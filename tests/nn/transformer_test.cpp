// tests/nn/transformer_test.cpp — LayerNorm, MultiHeadAttention and TransformerBlock: references, gradients, dropout, threads, errors, PyTorch.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include <recsys/nn/attention.hpp>
#include <recsys/nn/layer_norm.hpp>
#include <recsys/nn/transformer.hpp>

#include "test_util.hpp"

using namespace recsys;
using recsys::testing::bitwise_equal;
using recsys::testing::check_close;

namespace {

/// Multi-head attention written out with generic ops (matmul, softmax, an additive -inf mask), for
/// inputs where every query keeps at least one key.
Tensor composed_attention(nn::MultiHeadAttention& mha, const Tensor& x, bool causal, const Tensor& padding) {
  const auto params = mha.named_parameters();
  auto p = [&](const std::string& name) {
    for (const auto& [n, t] : params)
      if (n == name) return t;
    FAIL("no parameter ", name);
    return Tensor();
  };
  const std::int64_t B = x.size(0), T = x.size(1), D = x.size(2), H = mha.heads(), dh = D / H;
  auto heads = [&](const char* which) {
    const std::string w = which;
    return linear(x, p(w + ".kernel"), p(w + ".bias")).reshape({B, T, H, dh}).permute({0, 2, 1, 3});
  };
  Tensor scores = matmul(heads("query"), heads("key").transpose(-1, -2)) * (1.0 / std::sqrt(static_cast<double>(dh)));
  std::vector<double> bias(static_cast<std::size_t>(B * T * T), 0.0);
  const Tensor pad = padding.defined() ? padding.to(DType::int64) : Tensor();
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t i = 0; i < T; ++i)
      for (std::int64_t j = 0; j < T; ++j)
        if ((causal && j > i) || (pad.defined() && pad.at<std::int64_t>({b, j}) != 0))
          bias[static_cast<std::size_t>((b * T + i) * T + j)] = -INFINITY;
  Tensor weights = softmax(scores + from_vector(bias, {B, 1, T, T}).to(x.dtype()), -1);
  Tensor merged = matmul(weights, heads("value")).permute({0, 2, 1, 3}).reshape({B, T, D});
  return linear(merged, p("output.kernel"), p("output.bias"));
}

/// Copies a fixture's parameters (stored under recsys's names) into `module`.
void load_transformer_fixture(nn::Module& module, const recsys::testing::GoldenFixture& f) {
  NoGradGuard no_grad;
  for (auto& [name, t] : module.named_parameters()) {
    INFO(name);
    const Tensor value = f[name];
    REQUIRE(value.defined());
    REQUIRE(value.shape() == t.shape());
    t.copy_(value);
  }
}

}  // namespace

TEST_CASE("LayerNorm module: gamma and beta, starting at 1 and 0, over the last dimension") {
  nn::LayerNorm norm(4, 1e-6);
  std::vector<std::string> names;
  for (const auto& [n, t] : norm.named_parameters()) names.push_back(n);
  CHECK(names == std::vector<std::string>{"gamma", "beta"});
  check_close(norm.gamma(), {1, 1, 1, 1}, 0, 0);
  check_close(norm.beta(), {0, 0, 0, 0}, 0, 0);
  Generator g(60);
  Tensor x = randn({2, 3, 4}, g);
  CHECK(bitwise_equal(norm(x), layer_norm(x, norm.gamma(), norm.beta(), 1e-6)));
  CHECK(nn::LayerNorm(4, 1e-5, false).num_parameters() == 0);
  CHECK_THROWS_WITH_AS(norm(zeros({2, 3})), "LayerNorm: input has shape [2, 3] but the layer normalises a last dimension of 4",
                       Error);
  CHECK_THROWS_WITH_AS(nn::LayerNorm(0), "LayerNorm: dim must be positive, got 0", Error);
}

TEST_CASE("MultiHeadAttention equals attention written out with generic ops") {
  manual_seed(61);
  nn::MultiHeadAttention mha(8, 2);
  mha.to(DType::float64);
  std::vector<std::string> names;
  for (const auto& [n, t] : mha.named_parameters()) names.push_back(n);
  CHECK(names == std::vector<std::string>{"query.kernel", "query.bias", "key.kernel", "key.bias", "value.kernel",
                                          "value.bias", "output.kernel", "output.bias"});
  CHECK(mha.num_parameters() == 4 * (8 * 8 + 8));
  Generator g(62);
  Tensor x = randn({3, 5, 8}, g, DType::float64);
  const Tensor padding = tensor({0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1}, {3, 5});  // right padding
  for (bool causal : {false, true}) {
    INFO("causal=", causal);
    check_close(mha(x, causal, padding), composed_attention(mha, x, causal, padding), 1e-12, 1e-12);
    check_close(mha(x, causal), composed_attention(mha, x, causal, {}), 1e-12, 1e-12);
  }
  // cross attention over a longer key sequence
  Tensor kv = randn({3, 7, 8}, g, DType::float64);
  CHECK(mha.attend(x, kv, kv).shape() == Shape{3, 5, 8});
}

TEST_CASE("MultiHeadAttention and TransformerBlock gradients, with masks and a fully masked row") {
  manual_seed(63);
  Generator g(64);
  const Tensor padding = tensor({1, 0, 0, 0, 0, 0, 0, 1}, {2, 4});  // row 0 pads on the left: query 0 sees nothing
  nn::MultiHeadAttention mha(6, 3);
  mha.to(DType::float64);
  Tensor x = recsys::testing::param({2, 4, 6}, g);
  RECSYS_CHECK_GRADCHECK([&](const autograd::TensorList& in) { return mha(in[0], true, padding); }, {x});
  std::vector<Tensor> inputs{x};
  for (const auto& [n, t] : mha.named_parameters()) inputs.push_back(t);
  RECSYS_CHECK_GRADCHECK([&](const autograd::TensorList& in) { return mha(in[0], true, padding); }, inputs);
  for (bool norm_first : {false, true}) {
    INFO("norm_first=", norm_first);
    nn::TransformerBlock block(6, 2, 10, 0.0,
                               {.norm_first = norm_first, .activation = nn::FeedForwardActivation::gelu});
    block.to(DType::float64);
    std::vector<Tensor> all{x};
    for (const auto& [n, t] : block.named_parameters()) all.push_back(t);
    RECSYS_CHECK_GRADCHECK([&](const autograd::TensorList& in) { return block(in[0], true, padding); }, all);
  }
}

TEST_CASE("TransformerBlock: parameter names, residual shapes, ReLU option, dropout only in training") {
  manual_seed(65);
  nn::TransformerBlock block(16, 4, 32, 0.2);
  std::vector<std::string> names;
  for (const auto& [n, t] : block.named_parameters()) names.push_back(n);
  CHECK(names == std::vector<std::string>{
                     "attention.query.kernel", "attention.query.bias", "attention.key.kernel", "attention.key.bias",
                     "attention.value.kernel", "attention.value.bias", "attention.output.kernel",
                     "attention.output.bias", "norm1.gamma", "norm1.beta", "ffn_in.kernel", "ffn_in.bias",
                     "ffn_out.kernel", "ffn_out.bias", "norm2.gamma", "norm2.beta"});
  CHECK(block.num_parameters() == 4 * (16 * 16 + 16) + 2 * 32 + (16 * 32 + 32) + (32 * 16 + 16));
  Generator g(66);
  Tensor x = randn({2, 7, 16}, g);
  const Tensor padding = tensor({1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, {2, 7});
  Tensor train1 = block(x, true, padding), train2 = block(x, true, padding);
  CHECK_FALSE(bitwise_equal(train1, train2));  // fresh masks each call
  block.eval();
  Tensor eval1 = block(x, true, padding), eval2 = block(x, true, padding);
  CHECK(bitwise_equal(eval1, eval2));
  CHECK_FALSE(bitwise_equal(train1, eval1));
  // a block built after the same seed draws the same weights and the same dropout masks
  manual_seed(65);
  nn::TransformerBlock again(16, 4, 32, 0.2);
  CHECK(bitwise_equal(again(x, true, padding), train1));
  // post-LN output is normalised per position (gamma 1, beta 0 at the start)
  check_close(mean(eval1, -1), std::vector<double>(14, 0.0), 0, 1e-5);
  nn::TransformerBlock relu_block(16, 4, 32, 0.0, {.activation = nn::FeedForwardActivation::relu});
  CHECK(relu_block(x).shape() == Shape{2, 7, 16});
  // RecBole's block has no dropout on the feed-forward hidden layer: that stream is never drawn from
  for (bool inner : {true, false}) {
    nn::TransformerBlock b(16, 4, 32, 0.2, {.inner_dropout = inner});
    b(x, true, padding);
    std::uint64_t drawn = 0;
    b.visit_children([&](const std::string& name, nn::Module& child) {
      if (name == "dropout_ffn") drawn = dynamic_cast<nn::Dropout&>(child).generator().offset();
    });
    CHECK((drawn > 0) == inner);
  }
}

TEST_CASE("TransformerBlock matches torch.nn.TransformerEncoderLayer (golden fixtures)") {
  for (const char* name : {"block_post_ln_gelu", "block_pre_ln_relu"}) {
    INFO(name);
    const recsys::testing::GoldenFixture f(std::string("transformer/") + name);
    const Tensor x0 = f["x"];
    const std::int64_t dim = x0.size(2);
    nn::TransformerOptions options;
    options.norm_first = f.setting("norm_first") != 0;
    options.activation =
        f.file.metadata.at("activation") == "relu" ? nn::FeedForwardActivation::relu : nn::FeedForwardActivation::gelu;
    nn::TransformerBlock block(dim, f.setting("heads"), f.setting("hidden"), 0.0, options);
    block.to(DType::float64);
    load_transformer_fixture(block, f);
    Tensor x = x0.detach().clone().set_requires_grad();
    Tensor out = block(x, f.setting("causal") != 0, f["key_padding_mask"]);
    check_close(out, f["expected_output"], 1e-12, 1e-14);
    out.backward(f["grad_output"]);
    check_close(x.grad(), f["expected_x_grad"], 1e-12, 1e-14);
    for (const auto& [n, t] : block.named_parameters()) {
      INFO(n);
      check_close(t.grad(), f["grad." + n], 1e-12, 1e-14);
    }
  }
}

TEST_CASE("TransformerBlock forward and backward are bitwise identical with 1 and 2 threads") {
  Generator g(67);
  Tensor x = randn({16, 50, 64}, g), gy = randn({16, 50, 64}, g);
  std::vector<std::int32_t> pad(16 * 50, 0);
  for (std::int64_t b = 0; b < 16; ++b)
    for (std::int64_t t = 0; t < 3 * b; ++t) pad[static_cast<std::size_t>(b * 50 + t)] = 1;  // left padding
  const Tensor padding = from_vector(pad, {16, 50});
  auto run = [&](int threads) {
    set_num_threads(threads);
    manual_seed(68);
    nn::TransformerBlock block(64, 2, 256, 0.2);
    Tensor xl = x.detach().clone().set_requires_grad();
    Tensor y = block(xl, true, padding);
    y.backward(gy);
    std::vector<Tensor> out{y, xl.grad()};
    for (const auto& [n, t] : block.named_parameters()) out.push_back(t.grad());
    return out;
  };
  const auto one = run(1), two = run(2);
  set_num_threads(2);
  for (std::size_t i = 0; i < one.size(); ++i) {
    INFO("tensor ", i);
    CHECK(bitwise_equal(one[i], two[i]));
  }
}

TEST_CASE("MultiHeadAttention and TransformerBlock errors name the layer and the shapes") {
  CHECK_THROWS_WITH_AS(nn::MultiHeadAttention(10, 3), "MultiHeadAttention: dim 10 is not divisible by heads 3", Error);
  CHECK_THROWS_WITH_AS(nn::MultiHeadAttention(8, 0), "MultiHeadAttention: dim and heads must be positive, got 8 and 0",
                       Error);
  CHECK_THROWS_WITH_AS(nn::MultiHeadAttention(8, 2, 1.5), "MultiHeadAttention: dropout must be in [0, 1), got 1.5",
                       Error);
  nn::MultiHeadAttention mha(8, 2);
  CHECK_THROWS_WITH_AS(mha(zeros({2, 5, 6})), "MultiHeadAttention: query has shape [2, 5, 6], expected (batch, time, 8)",
                       Error);
  CHECK_THROWS_WITH_AS(mha.attend(zeros({2, 5, 8}), zeros({2, 4, 8}), zeros({2, 3, 8})),
                       "MultiHeadAttention: query has shape [2, 5, 8], key [2, 4, 8] and value [2, 3, 8]; they must "
                       "agree in batch, and key and value in time",
                       Error);
  CHECK_THROWS_WITH_AS(mha(zeros({2, 5, 8}), true, zeros({2, 4}, DType::int32)),
                       doctest::Contains("scaled_dot_product_attention: key_padding_mask has shape [2, 4], expected [2, 5]"),
                       Error);
  CHECK_THROWS_WITH_AS(nn::TransformerBlock(8, 2, 0), "TransformerBlock: hidden must be positive, got 0", Error);
  CHECK_THROWS_WITH_AS(nn::TransformerBlock(8, 3, 16), "MultiHeadAttention: dim 8 is not divisible by heads 3", Error);
}
