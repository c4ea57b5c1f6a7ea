// recsys/train/model.hpp — Model: Keras's compile / fit / evaluate / predict around any network module.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <numeric>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "recsys/core/finite.hpp"
#include "recsys/core/interrupt.hpp"
#include "recsys/core/random.hpp"
#include "recsys/dist/communicator.hpp"
#include "recsys/dist/data_parallel.hpp"
#include "recsys/nn/module.hpp"
#include "recsys/nn/serialize.hpp"
#include "recsys/optim/adam.hpp"
#include "recsys/optim/sgd.hpp"
#include "recsys/train/callbacks.hpp"
#include "recsys/train/history.hpp"
#include "recsys/train/loss.hpp"
#include "recsys/train/metric.hpp"
#include "recsys/train/progress.hpp"

namespace recsys::train {

/// Builds the optimizer once compile() hands it the model's parameters, so the parameters are not
/// spelled twice: `model.compile(adam({.lr = 1e-3}), ...)`.
using OptimizerFactory = std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>)>;

/// Adam for compile().
inline OptimizerFactory adam(optim::AdamOptions options = {}) {
  return [options](std::vector<Tensor> p) { return std::make_unique<optim::Adam>(std::move(p), options); };
}
/// AdamW for compile().
inline OptimizerFactory adamw(optim::AdamWOptions options = {}) {
  return [options](std::vector<Tensor> p) { return std::make_unique<optim::AdamW>(std::move(p), options); };
}
/// SGD for compile().
inline OptimizerFactory sgd(optim::SgdOptions options = {}) {
  return [options](std::vector<Tensor> p) { return std::make_unique<optim::SGD>(std::move(p), options); };
}

/// Held-out data that fit() evaluates after every epoch.
struct ValidationData {
  Tensor x, y;
};

/// fit()'s settings, in Keras's order: `model.fit(x, y, {.epochs = 10, .batch_size = 32, .validation_split = 0.2})`.
struct FitOptions {
  int epochs = 1;
  std::int64_t batch_size = 32;
  bool shuffle = true;                  // a fresh order every epoch, drawn from `seed`
  std::uint64_t seed = 0;
  double validation_split = 0;          // the LAST fraction of (x, y), taken before shuffling (as Keras)
  ValidationData validation_data = {};  // or explicit held-out data (not both)
  std::vector<std::reference_wrapper<Callback>> callbacks = {};
  int verbose = 1;                      // 0 silent, 1 progress bar, 2 one line per epoch
  std::FILE* out = stdout;              // where progress goes
  /// Data-parallel training over this group (null: dist::world(), one process unless the program set
  /// one): every rank passes the same data and options, trains on its share of each batch and takes
  /// the whole batch's step; rank 0's initial weights are broadcast first, and only rank 0 shows progress.
  dist::Communicator* communicator = nullptr;
};

/// evaluate()'s settings.
struct EvaluateOptions {
  std::int64_t batch_size = 32;
  int verbose = 1;
  std::FILE* out = stdout;
};

/// predict()'s settings (quiet by default).
struct PredictOptions {
  std::int64_t batch_size = 32;
  int verbose = 0;
  std::FILE* out = stdout;
};

namespace detail {

/// A host buffer reused across steps for the rows of one batch, so a steady-state step does not allocate it.
class BatchStage {
 public:
  /// Copies rows index[0..n) of `src` (contiguous, on the host) into the buffer; returns those n rows.
  Tensor gather(const Tensor& src, const std::int64_t* index, std::int64_t n, std::int64_t capacity) {
    Shape shape = src.shape();
    shape[0] = capacity;
    if (!buffer_.defined() || buffer_.shape() != shape || buffer_.dtype() != src.dtype())
      buffer_ = Tensor::empty(shape, src.dtype());
    const std::size_t row_bytes = src.nbytes() / static_cast<std::size_t>(src.size(0));
    const auto* from = static_cast<const char*>(src.raw_data());
    auto* to = static_cast<char*>(buffer_.raw_data());
    for (std::int64_t i = 0; i < n; ++i)
      std::memcpy(to + static_cast<std::size_t>(i) * row_bytes, from + static_cast<std::size_t>(index[i]) * row_bytes,
                  row_bytes);
    buffer_.impl()->storage->bump_version();  // a graph still holding the old batch would now fail loudly
    return n == capacity ? buffer_ : buffer_.slice(0, 0, n);
  }

