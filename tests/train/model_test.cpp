// tests/train/model_test.cpp — Model: fit on the reference model, determinism, the plain-loop equivalence, validation, evaluate/predict, progress and errors.
#include <doctest/doctest.h>

#include <recsys/core/parallel.hpp>
#include <recsys/nn/dropout.hpp>
#include <recsys/train/model.hpp>
#include <recsys/train/token_task.hpp>

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <string>
#include <type_traits>
#include <vector>

#include "test_util.hpp"
#include "train/train_test_util.hpp"

using namespace recsys;
using recsys::testing::bitwise_equal;

namespace {

/// Rows `index[begin, end)` of t, copied (what fit's shuffled batches hold).
Tensor rows_of(const Tensor& t, const std::vector<std::int64_t>& index, std::size_t begin, std::size_t end) {
  Shape shape = t.shape();
  shape[0] = static_cast<std::int64_t>(end - begin);
  Tensor out = Tensor::empty(shape, t.dtype());
  for (std::size_t i = begin; i < end; ++i)
    out.slice(0, static_cast<std::int64_t>(i - begin), static_cast<std::int64_t>(i - begin + 1))
        .copy_(t.slice(0, index[i], index[i] + 1));
  return out;
}

/// x (10, 1) of zeros and y = 1..10: with all-zero weights every prediction is 0.
struct CountingData {
  Tensor x = zeros({10, 1});
  Tensor y = arange(10, DType::float32).view({10, 1}) + 1.0;
};

/// Dense(1, 1) with zero weights trained with lr 0: predictions stay 0, so losses are sums of y^2.
train::Model<nn::Sequential<nn::Dense>> frozen_zero_model(std::vector<train::Metric> metrics = {train::Metric::mae}) {
  train::Model model(nn::Sequential(nn::Dense(1, 1)));
  NoGradGuard no_grad;
  for (auto& [name, t] : model.named_parameters()) t.zero_();
  model.compile(train::sgd({.lr = 0}), train::Loss::mean_squared_error, std::move(metrics));
  return model;
}

}  // namespace

TEST_CASE("fit trains the reference model past 95% validation accuracy, reloaded weights predict identically") {
  manual_seed(7);
  train::Model model(testing::reference_model());
  const train::TokenTask task = train::make_token_task({.samples = 1024, .length = 20, .seed = 1});
  model.compile(train::adam({.lr = 1e-3}), train::Loss::binary_crossentropy, {train::Metric::accuracy});
  const History h = model.fit(task.x, task.y, {.epochs = 3, .batch_size = 32, .seed = 3, .validation_split = 0.2, .verbose = 0});

  CHECK(h.keys() == std::vector<std::string>{"loss", "accuracy", "val_loss", "val_accuracy"});
  REQUIRE(h.epochs() == 3);
  INFO(h.to_csv());
  CHECK(h["val_accuracy"].back() > 0.95);
  CHECK(h["loss"].back() < h["loss"].front());
  // fit's validation is evaluate() on the last 20% of the rows, with the same batches.
  const std::int64_t split = 819;  // floor(1024 * 0.8)
  const Tensor x_val = task.x.slice(0, split, 1024), y_val = task.y.slice(0, split, 1024);
  const train::Logs val = model.evaluate(x_val, y_val, {.verbose = 0});
  CHECK(*train::find_log(val, "loss") == h["val_loss"].back());
  CHECK(*train::find_log(val, "accuracy") == h["val_accuracy"].back());

  testing::TempDir dir;
  const std::string path = dir.file("reference.safetensors");
  model.save_weights(path, {{"task", "tokens"}});
  manual_seed(99);
  train::Model fresh(testing::reference_model());
  const Tensor before = fresh.predict(x_val);
  const Tensor expected = model.predict(x_val);
  CHECK_FALSE(bitwise_equal(before, expected));
  const io::LoadResult loaded = fresh.load_weights(path);
  CHECK(loaded.metadata.at("task") == "tokens");
  CHECK(bitwise_equal(fresh.predict(x_val), expected));
  CHECK(bitwise_equal(fresh.predict(x_val, {.batch_size = 7}), expected));
}

