// tests/train/callbacks_test.cpp — EarlyStopping, ModelCheckpoint, CSVLogger and custom callbacks, scripted and through fit().
#include <doctest/doctest.h>

#include <recsys/train/callbacks.hpp>
#include <recsys/train/model.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "train/train_test_util.hpp"

using namespace recsys;
using train::Logs;

namespace {

/// Sets every weight of `net` to `value`, standing in for what an epoch of training would leave.
void set_weights(nn::Module& net, double value) {
  NoGradGuard no_grad;
  for (auto& [name, t] : net.named_parameters()) t.fill_(value);
}

/// Feeds (monitor = value) epochs to a callback; returns the epoch at which it asked to stop, or -1.
int feed(train::Callback& cb, nn::Module& net, const std::string& monitor, const std::vector<double>& values) {
  cb.on_train_begin(net);
  int stopped = -1;
  for (std::size_t e = 0; e < values.size() && stopped < 0; ++e) {
    set_weights(net, static_cast<double>(e));
    bool stop = false;
    cb.on_epoch_end(static_cast<int>(e), {{"loss", 0.0}, {monitor, values[e]}}, stop);
    if (stop) stopped = static_cast<int>(e);
  }
  cb.on_train_end();
  return stopped;
}

/// x = 0, y = 1..10 with a frozen all-zero Dense(1, 1): every epoch logs the same values.
struct Frozen {
  Tensor x = zeros({10, 1});
  Tensor y = arange(10, DType::float32).view({10, 1}) + 1.0;
  train::Model<nn::Sequential<nn::Dense>> model{nn::Sequential(nn::Dense(1, 1))};
  Frozen() {
    set_weights(model.net(), 0.0);
    model.compile(train::sgd({.lr = 0}), train::Loss::mean_squared_error, {train::Metric::mae});
  }
};

}  // namespace

TEST_CASE("EarlyStopping: patience counts epochs without improvement (scripted)") {
  nn::Dense net(1, 1);
  train::EarlyStopping es({.monitor = "val_loss", .patience = 2});
  CHECK(feed(es, net, "val_loss", {1.0, 0.9, 0.95, 0.91, 0.5}) == 3);
  CHECK(es.best() == 0.9);
  CHECK(es.best_epoch() == 1);
  CHECK(es.stopped_epoch() == 3);

  train::EarlyStopping impatient({.monitor = "val_loss"});  // patience 0: the first epoch without improvement stops
  CHECK(feed(impatient, net, "val_loss", {1.0, 0.9, 0.9}) == 2);

  // min_delta 0.05: 0.96 does not improve on 1.0 by more than that, 0.94 does; 0.951 and 0.92 miss 0.94.
  train::EarlyStopping delta({.monitor = "val_loss", .min_delta = 0.05, .patience = 2});
  CHECK(feed(delta, net, "val_loss", {1.0, 0.96, 0.94, 0.951, 0.92}) == 4);
  CHECK(delta.best() == 0.94);

  // Accuracy improves upwards (automatic mode); an explicit mode overrides the name.
  train::EarlyStopping acc({.monitor = "val_accuracy"});
  CHECK(feed(acc, net, "val_accuracy", {0.5, 0.7, 0.6}) == 2);
  train::EarlyStopping forced({.monitor = "val_accuracy", .mode = train::MonitorMode::min});
  CHECK(feed(forced, net, "val_accuracy", {0.5, 0.7}) == 1);
  train::EarlyStopping never({.monitor = "val_loss", .patience = 1});
  CHECK(feed(never, net, "val_loss", {3, 2, 1}) == -1);
  CHECK(never.stopped_epoch() == -1);
}

