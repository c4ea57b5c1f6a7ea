// tests/nn/layers_test.cpp — the layer modules: shapes, Keras initial values, gradients, the reference model, errors.
#include <doctest/doctest.h>

#include <recsys/nn/conv1d.hpp>
#include <recsys/nn/dense.hpp>
#include <recsys/nn/dropout.hpp>
#include <recsys/nn/embedding.hpp>
#include <recsys/nn/lstm.hpp>
#include <recsys/nn/maxpool1d.hpp>
#include <recsys/nn/sequential.hpp>

#include "test_util.hpp"

using namespace recsys;
using recsys::testing::check_close;

namespace {
/// The seed document's network (DESIGN.md §2), at a given width.
auto reference_model(std::int64_t vocab, std::int64_t width) {
  return nn::Sequential(nn::Embedding(vocab, width), nn::Conv1D(width, width, 3, {.activation = nn::Activation::relu}),
                        nn::MaxPool1D(2), nn::LSTM(width, width), nn::Dense(width, 1, nn::Activation::sigmoid));
}
}  // namespace

TEST_CASE("the reference model: shapes, parameter names and counts match Keras") {
  manual_seed(1);
  auto model = reference_model(1000, 128);
  Generator g(2);
  Tensor ids = randint(0, 1000, {4, 100}, g);
  Tensor y = model(ids);
  CHECK(y.shape() == Shape{4, 1});
  const auto named = model.named_parameters();
  std::vector<std::string> names;
  for (const auto& [n, t] : named) names.push_back(n);
  CHECK(names == std::vector<std::string>{"0.embeddings", "1.kernel", "1.bias", "3.kernel", "3.recurrent_kernel",
                                          "3.bias", "4.kernel", "4.bias"});
  // Keras's model.summary() for this network: 128000 + 49280 + 131584 + 129 = 308993 parameters.
  CHECK(model.num_parameters() == 308993);
  CHECK(named[1].second.shape() == Shape{3, 128, 128});
  CHECK(named[4].second.shape() == Shape{128, 512});
  sum(y).backward();
  for (const auto& [n, t] : named) {
    INFO(n);
    CHECK(t.grad().defined());
  }
}

TEST_CASE("initial values follow Keras: uniform embeddings, unit forget bias, orthogonal recurrent kernel") {
  manual_seed(3);
  nn::Embedding emb(50, 8, /*padding_idx=*/0);
  const auto e = emb.embeddings().to_vector<float>();
  for (std::size_t i = 0; i < e.size(); ++i) CHECK(std::fabs(e[i]) <= 0.05f);
  check_close(emb.embeddings().select(0, 0), std::vector<double>(8, 0.0));  // padding row starts at zero
  nn::LSTM lstm(6, 4);
  check_close(lstm.bias(), {0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0});
  Tensor r = lstm.recurrent_kernel().to(DType::float64);
  Tensor gram = matmul(r, r.t());
  for (std::int64_t i = 0; i < 4; ++i) CHECK(gram.at<double>({i, i}) == doctest::Approx(1.0).epsilon(1e-5));
}