TEST_CASE("same seed, same weights: bitwise identical after fit with 1 and 2 OpenMP threads") {
  const train::TokenTask task = train::make_token_task({.samples = 192, .length = 20, .seed = 4});
  const auto train_once = [&](int threads, std::uint64_t shuffle_seed) {
    set_num_threads(threads);
    manual_seed(11);
    train::Model model(testing::reference_model());
    model.compile(train::adam({.lr = 1e-3}), train::Loss::binary_crossentropy, {train::Metric::accuracy});
    model.fit(task.x, task.y, {.epochs = 1, .batch_size = 32, .seed = shuffle_seed, .validation_split = 0.25, .verbose = 0});
    return model.named_parameters();  // the handles keep the tensors alive after the model is gone
  };
  const int threads_before = num_threads();
  const NamedTensors one = train_once(1, 5), two = train_once(2, 5), other_order = train_once(2, 6);
  set_num_threads(threads_before);
  REQUIRE(one.size() == two.size());
  bool any_difference = false;
  for (std::size_t i = 0; i < one.size(); ++i) {
    INFO(one[i].first);
    CHECK(bitwise_equal(one[i].second, two[i].second));
    any_difference = any_difference || !bitwise_equal(one[i].second, other_order[i].second);
  }
  CHECK(any_difference);  // another shuffle seed trains differently, so the comparison above can fail
}

TEST_CASE("steady state: once shapes repeat, a whole epoch is served from the allocator's cache") {
  if (RECSYS_ASAN) return;  // caching is off under AddressSanitizer, which must see every allocation
  manual_seed(12);
  train::Model model(testing::reference_model(50, 8));
  const train::TokenTask task = train::make_token_task({.samples = 66, .length = 12, .vocab = 50, .seed = 2});
  model.compile(train::adam(), train::Loss::binary_crossentropy, {train::Metric::accuracy, train::Metric::auc});
  const train::FitOptions options{.epochs = 1, .batch_size = 16, .validation_split = 0.25, .verbose = 0};
  model.fit(task.x, task.y, options);  // warm-up: optimizer slots, gradients, staging buffers, every batch shape
  // The first validation keeps the embedding-conv table (EmbeddingConvTableCache) in blocks that
  // training had cached, so training in a second fit allocates those once more; after that, the
  // table is rebuilt each epoch in the blocks of the one it replaces.
  model.fit(task.x, task.y, options);
  const std::uint64_t before = CachingHostAllocator::instance().stats().system_allocations;
  model.fit(task.x, task.y, options);  // 49 rows in batches of 16, 16, 16 and 1, then 17 validation rows
  CHECK(CachingHostAllocator::instance().stats().system_allocations == before);
}

TEST_CASE("fit is exactly the plain loop: seeded shuffle, zero_grad, forward, loss, backward, step (bitwise)") {
  Generator data_gen(5);
  const Tensor x = randn({10, 4}, data_gen);
  const Tensor y = randint(0, 2, {10, 1}, data_gen).to(DType::float32);
  for (const bool shuffle : {false, true}) {
    INFO("shuffle ", shuffle);
    manual_seed(3);
    train::Model model(testing::small_mlp());
    model.compile(train::sgd({.lr = 0.1, .momentum = 0.9}), train::Loss::binary_crossentropy);
    const History h = model.fit(x, y, {.epochs = 2, .batch_size = 4, .shuffle = shuffle, .seed = 9, .verbose = 0});

    manual_seed(3);
    auto net = testing::small_mlp();
    optim::SGD opt(net.parameters(), {.lr = 0.1, .momentum = 0.9});
    Generator order_gen(9);
    std::vector<std::int64_t> order(10);
    for (int epoch = 0; epoch < 2; ++epoch) {
      std::iota(order.begin(), order.end(), 0);
      if (shuffle) recsys::shuffle(order.begin(), order.end(), order_gen);
      double loss_sum = 0;
      for (std::size_t begin = 0; begin < 10; begin += 4) {
        const std::size_t end = std::min<std::size_t>(begin + 4, 10);
        opt.zero_grad();
        Tensor loss = binary_cross_entropy(net(rows_of(x, order, begin, end)), rows_of(y, order, begin, end));
        loss.backward();
        opt.step();
        loss_sum += loss.item() * static_cast<double>(end - begin);
      }
      CHECK(h["loss"][static_cast<std::size_t>(epoch)] == loss_sum / 10);
    }
    const NamedTensors fitted = model.named_parameters(), looped = net.named_parameters();
    for (std::size_t i = 0; i < fitted.size(); ++i) CHECK(bitwise_equal(fitted[i].second, looped[i].second));
  }
}