TEST_CASE("EarlyStopping restores the best epoch's weights, stopped early or not") {
  nn::Dense net(1, 1);
  train::EarlyStopping es({.monitor = "val_loss", .patience = 1, .restore_best_weights = true});
  CHECK(feed(es, net, "val_loss", {1.0, 0.5, 0.7, 0.8}) == 2);
  for (const auto& [name, t] : net.named_parameters()) CHECK(t.to_vector<float>() == std::vector<float>(t.numel(), 1.0f));
  train::EarlyStopping full_run({.monitor = "val_loss", .patience = 5, .restore_best_weights = true});
  CHECK(feed(full_run, net, "val_loss", {1.0, 0.4, 0.7, 0.8}) == -1);
  for (const auto& [name, t] : net.named_parameters()) CHECK(t.to_vector<float>() == std::vector<float>(t.numel(), 1.0f));
  train::EarlyStopping keep({.monitor = "val_loss", .patience = 1});  // without restoring, the last weights stay
  CHECK(feed(keep, net, "val_loss", {1.0, 0.5, 0.7}) == 2);
  for (const auto& [name, t] : net.named_parameters()) CHECK(t.to_vector<float>() == std::vector<float>(t.numel(), 2.0f));
}

TEST_CASE("EarlyStopping ends fit() early") {
  Frozen f;
  train::EarlyStopping es({.monitor = "val_loss", .patience = 1});
  const History h = f.model.fit(f.x, f.y, {.epochs = 10, .batch_size = 4, .validation_split = 0.2, .callbacks = {es}, .verbose = 0});
  CHECK(h.epochs() == 2);  // the value never changes: epoch 0 sets the best, epoch 1 does not improve
  CHECK(es.stopped_epoch() == 1);
  CHECK(es.best() == 90.5);
}

TEST_CASE("EarlyStopping errors") {
  nn::Dense net(1, 1);
  train::EarlyStopping es;
  es.on_train_begin(net);
  bool stop = false;
  CHECK_THROWS_WITH_AS(es.on_epoch_end(0, {{"loss", 1.0}, {"accuracy", 0.5}}, stop),
                       doctest::Contains("EarlyStopping: monitor 'val_loss' is not in the epoch's logs (loss, accuracy); "
                                         "pass validation_split or validation_data to fit()"),
                       Error);
  CHECK_THROWS_WITH_AS(train::EarlyStopping({.patience = -1}), doctest::Contains("EarlyStopping: patience must be >= 0, got -1"),
                       Error);
  CHECK_THROWS_WITH_AS(train::EarlyStopping({.min_delta = -0.1}),
                       doctest::Contains("EarlyStopping: min_delta must be >= 0, got -0.1"), Error);
  Frozen f;
  train::EarlyStopping typo({.monitor = "val_acc"});
  CHECK_THROWS_WITH_AS(f.model.fit(f.x, f.y, {.validation_split = 0.2, .callbacks = {typo}, .verbose = 0}),
                       doctest::Contains("monitor 'val_acc' is not in the epoch's logs (loss, mae, val_loss, val_mae)"), Error);
}

TEST_CASE("ModelCheckpoint writes the weights of each improving epoch, with the epoch in the metadata") {
  testing::TempDir dir;
  const std::string path = dir.file("best.safetensors");
  nn::Dense net(2, 1);
  train::ModelCheckpoint best(path, {.monitor = "val_loss"});
  CHECK(feed(best, net, "val_loss", {1.0, 0.8, 0.9, 0.7, 0.75}) == -1);
  CHECK(best.saves() == 3);
  CHECK(best.best() == 0.7);
  nn::Dense fresh(2, 1);
  const io::LoadResult r = nn::load_weights(fresh, path);
  CHECK(r.metadata.at("epoch") == "4");
  CHECK(std::stod(r.metadata.at("val_loss")) == 0.7);
  for (const auto& [name, t] : fresh.named_parameters()) CHECK(t.to_vector<float>() == std::vector<float>(t.numel(), 3.0f));

  train::ModelCheckpoint every(dir.file("last.safetensors"), {.monitor = "val_auc", .save_best_only = false});
  CHECK(feed(every, net, "val_auc", {0.9, 0.8}) == -1);
  CHECK(every.saves() == 2);
  CHECK(every.best() == 0.9);  // auc improves upwards
  CHECK(nn::load_weights(fresh, dir.file("last.safetensors")).metadata.at("epoch") == "2");

  CHECK_THROWS_WITH_AS(train::ModelCheckpoint(""), doctest::Contains("ModelCheckpoint: the path is empty"), Error);
  train::ModelCheckpoint missing(path, {.monitor = "val_mae"});
  missing.on_train_begin(net);
  bool stop = false;
  CHECK_THROWS_WITH_AS(missing.on_epoch_end(0, {{"loss", 1.0}}, stop),
                       doctest::Contains("ModelCheckpoint: monitor 'val_mae' is not in the epoch's logs (loss)"), Error);
}