TEST_CASE("each layer's gradients (float64 gradcheck through the module)") {
  manual_seed(4);
  Generator g(5);
  {
    nn::Conv1D conv(3, 4, 2, {.padding = "same", .activation = nn::Activation::tanh});
    conv.to(DType::float64);
    Tensor x = randn({2, 5, 3}, g, DType::float64);
    x.set_requires_grad();
    auto params = conv.parameters();
    params.push_back(x);
    RECSYS_CHECK_GRADCHECK([&](const autograd::TensorList&) { return conv(x); }, params);
  }
  {
    nn::LSTM lstm(3, 2, {.return_sequences = true});
    lstm.to(DType::float64);
    Tensor x = randn({2, 4, 3}, g, DType::float64);
    RECSYS_CHECK_GRADCHECK([&](const autograd::TensorList&) { return lstm(x); }, lstm.parameters());
  }
  {
    nn::Embedding emb(7, 3, 2);
    emb.to(DType::float64);
    Tensor ids = from_vector(std::vector<std::int64_t>{1, 3, 6, 1}, {2, 2});
    RECSYS_CHECK_GRADCHECK([&](const autograd::TensorList&) { return emb(ids); }, emb.parameters());
    // The padding row is read like any other but, by design, never receives a gradient.
    emb.zero_grad();
    sum(emb(from_vector(std::vector<std::int64_t>{2, 2, 1}))).backward();
    check_close(emb.embeddings().grad().select(0, 2), {0, 0, 0});
    check_close(emb.embeddings().grad().select(0, 1), {1, 1, 1});
  }
  {
    nn::Sequential small(nn::Embedding(11, 4), nn::Conv1D(4, 3, 2, {.activation = nn::Activation::relu}),
                         nn::MaxPool1D(2), nn::LSTM(3, 3), nn::Dense(3, 1, nn::Activation::sigmoid));
    small.to(DType::float64);
    Tensor ids = randint(0, 11, {3, 9}, g);
    RECSYS_CHECK_GRADCHECK([&](const autograd::TensorList&) { return small(ids); }, small.parameters());
  }
}

TEST_CASE("Dropout: identity in eval mode, seeded masks in training") {
  manual_seed(6);
  nn::Dropout drop(0.25);
  Tensor x = ones({10000});
  drop.eval();
  CHECK(drop(x).is_same(x));
  drop.train();
  const auto y = drop(x).to_vector<float>();
  int kept = 0;
  for (float v : y) {
    CHECK((v == 0.0f || v == doctest::Approx(1 / 0.75f)));
    kept += v != 0.0f;
  }
  CHECK(kept == doctest::Approx(7500).epsilon(0.03));
  manual_seed(6);
  nn::Dropout again(0.25);
  CHECK(again(x).to_vector<float>() == y);  // same seed, same mask
  CHECK_THROWS_WITH_AS(nn::Dropout(1.0), "Dropout: rate must be in [0, 1), got 1", Error);
}

TEST_CASE("LSTM forward_with_state exposes the final states, and return_sequences selects the output") {
  manual_seed(7);
  nn::LSTM seq(3, 5, {.return_sequences = true});
  Generator g(8);
  Tensor x = randn({2, 4, 3}, g);
  const LstmResult r = seq.forward_with_state(x);
  CHECK(r.output.shape() == Shape{2, 4, 5});
  CHECK(r.h.shape() == Shape{2, 5});
  check_close(r.output.select(1, 3), r.h.to_vector<double>());  // last step's output is h
  CHECK(seq.forward_with_state(x, r.h, r.c).output.shape() == Shape{2, 4, 5});  // continue from a state
}

TEST_CASE("layer argument errors") {
  CHECK_THROWS_WITH_AS(nn::Embedding(10, 4, 10), "Embedding: padding_idx 10 is outside [0, 10) (use -1 for none)", Error);
  CHECK_THROWS_WITH_AS(nn::Conv1D(4, 4, 3, {.padding = "full"}), "Conv1D: padding must be 'valid' or 'same', got 'full'",
                       Error);
  CHECK_THROWS_WITH_AS(nn::Conv1D(4, 0, 3), "Conv1D: in_channels, filters and kernel_size must be positive, got 4, 0 and 3",
                       Error);
  CHECK_THROWS_WITH_AS(nn::MaxPool1D(0), "MaxPool1D: pool_size must be positive, got 0", Error);
  CHECK_THROWS_WITH_AS(nn::LSTM(0, 4), "LSTM: input_size and hidden_size must be positive, got 0 and 4", Error);
  nn::Embedding emb(10, 4);
  CHECK_THROWS_WITH_AS(emb(tensor({std::int64_t{3}, std::int64_t{10}})), doctest::Contains("embedding"), Error);
}