TEST_CASE("validation_split holds out the last rows, taken before shuffling (hand-worked)") {
  // Train rows y = 1..8: loss = mean(y^2) = 204 / 8, mae = 36 / 8. Validation rows 9, 10: (81 + 100) / 2 and 9.5.
  CountingData d;
  auto model = frozen_zero_model();
  const History h = model.fit(d.x, d.y, {.epochs = 2, .batch_size = 4, .seed = 1, .validation_split = 0.2, .verbose = 0});
  CHECK(h.keys() == std::vector<std::string>{"loss", "mae", "val_loss", "val_mae"});
  CHECK(h["loss"] == std::vector<double>{25.5, 25.5});
  CHECK(h["mae"] == std::vector<double>{4.5, 4.5});
  CHECK(h["val_loss"] == std::vector<double>{90.5, 90.5});
  CHECK(h["val_mae"] == std::vector<double>{9.5, 9.5});
}

TEST_CASE("validation_data is evaluated after every epoch, targets (N) meet outputs (N, 1)") {
  CountingData d;
  auto model = frozen_zero_model();
  const Tensor y_flat = d.y.reshape({10});
  const History h = model.fit(d.x, y_flat, {.epochs = 1, .batch_size = 5, .validation_data = {zeros({2, 1}), tensor({2.f, 4.f})}, .verbose = 0});
  CHECK(h["loss"] == std::vector<double>{38.5});  // mean of 1, 4, ..., 100
  CHECK(h["val_loss"] == std::vector<double>{10.0});
  CHECK(h["val_mae"] == std::vector<double>{3.0});
}

TEST_CASE("evaluate and predict batch the data in eval mode and restore the training mode") {
  manual_seed(21);
  train::Model model(nn::Sequential(nn::Dense(4, 8, nn::Activation::relu), nn::Dropout(0.5), nn::Dense(8, 1, nn::Activation::sigmoid)));
  model.compile(train::adam(), train::Loss::binary_crossentropy, {train::Metric::accuracy, train::Metric::mse});
  Generator g(8);
  const Tensor x = randn({23, 4}, g), y = randint(0, 2, {23, 1}, g).to(DType::float32);
  CHECK(model.net().is_training());
  const Tensor p = model.predict(x, {.batch_size = 5});
  CHECK(model.net().is_training());
  CHECK(p.shape() == Shape{23, 1});
  Tensor full;
  {
    NoGradGuard no_grad;
    model.net().eval();
    full = model(x);
    model.net().train();
  }
  testing::check_close(p, full, 1e-6, 1e-7);  // Dropout is off in eval mode, so batching changes nothing
  CHECK(bitwise_equal(model.predict(x, {.batch_size = 5}), p));

  std::FILE* log = std::tmpfile();
  const train::Logs logs = model.evaluate(x, y, {.batch_size = 6, .out = log});
  const std::string text = testing::file_text(log);
  std::fclose(log);
  CHECK(text.rfind("4/4 [==============================] - ", 0) == 0);
  CHECK(text.find(" - loss: ") != std::string::npos);
  REQUIRE(logs.size() == 3);
  CHECK(logs[0].first == "loss");
  CHECK(logs[0].second == doctest::Approx(binary_cross_entropy(full, y).item()).epsilon(1e-6));
  const std::vector<float> pv = full.to_vector<float>(), yv = y.to_vector<float>();
  double correct = 0, sq = 0;
  for (std::size_t i = 0; i < pv.size(); ++i) {
    correct += (pv[i] > 0.5f) == (yv[i] > 0.5f);
    sq += (static_cast<double>(pv[i]) - yv[i]) * (static_cast<double>(pv[i]) - yv[i]);
  }
  CHECK(logs[1] == std::pair<std::string, double>{"accuracy", correct / 23});
  CHECK(logs[2].first == "mse");
  CHECK(logs[2].second == doctest::Approx(sq / 23).epsilon(1e-6));
  CHECK(model.net().is_training());
}