 private:
  Tensor buffer_;
};

/// Puts a module in eval mode for a scope and restores its previous mode.
class EvalModeGuard {
 public:
  explicit EvalModeGuard(nn::Module& m) : m_(m), was_training_(m.is_training()) { m_.eval(); }
  ~EvalModeGuard() { m_.train(was_training_); }
  EvalModeGuard(const EvalModeGuard&) = delete;
  EvalModeGuard& operator=(const EvalModeGuard&) = delete;

 private:
  nn::Module& m_;
  bool was_training_;
};

}  // namespace detail

/// A network with what it takes to train it — Keras's Model:
///
///   train::Model model(nn::Sequential(nn::Embedding(1000, 128), ..., nn::Dense(128, 1, nn::Activation::sigmoid)));
///   model.compile(train::adam({.lr = 1e-3}), train::Loss::binary_crossentropy, {train::Metric::accuracy});
///   History h = model.fit(x, y, {.epochs = 10, .batch_size = 32, .validation_split = 0.2});
///
/// Built from a temporary, the Model owns the network (Net is the network's type): the usual case,
/// and nothing can dangle. Built from a named network, it refers to it (Net is a reference type), so
/// the same network can also be trained by a plain loop or used elsewhere; it must outlive the Model.
/// Data (x, y) stay on the host, as NumPy arrays do for Keras; each batch moves to the network's device.
template <class Net>
class Model {
 public:
  using Network = std::remove_reference_t<Net>;
  static_assert(std::derived_from<Network, nn::Module>, "Model: the network must be an nn::Module");

  template <class N>
    requires std::constructible_from<Net, N&&>
  explicit Model(N&& net) : net_(std::forward<N>(net)) {}

  /// The network itself.
  Network& net() { return net_; }
  /// The network's forward pass (with autograd, in its current train/eval mode).
  Tensor operator()(const Tensor& x) { return net_(x); }
  std::vector<Tensor> parameters() { return net_.parameters(); }
  NamedTensors named_parameters() { return net_.named_parameters(); }