TEST_CASE("CSVLogger writes one flushed row per epoch, append keeps earlier rows and one header") {
  testing::TempDir dir;
  const std::string path = dir.file("log.csv");
  Frozen f;
  const std::string row = "25.5,4.5,90.5,9.5\n";
  const std::string two_epochs = "epoch,loss,mae,val_loss,val_mae\n1," + row + "2," + row;
  {
    train::CSVLogger csv(path);
    f.model.fit(f.x, f.y, {.epochs = 2, .batch_size = 4, .validation_split = 0.2, .callbacks = {csv}, .verbose = 0});
    CHECK(testing::read_text(path) == two_epochs);
    train::CSVLogger appended(path, /*append=*/true);
    f.model.fit(f.x, f.y, {.epochs = 1, .batch_size = 4, .validation_split = 0.2, .callbacks = {appended}, .verbose = 0});
    CHECK(testing::read_text(path) == two_epochs + "1," + row);
    f.model.fit(f.x, f.y, {.epochs = 2, .batch_size = 4, .validation_split = 0.2, .callbacks = {csv}, .verbose = 0});
    CHECK(testing::read_text(path) == two_epochs);  // without append the file starts over
  }
  // Rows are on disk while training runs, not only at the end.
  struct Peek : train::Callback {
    std::string path, seen;
    void on_epoch_end(int, const Logs&, bool&) override { seen = testing::read_text(path); }
  } peek;
  peek.path = path;
  train::CSVLogger csv(path);
  f.model.fit(f.x, f.y, {.epochs = 1, .batch_size = 4, .validation_split = 0.2, .callbacks = {csv, peek}, .verbose = 0});
  CHECK(peek.seen == "epoch,loss,mae,val_loss,val_mae\n1," + row);

  const std::string bad_path = dir.file("no/such/dir/log.csv");
  const std::string message = "CSVLogger: cannot open '" + bad_path + "' for writing: No such file or directory";
  train::CSVLogger bad(bad_path);
  CHECK_THROWS_WITH_AS(f.model.fit(f.x, f.y, {.callbacks = {bad}, .verbose = 0}), doctest::Contains(message.c_str()), Error);
}

TEST_CASE("a custom callback sees every hook in order and can stop training") {
  struct Recorder : train::Callback {
    std::vector<std::string> calls;
    nn::Module* net = nullptr;
    void on_train_begin(nn::Module& m) override {
      net = &m;
      calls.push_back("begin");
    }
    void on_epoch_end(int epoch, const Logs& logs, bool& stop) override {
      calls.push_back("epoch " + std::to_string(epoch) + " " + logs.front().first);
      stop = epoch == 2;
    }
    void on_train_end() override { calls.push_back("end"); }
  } recorder;
  Frozen f;
  const History h = f.model.fit(f.x, f.y, {.epochs = 5, .callbacks = {recorder}, .verbose = 0});
  CHECK(h.epochs() == 3);
  CHECK(recorder.net == &f.model.net());
  CHECK(recorder.calls == std::vector<std::string>{"begin", "epoch 0 loss", "epoch 1 loss", "epoch 2 loss", "end"});
}
