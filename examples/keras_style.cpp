// examples/keras_style.cpp — the reference CNN-LSTM trained Keras-style: compile, fit with validation and callbacks, evaluate, save.
#include <cstdio>
#include <cstdlib>

#include <recsys/recsys.hpp>

using namespace recsys;

int main(int argc, char** argv) {
  // keras_style [epochs] [samples]: the defaults train for a few minutes on two cores; ctest runs a tiny budget.
  const int epochs = argc > 1 ? std::atoi(argv[1]) : 4;
  const std::int64_t samples = argc > 2 ? std::atoll(argv[2]) : 2500;

  // Sequences of 100 token ids whose label is carried by a few cue words; the rows are in random
  // order, so the last 20% serve as the test set (train_test_split(test_size=0.2)).
  const train::TokenTask data = train::make_token_task({.samples = samples, .length = 100, .seed = 42});
  const std::int64_t split = samples * 8 / 10;
  const Tensor x_train = data.x.slice(0, 0, split), y_train = data.y.slice(0, 0, split);
  const Tensor x_test = data.x.slice(0, split, samples), y_test = data.y.slice(0, split, samples);

  // The seed document's network: Embedding(1000, 128) → Conv1D(128, 3, relu) → MaxPooling1D(2) → LSTM(128) → Dense(1, sigmoid).
  const auto network = [] {
    return nn::Sequential(nn::Embedding(1000, 128), nn::Conv1D(128, 128, 3, {.activation = nn::Activation::relu}),
                          nn::MaxPool1D(2), nn::LSTM(128, 128), nn::Dense(128, 1, nn::Activation::sigmoid));
  };
  manual_seed(42);  // the same initial weights on every run
  train::Model model(network());
  std::printf("%s\n", model.summary().c_str());
  model.compile(train::adam({.lr = 1e-3}), train::Loss::binary_crossentropy, {train::Metric::accuracy});

  train::EarlyStopping early_stop({.monitor = "val_loss", .patience = 2, .restore_best_weights = true});
  train::CSVLogger csv_log("keras_style_log.csv");
  const History history = model.fit(x_train, y_train, {.epochs = epochs, .batch_size = 32, .seed = 42,
                                                       .validation_split = 0.1, .callbacks = {early_stop, csv_log}});

  std::printf("\nEvaluate on the %lld held-out sequences:\n", static_cast<long long>(samples - split));
  const train::Logs test = model.evaluate(x_test, y_test);

  model.save_weights("keras_style.safetensors", {{"test_accuracy", std::to_string(test[1].second)}});
  io::write_file_atomic("keras_style_history.csv", history.to_csv());
  io::write_file_atomic("keras_style_history.svg", history.to_svg("reference CNN-LSTM"));

  // A fresh network with the saved weights predicts exactly what the trained one does.
  train::Model reloaded(network());
  reloaded.load_weights("keras_style.safetensors");
  const bool same = max(abs(reloaded.predict(x_test) - model.predict(x_test))).item() == 0.0;

  std::printf("\ntest accuracy %.4f; reloaded weights predict %s\n", test[1].second, same ? "identically" : "DIFFERENTLY");
  std::printf("wrote keras_style.safetensors, keras_style_history.csv, keras_style_history.svg (open it in a browser), "
              "keras_style_log.csv\n");
  return same ? 0 : 1;
}
