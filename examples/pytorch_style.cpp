// examples/pytorch_style.cpp — the reference CNN-LSTM trained with an explicit loop: zero_grad, forward, loss, backward, step.
#include <cstdio>
#include <cstdlib>

#include <recsys/recsys.hpp>

using namespace recsys;

int main(int argc, char** argv) {
  // pytorch_style [epochs] [samples]: the defaults train for a few minutes on two cores; ctest runs a tiny budget.
  const int epochs = argc > 1 ? std::atoi(argv[1]) : 4;
  const std::int64_t samples = argc > 2 ? std::atoll(argv[2]) : 2500;

  // Sequences of 100 token ids whose label is carried by a few cue words; the last 20% are the test set.
  const train::TokenTask data = train::make_token_task({.samples = samples, .length = 100, .seed = 42});
  const std::int64_t split = samples * 8 / 10;
  const Tensor x_test = data.x.slice(0, split, samples), y_test = data.y.slice(0, split, samples);
  data::BatchLoader loader({data.x.slice(0, 0, split), data.y.slice(0, 0, split)},
                           {.batch_size = 32, .shuffle = true, .seed = 42});

  manual_seed(42);  // the same initial weights on every run
  nn::Sequential model(nn::Embedding(1000, 128), nn::Conv1D(128, 128, 3, {.activation = nn::Activation::relu}),
                       nn::MaxPool1D(2), nn::LSTM(128, 128), nn::Dense(128, 1, nn::Activation::sigmoid));
  optim::Adam optimizer(model.parameters(), {.lr = 1e-3});

  for (int epoch = 1; epoch <= epochs; ++epoch) {
    model.train();
    double loss_sum = 0;
    std::int64_t seen = 0;
    for (const std::vector<Tensor>& batch : loader) {
      optimizer.zero_grad();
      Tensor loss = binary_cross_entropy(model(batch[0]), batch[1]);
      loss.backward();
      optimizer.step();
      loss_sum += loss.item() * static_cast<double>(batch[0].size(0));
      seen += batch[0].size(0);
    }

    model.eval();
    NoGradGuard no_grad;  // evaluation records no graph
    const Tensor probabilities = model(x_test);
    const double test_loss = binary_cross_entropy(probabilities, y_test).item();
    const double test_accuracy = metrics::binary_accuracy(y_test, probabilities);
    std::printf("epoch %d/%d: train loss %.4f - test loss %.4f - test accuracy %.4f\n", epoch, epochs,
                loss_sum / static_cast<double>(seen), test_loss, test_accuracy);
  }

  nn::save_weights(model, "pytorch_style.safetensors");
  std::printf("wrote pytorch_style.safetensors\n");
  return 0;
}