TEST_CASE("progress: silent at verbose 0, a bar line per epoch at 1, a plain line at 2") {
  CountingData d;
  for (const int verbose : {0, 1, 2}) {
    INFO("verbose ", verbose);
    auto model = frozen_zero_model();
    std::FILE* f = std::tmpfile();
    model.fit(d.x, d.y, {.epochs = 2, .batch_size = 4, .validation_split = 0.2, .verbose = verbose, .out = f});
    const std::string text = testing::file_text(f);
    std::fclose(f);
    if (verbose == 0) {
      CHECK(text.empty());
      continue;
    }
    CHECK(std::count(text.begin(), text.end(), '\n') == 4);
    CHECK(text.rfind(verbose == 1 ? "Epoch 1/2\n2/2 [==============================] - " : "Epoch 1/2\n", 0) == 0);
    CHECK((text.find('[') == std::string::npos) == (verbose == 2));
    CHECK(text.find("Epoch 2/2\n") != std::string::npos);
    CHECK(text.find(" - loss: 25.5000 - mae: 4.5000 - val_loss: 90.5000 - val_mae: 9.5000\n") != std::string::npos);
  }
}

TEST_CASE("a Model built from a named network refers to it, one built from a temporary owns it") {
  manual_seed(2);
  auto net = testing::small_mlp();
  train::Model model(net);
  static_assert(std::is_same_v<decltype(model), train::Model<decltype(net)&>>);
  static_assert(std::is_same_v<decltype(train::Model(testing::small_mlp())), train::Model<decltype(net)>>);
  CHECK(&model.net() == &net);
  const Tensor before = net.named_parameters()[0].second.clone();
  model.compile(train::sgd({.lr = 0.5}), train::Loss::binary_crossentropy);
  Generator g(1);
  model.fit(randn({8, 4}, g), ones({8, 1}), {.epochs = 1, .batch_size = 8, .verbose = 0});
  CHECK_FALSE(bitwise_equal(net.named_parameters()[0].second, before));  // fit trained `net` itself
}

TEST_CASE("a softmax classifier trains with sparse categorical cross-entropy and categorical accuracy") {
  // Three well-separated clusters around (±3, 0) and (0, 3).
  manual_seed(4);
  Generator g(6);
  const std::int64_t n = 90;
  Tensor x = randn({n, 2}, g) * 0.3;
  std::vector<std::int64_t> labels(static_cast<std::size_t>(n));
  const float centers[3][2] = {{3, 0}, {-3, 0}, {0, 3}};
  {
    float* xv = x.data<float>();
    for (std::int64_t i = 0; i < n; ++i) {
      labels[static_cast<std::size_t>(i)] = i % 3;
      xv[2 * i] += centers[i % 3][0];
      xv[2 * i + 1] += centers[i % 3][1];
    }
  }
  train::Model model(nn::Sequential(nn::Dense(2, 3, nn::Activation::softmax)));
  model.compile(train::adam({.lr = 0.1}), train::Loss::sparse_categorical_crossentropy, {train::Metric::accuracy});
  const History h = model.fit(x, from_vector(labels), {.epochs = 20, .batch_size = 16, .verbose = 0});
  CHECK(h["accuracy"].back() == 1.0);
  CHECK(h["loss"].back() < 0.2 * h["loss"].front());
}

TEST_CASE("a custom loss function") {
  CountingData d;
  train::Model model(nn::Sequential(nn::Dense(1, 1)));
  {
    NoGradGuard no_grad;
    for (auto& [name, t] : model.named_parameters()) t.zero_();
  }
  model.compile(train::sgd({.lr = 0}), {"sum_abs", [](const Tensor& p, const Tensor& t) { return sum(abs(p - t)); }});
  const History h = model.fit(d.x, d.y, {.epochs = 1, .batch_size = 10, .verbose = 0});
  CHECK(h["loss"] == std::vector<double>{55.0});
}