  /// Sets the optimizer (made from this model's parameters), the loss and the metrics to report.
  void compile(const OptimizerFactory& make_optimizer, LossSpec loss, std::vector<Metric> metrics = {}) {
    RECSYS_CHECK(static_cast<bool>(make_optimizer), "compile: the optimizer factory is empty");
    compile(make_optimizer(net_.parameters()), std::move(loss), std::move(metrics));
  }
  /// The same with an optimizer built by the caller; it must optimize this model's parameters.
  void compile(std::unique_ptr<optim::Optimizer> optimizer, LossSpec loss, std::vector<Metric> metrics = {}) {
    RECSYS_CHECK(optimizer != nullptr, "compile: the optimizer is null");
    RECSYS_CHECK(static_cast<bool>(loss.fn), "compile: the loss '", loss.name, "' has no function");
    const std::vector<Tensor> mine = net_.parameters();
    const std::vector<Tensor>& theirs = optimizer->params();
    for (std::size_t i = 0; i < theirs.size(); ++i) {
      const bool found = std::any_of(mine.begin(), mine.end(), [&](const Tensor& p) { return p.is_same(theirs[i]); });
      RECSYS_CHECK(found, "compile: the optimizer's parameter ", i, " (shape ", theirs[i].shape(),
                   ") is not a parameter of this model (build the optimizer from model.parameters(), after any to())");
    }
    for (std::size_t i = 0; i < metrics.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        RECSYS_CHECK(metrics[i] != metrics[j], "compile: metric '", metric_name(metrics[i]), "' is listed twice");
    optimizer_ = std::move(optimizer);
    loss_ = std::make_unique<LossSpec>(std::move(loss));
    metrics_ = std::move(metrics);
  }

  bool compiled() const { return optimizer_ != nullptr; }
  /// The optimizer set by compile() (to change its learning rate, say).
  optim::Optimizer& optimizer() {
    require_compiled("optimizer");
    return *optimizer_;
  }

  /// Trains for options.epochs epochs of mini-batches and returns the per-epoch logs: "loss", each
  /// metric, and "val_"-prefixed ones when there is validation data.
  History fit(const Tensor& x, const Tensor& y, const FitOptions& options = {}) {
    require_compiled("fit");
    check_data("fit", x, y);
    RECSYS_CHECK(options.epochs > 0, "fit: epochs must be positive, got ", options.epochs);
    RECSYS_CHECK(options.batch_size > 0, "fit: batch_size must be positive, got ", options.batch_size);
    RECSYS_CHECK(options.validation_split >= 0 && options.validation_split < 1,
                 "fit: validation_split must be in [0, 1), got ", options.validation_split);
    RECSYS_CHECK(options.validation_split == 0 || !options.validation_data.x.defined(),
                 "fit: pass validation_split or validation_data, not both");

    Tensor train_x = x.contiguous(), train_y = prepare_targets(y);
    const ValidationData val = hold_out(options, train_x, train_y);
    dist::Communicator& comm = options.communicator ? *options.communicator : dist::world();
    const int verbose = comm.is_root() ? options.verbose : 0;
    std::optional<dist::DataParallel> parallel;
    if (comm.size() > 1) {
      check_same_run(comm, train_x.size(0), options);
      dist::broadcast_tensors(comm, net_.parameters());
      parallel.emplace(comm, optimizer_->params());
    }
    Generator gen(options.seed);
    History history;
    for (Callback& cb : options.callbacks) cb.on_train_begin(net_);
    for (int epoch = 0; epoch < options.epochs; ++epoch) {
      if (verbose > 0) std::fprintf(options.out, "Epoch %d/%d\n", epoch + 1, options.epochs);
      ProgressBar bar((train_x.size(0) + options.batch_size - 1) / options.batch_size, verbose, options.out);
      Logs logs = train_epoch(train_x, train_y, options, verbose, gen, bar, epoch, parallel ? &*parallel : nullptr);
      if (val.x.defined())
        for (const auto& [k, v] : run_evaluation(val.x, val.y, options.batch_size, 0, options.out))
          logs.emplace_back("val_" + k, v);
      bar.finish(logs);
      for (const auto& [k, v] : logs) history.record(k, v);
      bool stop = false;
      for (Callback& cb : options.callbacks) cb.on_epoch_end(epoch, logs, stop);
      if (stop) break;
    }
    for (Callback& cb : options.callbacks) cb.on_train_end();
    return history;
  }

  /// Loss and metrics over (x, y), in eval mode without gradients: [("loss", ...), ("accuracy", ...)].
  Logs evaluate(const Tensor& x, const Tensor& y, const EvaluateOptions& options = {}) {
    require_compiled("evaluate");
    check_data("evaluate", x, y);
    RECSYS_CHECK(options.batch_size > 0, "evaluate: batch_size must be positive, got ", options.batch_size);
    return run_evaluation(x.contiguous(), prepare_targets(y), options.batch_size, options.verbose, options.out);
  }

  /// The network's outputs for every row of x, batch by batch in eval mode without gradients, as
  /// one host tensor (N, ...). Needs no compile().
  Tensor predict(const Tensor& x, const PredictOptions& options = {}) {
    check_inputs("predict", x);
    RECSYS_CHECK(options.batch_size > 0, "predict: batch_size must be positive, got ", options.batch_size);
    NoGradGuard no_grad;
    detail::EvalModeGuard eval_mode(net_);
    const std::int64_t n = x.size(0), batch = options.batch_size, steps = (n + batch - 1) / batch;
    const Device dev = device();
    ProgressBar bar(steps, options.verbose, options.out);
    Tensor out;
    for (std::int64_t step = 0; step < steps; ++step) {
      const std::int64_t begin = step * batch, end = std::min(n, begin + batch);
      const Tensor prediction = net_(x.slice(0, begin, end).to(dev)).cpu();
      if (!out.defined()) {
        Shape shape = prediction.shape();
        RECSYS_CHECK(shape.size() > 0 && shape[0] == end - begin, "predict: the network returned shape ", shape,
                     " for a batch of ", end - begin, " rows");
        shape[0] = n;
        out = Tensor::empty(shape, prediction.dtype());
      }
      out.slice(0, begin, end).copy_(prediction);
      bar.update(step + 1, {});
    }
    bar.finish({});
    return out;
  }

  /// nn::save_weights of the network.
  void save_weights(const std::string& path, const io::Metadata& metadata = {}) { nn::save_weights(net_, path, metadata); }
  /// nn::load_weights into the network (all or nothing).
  io::LoadResult load_weights(const std::string& path, const io::LoadOptions& options = {}) {
    return nn::load_weights(net_, path, options);
  }

  /// A table of the network's layers and parameter counts, like Keras's model.summary().
  std::string summary() {
    std::ostringstream os;
    char line[128];
    std::snprintf(line, sizeof line, "%-8s %-20s %12s\n", "Layer", "Type", "Params");
    os << "Model: " << net_.name() << '\n' << line << std::string(42, '-') << '\n';
    net_.visit_children([&](const std::string& name, nn::Module& child) {
      std::snprintf(line, sizeof line, "%-8s %-20s %12lld\n", name.c_str(), child.name().c_str(),
                    static_cast<long long>(child.num_parameters()));
      os << line;
    });
    os << std::string(42, '-') << "\nTotal params: " << net_.num_parameters() << '\n';
    return os.str();
  }

 private:
  void require_compiled(const char* what) const {
    RECSYS_CHECK(compiled(), what, ": the model is not compiled; call compile(optimizer, loss, metrics) first");
  }

  static void check_inputs(const std::string& what, const Tensor& x) {
    RECSYS_CHECK(x.defined(), what, ": x is an undefined tensor");
    RECSYS_CHECK(x.dim() >= 1 && x.size(0) > 0, what, ": x needs at least one row, got shape ", x.shape());
    RECSYS_CHECK(x.device().is_cpu(), what, ": x is on ", x.device(),
                 "; keep the data on the host (each batch is moved to the network's device)");
  }

  static void check_data(const std::string& what, const Tensor& x, const Tensor& y) {
    check_inputs(what, x);
    RECSYS_CHECK(y.defined(), what, ": y is an undefined tensor");
    RECSYS_CHECK(y.dim() >= 1 && y.size(0) == x.size(0), what, ": x has ", x.size(0), " rows but y has shape ",
                 y.shape());
    RECSYS_CHECK(y.device().is_cpu(), what, ": y is on ", y.device(), "; keep the data on the host");
  }

  /// Where the network's parameters live (the host for a network without parameters).
  Device device() {
    const std::vector<Tensor> p = net_.parameters();
    return p.empty() ? Device::cpu() : p.front().device();
  }

  /// Targets converted once, up front: values to the parameters' dtype, class ids to int64 (N).
  Tensor prepare_targets(const Tensor& y) {
    if (loss_->targets == TargetKind::class_ids) {
      RECSYS_CHECK(y.numel() == y.size(0), loss_->name, ": needs one class id per sample, got targets of shape ",
                   y.shape());
      return y.reshape({y.size(0)}).to(DType::int64).contiguous();
    }
    const std::vector<Tensor> p = net_.parameters();
    DType dtype = y.is_floating_point() ? y.dtype() : DType::float32;
    if (!p.empty()) dtype = p.front().dtype();
    return y.to(dtype).contiguous();
  }

  /// Value targets take the prediction's shape when only the layout differs ((N) against (N, 1)).
  Tensor shaped_target(const Tensor& target, const Tensor& prediction) const {
    if (loss_->targets == TargetKind::values && target.shape() != prediction.shape() &&
        target.numel() == prediction.numel())
      return target.reshape(prediction.shape());
    return target;
  }

  Tensor compute_loss(const char* what, const Tensor& prediction, const Tensor& target) const {
    Tensor loss = loss_->fn(prediction, target);
    RECSYS_CHECK(loss.defined() && loss.numel() == 1, what, ": the loss '", loss_->name,
                 "' must return a scalar, got shape ", loss.defined() ? loss.shape() : Shape{});
    return loss;
  }

  /// The validation data of a fit(): given explicitly, or the last validation_split of (x, y), which
  /// then shrink to the rows before it (Keras takes them before shuffling, so they are always the same rows).
  ValidationData hold_out(const FitOptions& options, Tensor& x, Tensor& y) {
    if (options.validation_data.x.defined()) {
      check_data("fit: validation_data", options.validation_data.x, options.validation_data.y);
      return {options.validation_data.x, prepare_targets(options.validation_data.y)};
    }
    if (options.validation_split == 0) return {};
    const std::int64_t n = x.size(0);
    const auto split = static_cast<std::int64_t>(static_cast<double>(n) * (1.0 - options.validation_split));
    RECSYS_CHECK(split > 0 && split < n, "fit: validation_split ", options.validation_split, " of ", n,
                 " samples leaves ", split, " for training and ", n - split, " for validation; both need at least one");
    ValidationData val{x.slice(0, split, n), y.slice(0, split, n)};
    x = x.slice(0, 0, split);
    y = y.slice(0, 0, split);
    return val;
  }

  /// Data-parallel fits need the same run on every rank; a difference would hang a collective or
  /// train a different model, so it is an error on every rank, before the first step.
  void check_same_run(dist::Communicator& comm, std::int64_t rows, const FitOptions& options) {
    struct Run {
      std::int64_t rows, batch, epochs, params;
      std::uint64_t seed;
      std::int64_t shuffle;
    };
    const Run mine{rows, options.batch_size, options.epochs, static_cast<std::int64_t>(optimizer_->params().size()),
                   options.seed, options.shuffle ? 1 : 0};
    const std::vector<Run> all = comm.allgather_value(mine);
    for (int r = 0; r < comm.size(); ++r) {
      const Run& o = all[static_cast<std::size_t>(r)];
      RECSYS_CHECK(o.rows == mine.rows && o.batch == mine.batch && o.epochs == mine.epochs && o.params == mine.params &&
                       o.seed == mine.seed && o.shuffle == mine.shuffle,
                   "fit: rank ", comm.rank(), " has ", mine.rows, " training rows, batch ", mine.batch, ", ", mine.epochs,
                   " epochs, ", mine.params, " parameters, seed ", mine.seed, "; rank ", r, " has ", o.rows, ", ", o.batch,
                   ", ", o.epochs, ", ", o.params, ", ", o.seed, " (every rank of a data-parallel fit needs the same data "
                   "and options)");
    }
    RECSYS_CHECK(options.batch_size >= comm.size() && rows >= comm.size(), "fit: ", comm.size(),
                 " ranks need a batch_size and training rows of at least ", comm.size(), ", got batch_size ",
                 options.batch_size, " and ", rows, " rows");
  }

  /// One pass over (x, y) in a fresh seeded order: per batch zero_grad, forward, loss, backward, step.
  /// Data-parallel, each rank takes its shard of every batch (the same seeded order on every rank);
  /// the loss and predictions of the whole batch are summed over the ranks for the logs, and the
  /// gradients averaged before the step.
  Logs train_epoch(const Tensor& x, const Tensor& y, const FitOptions& options, int verbose, Generator& gen,
                   ProgressBar& bar, int epoch, dist::DataParallel* parallel) {
    const std::int64_t n = x.size(0), batch = options.batch_size, steps = (n + batch - 1) / batch;
    const Device dev = device();
    const int ranks = parallel ? parallel->communicator().size() : 1;
    const int rank = parallel ? parallel->communicator().rank() : 0;
    order_.resize(static_cast<std::size_t>(n));
    std::iota(order_.begin(), order_.end(), std::int64_t{0});
    if (options.shuffle) shuffle(order_.begin(), order_.end(), gen);
    net_.train();
    MetricTracker tracker(metrics_, loss_->from_logits);
    tracker.reset(n);
    double loss_sum = 0;
    for (std::int64_t step = 0; step < steps; ++step) {
      const std::int64_t begin = step * batch, rows = std::min(batch, n - begin);
      const std::int64_t* index = order_.data() + begin;
      const dist::Shard mine = dist::shard_of(rows, rank, ranks);
      const std::int64_t capacity = (batch + ranks - 1) / ranks;
      const Tensor yb = y_stage_.gather(y, index, rows, batch);
      optimizer_->zero_grad();
      Tensor prediction, target, loss;
      double loss_value = 0;
      if (mine.rows() > 0) {
        const Tensor xb = x_stage_.gather(x, index + mine.begin, mine.rows(), capacity).to(dev);
        prediction = net_(xb);
        target = shaped_target(yb.slice(0, mine.begin, mine.end).to(prediction.device()), prediction);
        loss = compute_loss("fit", prediction, target);
        loss_value = loss.item<double>();
      }
      if (parallel) {  // the whole batch's loss (and predictions, for the metrics) on every rank
        loss_value = gather_batch(*parallel, mine, rows, loss_value, prediction);
        prediction = batch_prediction_;
        target = prediction.defined() ? shaped_target(yb, prediction) : Tensor();
      }
      check_finite_loss(loss_value, "fit", epoch + 1, step + 1, optimizer_->lr());  // before the step spreads it
      check_interrupt(epoch + 1, step + 1);
      if (loss.defined()) loss.backward();
      if (parallel) parallel->average_gradients(mine.rows(), rows);
      optimizer_->step();
      loss_sum += loss_value * static_cast<double>(rows);
      if (prediction.defined()) tracker.update(prediction.detach(), target);
      if (verbose == 1) {
        Logs running{{"loss", loss_sum / static_cast<double>(begin + rows)}};
        tracker.append_to(running, "", /*cheap_only=*/true);
        bar.update(step + 1, running);
      }
    }
    Logs logs{{"loss", loss_sum / static_cast<double>(n)}};
    tracker.append_to(logs);
    return logs;
  }

  /// Sums over the ranks the batch's mean loss (each rank's weighted by its share of the rows) and,
  /// when there are metrics to track, the predictions of every row (each rank fills its own rows of
  /// a zeroed buffer, so the sum is exact); the latter land in batch_prediction_. Returns the loss.
  double gather_batch(dist::DataParallel& parallel, const dist::Shard& mine, std::int64_t rows, double local_loss,
                      const Tensor& prediction) {
    batch_prediction_ = Tensor();
    if (prediction.defined() && !metrics_.empty()) {  // the first batch has rows on every rank (checked in fit)
      prediction_row_shape_ = prediction.shape();
      prediction_dtype_ = prediction.dtype();
    }
    const bool with_predictions = !metrics_.empty() && !prediction_row_shape_.empty();
    const std::int64_t width = with_predictions ? prediction_row_shape_.numel() / prediction_row_shape_[0] : 0;
    exchange_.assign(static_cast<std::size_t>(1 + rows * width), 0.0);
    exchange_[0] = local_loss * static_cast<double>(mine.rows()) / static_cast<double>(rows);
    if (with_predictions && prediction.defined()) {
      const Tensor p = prediction.detach().cpu().to(DType::float64).contiguous();
      std::memcpy(exchange_.data() + 1 + mine.begin * width, p.template data<double>(),
                  static_cast<std::size_t>(mine.rows() * width) * sizeof(double));
    }
    parallel.communicator().allreduce_sum(std::span<double>(exchange_));
    if (with_predictions) {
      Shape shape = prediction_row_shape_;
      shape[0] = rows;
      Tensor all = Tensor::empty(shape, DType::float64);
      std::memcpy(all.raw_data(), exchange_.data() + 1, static_cast<std::size_t>(rows * width) * sizeof(double));
      batch_prediction_ = all.to(prediction_dtype_);
    }
    return exchange_[0];
  }

  Logs run_evaluation(const Tensor& x, const Tensor& y, std::int64_t batch, int verbose, std::FILE* out) {
    NoGradGuard no_grad;
    detail::EvalModeGuard eval_mode(net_);
    const std::int64_t n = x.size(0), steps = (n + batch - 1) / batch;
    const Device dev = device();
    MetricTracker tracker(metrics_, loss_->from_logits);
    tracker.reset(n);
    ProgressBar bar(steps, verbose, out);
    double loss_sum = 0;
    for (std::int64_t step = 0; step < steps; ++step) {
      const std::int64_t begin = step * batch, end = std::min(n, begin + batch);
      const Tensor prediction = net_(x.slice(0, begin, end).to(dev));
      const Tensor target = shaped_target(y.slice(0, begin, end).to(prediction.device()), prediction);
      loss_sum += compute_loss("evaluate", prediction, target).template item<double>() * static_cast<double>(end - begin);
      tracker.update(prediction, target);
      if (verbose == 1) {
        Logs running{{"loss", loss_sum / static_cast<double>(end)}};
        tracker.append_to(running, "", /*cheap_only=*/true);
        bar.update(step + 1, running);
      }
    }
    Logs logs{{"loss", loss_sum / static_cast<double>(n)}};
    tracker.append_to(logs);
    bar.finish(logs);
    return logs;
  }

  Net net_;
  std::unique_ptr<optim::Optimizer> optimizer_;
  std::unique_ptr<LossSpec> loss_;  // a pointer because LossSpec has no empty state
  std::vector<Metric> metrics_;
  std::vector<std::int64_t> order_;
  detail::BatchStage x_stage_, y_stage_;
  // Data-parallel fits: the exchange buffer of gather_batch() and the whole batch's predictions.
  std::vector<double> exchange_;
  Tensor batch_prediction_;
  Shape prediction_row_shape_;
  DType prediction_dtype_ = DType::float32;
};

/// Model(nn::Sequential(...)) owns the network; Model(net) with a named network refers to it.
template <class N>
Model(N&&) -> Model<N>;

}  // namespace recsys::train
