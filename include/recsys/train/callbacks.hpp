// recsys/train/callbacks.hpp — hooks into Model::fit(): the Callback base, EarlyStopping, ModelCheckpoint and CSVLogger.
#pragma once

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "recsys/io/safetensors.hpp"
#include "recsys/nn/module.hpp"
#include "recsys/nn/serialize.hpp"
#include "recsys/train/metric.hpp"

namespace recsys::train {

/// Something fit() calls as training proceeds. Epochs are counted from 0, as in Keras.
class Callback {
 public:
  virtual ~Callback() = default;
  /// Before the first epoch, with the network being trained (valid until on_train_end).
  virtual void on_train_begin(nn::Module& net) { (void)net; }
  /// After each epoch, with its training and validation logs; set `stop` to end training here.
  virtual void on_epoch_end(int epoch, const Logs& logs, bool& stop) {
    (void)epoch;
    (void)logs;
    (void)stop;
  }
  /// After the last epoch (also after an early stop).
  virtual void on_train_end() {}
};

/// Whether a monitored value improves by going down or up. `automatic` picks up for accuracy, auc,
/// precision and recall, and down for everything else (losses, mae, mse), as Keras's mode="auto".
enum class MonitorMode : std::uint8_t { automatic, min, max };

namespace detail {

inline bool higher_is_better(const std::string& monitor, MonitorMode mode) {
  if (mode != MonitorMode::automatic) return mode == MonitorMode::max;
  for (const char* word : {"acc", "auc", "precision", "recall"})
    if (monitor.find(word) != std::string::npos) return true;
  return false;
}

/// The monitored value, or an error that lists what the logs do hold (a typo should not pass silently).
inline double monitored(const char* who, const std::string& monitor, const Logs& logs) {
  if (const auto v = find_log(logs, monitor)) return *v;
  std::string keys;
  for (const auto& [k, v] : logs) keys += (keys.empty() ? "" : ", ") + k;
  RECSYS_FAIL(who, ": monitor '", monitor, "' is not in the epoch's logs (", keys, ")",
              monitor.rfind("val_", 0) == 0 ? "; pass validation_split or validation_data to fit()" : "");
}

/// Tracks the best value of a monitored quantity.
struct BestTracker {
  bool higher_better = false;
  double best = std::numeric_limits<double>::quiet_NaN();
  /// True when `value` beats the best by more than `min_delta` (always for the first finite value).
  bool improves(double value, double min_delta) const {
    if (std::isnan(value)) return false;
    if (std::isnan(best)) return true;
    return higher_better ? value - min_delta > best : value + min_delta < best;
  }
};

}  // namespace detail

/// EarlyStopping's settings (Keras's defaults).
struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  double min_delta = 0;       // smaller changes do not count as an improvement
  int patience = 0;           // stop after this many epochs in a row without improvement
  MonitorMode mode = MonitorMode::automatic;
  bool restore_best_weights = false;  // at the end of training, put back the weights of the best epoch
};

/// Stops training when the monitored value has not improved for `patience` epochs. With
/// restore_best_weights, the network ends training with the weights of its best epoch, whether
/// training stopped early or ran all its epochs.
class EarlyStopping : public Callback {
 public:
  explicit EarlyStopping(EarlyStoppingOptions options = {}) : options_(std::move(options)) {
    RECSYS_CHECK(options_.patience >= 0, "EarlyStopping: patience must be >= 0, got ", options_.patience);
    RECSYS_CHECK(options_.min_delta >= 0, "EarlyStopping: min_delta must be >= 0, got ", options_.min_delta);
  }

  void on_train_begin(nn::Module& net) override {
    net_ = &net;
    tracker_ = {detail::higher_is_better(options_.monitor, options_.mode)};
    wait_ = 0;
    best_epoch_ = stopped_epoch_ = -1;
    best_weights_.clear();
  }

  void on_epoch_end(int epoch, const Logs& logs, bool& stop) override {
    const double value = detail::monitored("EarlyStopping", options_.monitor, logs);
    if (tracker_.improves(value, options_.min_delta)) {
      tracker_.best = value;
      best_epoch_ = epoch;
      wait_ = 0;
      if (options_.restore_best_weights) snapshot();
      return;
    }
    if (++wait_ >= options_.patience) {  // as Keras: patience 0 and 1 both stop at the first miss
      stopped_epoch_ = epoch;
      stop = true;
    }
  }

  void on_train_end() override {
    if (options_.restore_best_weights && !best_weights_.empty()) {
      NoGradGuard no_grad;
      const NamedTensors current = net_->named_parameters();
      for (std::size_t i = 0; i < current.size(); ++i) current[i].second.copy_(best_weights_[i].second);
    }
    net_ = nullptr;
  }

  /// The best monitored value so far (NaN before the first epoch).
  double best() const { return tracker_.best; }
  /// The epoch (from 0) that gave best(), or -1.
  int best_epoch() const { return best_epoch_; }
  /// The epoch at which training was stopped, or -1 when it ran all its epochs.
  int stopped_epoch() const { return stopped_epoch_; }