TEST_CASE("summary lists the layers and their parameter counts") {
  manual_seed(1);
  train::Model model(testing::reference_model());
  const std::string s = model.summary();
  CHECK(s.find("Model: Sequential\n") == 0);
  CHECK(s.find("0        Embedding                  128000\n") != std::string::npos);
  CHECK(s.find("2        MaxPool1D                       0\n") != std::string::npos);
  CHECK(s.find("3        LSTM                       131584\n") != std::string::npos);
  CHECK(s.find("Total params: 308993\n") != std::string::npos);
}

TEST_CASE("Model errors name the call and the problem") {
  CountingData d;
  manual_seed(1);
  train::Model model(nn::Sequential(nn::Dense(1, 1)));
  CHECK_THROWS_WITH_AS(model.fit(d.x, d.y), doctest::Contains("fit: the model is not compiled; call compile("), Error);
  CHECK_THROWS_WITH_AS(model.evaluate(d.x, d.y), doctest::Contains("evaluate: the model is not compiled"), Error);
  CHECK_THROWS_WITH_AS(model.optimizer(), doctest::Contains("optimizer: the model is not compiled"), Error);
  CHECK_THROWS_WITH_AS(model.compile(std::unique_ptr<optim::Optimizer>(), train::Loss::mean_squared_error),
                       doctest::Contains("compile: the optimizer is null"), Error);
  CHECK_THROWS_WITH_AS(model.compile(train::OptimizerFactory(), train::Loss::mean_squared_error),
                       doctest::Contains("compile: the optimizer factory is empty"), Error);
  auto other = testing::small_mlp();
  CHECK_THROWS_WITH_AS(model.compile(std::make_unique<optim::SGD>(other.parameters()), train::Loss::mean_squared_error),
                       doctest::Contains("compile: the optimizer's parameter 0 (shape [4, 3]) is not a parameter of this model"),
                       Error);
  CHECK_THROWS_WITH_AS(model.compile(train::sgd(), train::Loss::mean_squared_error, {train::Metric::mae, train::Metric::mae}),
                       doctest::Contains("compile: metric 'mae' is listed twice"), Error);
  CHECK_FALSE(model.compiled());

  model.compile(train::sgd(), train::Loss::mean_squared_error, {train::Metric::mae});
  CHECK(model.compiled());
  CHECK_THROWS_WITH_AS(model.fit(d.x, d.y.slice(0, 0, 9)), doctest::Contains("fit: x has 10 rows but y has shape [9, 1]"), Error);
  CHECK_THROWS_WITH_AS(model.fit(Tensor(), d.y), doctest::Contains("fit: x is an undefined tensor"), Error);
  CHECK_THROWS_WITH_AS(model.fit(zeros({0, 1}), zeros({0, 1})), doctest::Contains("fit: x needs at least one row, got shape [0, 1]"), Error);
  CHECK_THROWS_WITH_AS(model.fit(d.x, d.y, {.epochs = 0}), doctest::Contains("fit: epochs must be positive, got 0"), Error);
  CHECK_THROWS_WITH_AS(model.fit(d.x, d.y, {.batch_size = 0}), doctest::Contains("fit: batch_size must be positive, got 0"), Error);
  CHECK_THROWS_WITH_AS(model.fit(d.x, d.y, {.validation_split = 1.0}), doctest::Contains("fit: validation_split must be in [0, 1), got 1"),
                       Error);
  CHECK_THROWS_WITH_AS(model.fit(d.x, d.y, {.validation_split = 0.95}),
                       doctest::Contains("fit: validation_split 0.95 of 10 samples leaves 0 for training and 10 for validation"),
                       Error);
  CHECK_THROWS_WITH_AS(model.fit(d.x, d.y, {.validation_split = 0.2, .validation_data = {d.x, d.y}}),
                       doctest::Contains("fit: pass validation_split or validation_data, not both"), Error);
  CHECK_THROWS_WITH_AS(model.fit(d.x, d.y, {.validation_data = {d.x, d.y.slice(0, 0, 3)}}),
                       doctest::Contains("fit: validation_data: x has 10 rows but y has shape [3, 1]"), Error);
  CHECK_THROWS_WITH_AS(model.evaluate(d.x, d.y, {.batch_size = -1}),
                       doctest::Contains("evaluate: batch_size must be positive, got -1"), Error);
  CHECK_THROWS_WITH_AS(model.predict(d.x, {.batch_size = 0}), doctest::Contains("predict: batch_size must be positive, got 0"),
                       Error);
  CHECK_THROWS_WITH_AS(model.predict(Tensor()), doctest::Contains("predict: x is an undefined tensor"), Error);

  model.compile(train::sgd(), {"per_sample", [](const Tensor& p, const Tensor& t) { return p - t; }});
  CHECK_THROWS_WITH_AS(model.fit(d.x, d.y, {.verbose = 0}),
                       doctest::Contains("fit: the loss 'per_sample' must return a scalar, got shape [10, 1]"), Error);

  train::Model three(nn::Sequential(nn::Dense(1, 3, nn::Activation::softmax)));
  three.compile(train::sgd(), train::Loss::sparse_categorical_crossentropy, {train::Metric::auc});
  CHECK_THROWS_WITH_AS(three.fit(d.x, zeros({10, 2}), {.verbose = 0}),
                       doctest::Contains("sparse_categorical_crossentropy: needs one class id per sample, got targets of shape [10, 2]"),
                       Error);
  CHECK_THROWS_WITH_AS(three.fit(d.x, zeros({10}, DType::int64), {.verbose = 0}),
                       doctest::Contains("auc: needs one score per sample ((N) or (N, 1) predictions), got shape [10, 3]"), Error);
}