 private:
  void snapshot() {
    NoGradGuard no_grad;
    const NamedTensors current = net_->named_parameters();
    if (best_weights_.empty()) {
      for (const auto& [name, t] : current) best_weights_.emplace_back(name, t.clone());
      return;
    }
    for (std::size_t i = 0; i < current.size(); ++i) best_weights_[i].second.copy_(current[i].second);  // reuse buffers
  }

  EarlyStoppingOptions options_;
  nn::Module* net_ = nullptr;
  detail::BestTracker tracker_;
  int wait_ = 0, best_epoch_ = -1, stopped_epoch_ = -1;
  NamedTensors best_weights_;
};

/// ModelCheckpoint's settings. Unlike Keras, save_best_only defaults to true: the file then always
/// holds the best network seen so far.
struct ModelCheckpointOptions {
  std::string monitor = "val_loss";
  bool save_best_only = true;  // false: write after every epoch
  MonitorMode mode = MonitorMode::automatic;
};

/// Writes the network's weights (nn::save_weights: safetensors, atomic) to `path` after an epoch
/// that improved the monitored value. The file's metadata records the epoch (from 1) and the value.
class ModelCheckpoint : public Callback {
 public:
  explicit ModelCheckpoint(std::string path, ModelCheckpointOptions options = {})
      : path_(std::move(path)), options_(std::move(options)) {
    RECSYS_CHECK(!path_.empty(), "ModelCheckpoint: the path is empty");
  }

  void on_train_begin(nn::Module& net) override {
    net_ = &net;
    tracker_ = {detail::higher_is_better(options_.monitor, options_.mode)};
    saves_ = 0;
  }

  void on_epoch_end(int epoch, const Logs& logs, bool& stop) override {
    (void)stop;
    const double value = detail::monitored("ModelCheckpoint", options_.monitor, logs);
    const bool better = tracker_.improves(value, 0.0);
    if (better) tracker_.best = value;
    if (options_.save_best_only && !better) return;
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", value);
    nn::save_weights(*net_, path_, {{"epoch", std::to_string(epoch + 1)}, {options_.monitor, text}});
    ++saves_;
  }

  void on_train_end() override { net_ = nullptr; }

  /// The best monitored value so far (NaN before the first epoch).
  double best() const { return tracker_.best; }
  /// How many times the file was written in the last fit().
  int saves() const { return saves_; }

 private:
  std::string path_;
  ModelCheckpointOptions options_;
  nn::Module* net_ = nullptr;
  detail::BestTracker tracker_;
  int saves_ = 0;
};

/// Appends one CSV row per epoch to `path` ("epoch,loss,accuracy,val_loss,...", epochs from 1 as in
/// History::to_csv) and flushes it, so the file can be watched while training runs. Without
/// `append` the file is rewritten at the start of fit(); with it, rows go after the existing ones.
class CSVLogger : public Callback {
 public:
  explicit CSVLogger(std::string path, bool append = false) : path_(std::move(path)), append_(append) {}
  CSVLogger(const CSVLogger&) = delete;
  CSVLogger& operator=(const CSVLogger&) = delete;
  ~CSVLogger() override { close(); }

  void on_train_begin(nn::Module& net) override {
    (void)net;
    close();
    file_ = std::fopen(path_.c_str(), append_ ? "a" : "w");
    RECSYS_CHECK(file_ != nullptr, "CSVLogger: cannot open '", path_, "' for writing: ", std::strerror(errno));
    std::fseek(file_, 0, SEEK_END);
    header_written_ = std::ftell(file_) > 0;  // appending to a file that already has its header
    columns_.clear();
  }

  void on_epoch_end(int epoch, const Logs& logs, bool& stop) override {
    (void)stop;
    RECSYS_CHECK(file_ != nullptr, "CSVLogger: on_epoch_end before on_train_begin");
    if (columns_.empty()) {
      for (const auto& [k, v] : logs) columns_.push_back(k);
      if (!header_written_) {
        std::fputs("epoch", file_);
        for (const auto& k : columns_) std::fprintf(file_, ",%s", k.c_str());
        std::fputc('\n', file_);
        header_written_ = true;
      }
    }
    std::fprintf(file_, "%d", epoch + 1);
    for (const auto& k : columns_) {
      const auto v = find_log(logs, k);
      if (v) std::fprintf(file_, ",%.8g", *v);
      else std::fputc(',', file_);
    }
    std::fputc('\n', file_);
    RECSYS_CHECK(std::fflush(file_) == 0 && !std::ferror(file_), "CSVLogger: writing '", path_,
                 "' failed: ", std::strerror(errno));
  }

  void on_train_end() override { close(); }

 private:
  void close() {
    if (file_) std::fclose(file_);
    file_ = nullptr;
  }

  std::string path_;
  bool append_;
  std::FILE* file_ = nullptr;
  bool header_written_ = false;
  std::vector<std::string> columns_;
};

}  // namespace recsys::train