TEST_CASE("the token task: seeded, balanced, and its cue words decide the label") {
  const train::TokenTask a = train::make_token_task({.samples = 200, .length = 30, .vocab = 100, .seed = 5});
  const train::TokenTask b = train::make_token_task({.samples = 200, .length = 30, .vocab = 100, .seed = 5});
  const train::TokenTask c = train::make_token_task({.samples = 200, .length = 30, .vocab = 100, .seed = 6});
  CHECK(a.x.shape() == Shape{200, 30});
  CHECK(a.x.dtype() == DType::int64);
  CHECK(a.y.shape() == Shape{200, 1});
  CHECK(bitwise_equal(a.x, b.x));
  CHECK(bitwise_equal(a.y, b.y));
  CHECK_FALSE(bitwise_equal(a.x, c.x));
  const std::vector<std::int64_t> x = a.x.to_vector<std::int64_t>();
  const std::vector<float> y = a.y.to_vector<float>();
  int positives = 0;
  for (std::size_t i = 0; i < 200; ++i) {
    positives += y[i] == 1.0f;
    int pos_cues = 0, neg_cues = 0;
    for (std::size_t t = 0; t < 30; ++t) {
      const std::int64_t id = x[i * 30 + t];
      CHECK((id >= 1 && id < 100));
      pos_cues += id >= 1 && id <= 10;
      neg_cues += id >= 11 && id <= 20;
    }
    CHECK(pos_cues + neg_cues >= 1);
    CHECK(((pos_cues > 0) != (neg_cues > 0)));
    CHECK((pos_cues > 0) == (y[i] == 1.0f));
  }
  CHECK(positives > 80);
  CHECK(positives < 120);
  const train::TokenTask noisy = train::make_token_task({.samples = 200, .length = 30, .vocab = 100, .label_noise = 1.0, .seed = 5});
  CHECK(bitwise_equal(noisy.x, a.x));
  CHECK(bitwise_equal(noisy.y, 1.0 - a.y));  // every label flipped, text unchanged
  CHECK_THROWS_WITH_AS(train::make_token_task({.vocab = 21}),
                       doctest::Contains("make_token_task: a vocabulary of 21 leaves no filler words after 1 + 2 * 10 reserved ids"),
                       Error);
  CHECK_THROWS_WITH_AS(train::make_token_task({.samples = 0}),
                       doctest::Contains("make_token_task: samples, length, cue_words and cues_per_sample must be positive"), Error);
  CHECK_THROWS_WITH_AS(train::make_token_task({.label_noise = 2}),
                       doctest::Contains("make_token_task: label_noise must be in [0, 1], got 2"), Error);
}
