// recsys/data/loader.hpp — BatchLoader: mini-batches of rows from tensors, with seeded per-epoch shuffling.
#pragma once

#include <cstdint>
#include <cstring>
#include <iterator>
#include <numeric>
#include <optional>
#include <vector>

#include "recsys/core/error.hpp"
#include "recsys/core/random.hpp"
#include "recsys/core/tensor.hpp"

namespace recsys::data {

/// BatchLoader's options (Keras fit's batch_size/shuffle; PyTorch DataLoader's drop_last).
struct LoaderOptions {
  std::int64_t batch_size = 32;
  bool shuffle = false;
  bool drop_last = false;  ///< skip a last batch smaller than batch_size
  std::uint64_t seed = 0;  ///< seeds the shuffles: epoch e's order depends only on (seed, e)
};

/// Yields batches of rows taken together from several tensors of equal first dimension (e.g.
/// token ids (N, T) and labels (N, 1)). Each epoch starts with reset(), which draws a fresh
/// permutation from the loader's Generator when shuffle is on. Unshuffled batches are views of the
/// inputs (no copy); shuffled ones are gathered into new tensors.
///
///   BatchLoader loader({x, y}, {.batch_size = 32, .shuffle = true, .seed = 42});
///   for (int epoch = 0; epoch < 10; ++epoch)
///     for (const std::vector<Tensor>& batch : loader) step(batch[0], batch[1]);
class BatchLoader {
 public:
  BatchLoader(std::vector<Tensor> tensors, LoaderOptions options = {})
      : tensors_(std::move(tensors)), options_(options), gen_(options.seed) {
    RECSYS_CHECK(!tensors_.empty(), "BatchLoader: no tensors given");
    RECSYS_CHECK(options_.batch_size > 0, "BatchLoader: batch_size must be positive, got ", options_.batch_size);
    for (std::size_t i = 0; i < tensors_.size(); ++i) {
      const Tensor& t = tensors_[i];
      RECSYS_CHECK(t.defined() && t.dim() >= 1, "BatchLoader: tensor ", i, " needs at least one dimension");
      RECSYS_CHECK(t.device().is_cpu(), "BatchLoader: tensor ", i, " is on ", t.device(),
                   "; keep the data on the CPU and move each batch");
      RECSYS_CHECK(t.size(0) == tensors_[0].size(0), "BatchLoader: tensor ", i, " has ", t.size(0),
                   " rows, tensor 0 has ", tensors_[0].size(0));
      if (!t.is_contiguous()) tensors_[i] = t.contiguous();
    }
    order_.resize(static_cast<std::size_t>(size()));
    std::iota(order_.begin(), order_.end(), 0);
  }

  /// Number of samples.
  std::int64_t size() const { return tensors_[0].size(0); }
  /// Batches per epoch.
  std::int64_t num_batches() const {
    const std::int64_t b = options_.batch_size;
    return options_.drop_last ? size() / b : (size() + b - 1) / b;
  }

  /// Starts an epoch: the next batch is the first; reshuffles when shuffle is on.
  void reset() {
    started_ = true;
    next_ = 0;
    if (options_.shuffle) {
      std::iota(order_.begin(), order_.end(), 0);
      shuffle(order_.begin(), order_.end(), gen_);
    }
  }

  /// The next batch of this epoch, or nullopt after the last one.
  std::optional<std::vector<Tensor>> next() {
    if (!started_) reset();
    if (next_ >= num_batches()) return std::nullopt;
    const std::int64_t begin = next_ * options_.batch_size;
    const std::int64_t end = std::min(begin + options_.batch_size, size());
    ++next_;
    std::vector<Tensor> batch;
    for (const Tensor& t : tensors_) batch.push_back(options_.shuffle ? gather(t, begin, end) : t.slice(0, begin, end));
    return batch;
  }

  /// Sample indices of the current epoch, in batch order.
  const std::vector<std::int64_t>& order() const { return order_; }

  /// Input iterator over one epoch; begin() calls reset().
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = std::vector<Tensor>;
    using difference_type = std::ptrdiff_t;
    Iterator() = default;
    explicit Iterator(BatchLoader* loader) : loader_(loader) { ++*this; }
    const std::vector<Tensor>& operator*() const { return *current_; }
    Iterator& operator++() {
      current_ = loader_->next();
      if (!current_) loader_ = nullptr;
      return *this;
    }
    bool operator==(const Iterator& o) const { return loader_ == o.loader_; }

   private:
    BatchLoader* loader_ = nullptr;
    std::optional<std::vector<Tensor>> current_;
  };
  Iterator begin() {
    reset();
    return Iterator(this);
  }
  Iterator end() { return Iterator(); }

 private:
  // Rows order_[begin, end) of t, copied into a new contiguous tensor.
  Tensor gather(const Tensor& t, std::int64_t begin, std::int64_t end) const {
    Shape shape = t.shape();
    shape[0] = end - begin;
    Tensor out = Tensor::empty(shape, t.dtype());
    const std::size_t row_bytes = t.size(0) == 0 ? 0 : t.nbytes() / static_cast<std::size_t>(t.size(0));
    const auto* src = static_cast<const char*>(t.raw_data());
    auto* dst = static_cast<char*>(out.raw_data());
    for (std::int64_t i = begin; i < end; ++i)
      std::memcpy(dst + static_cast<std::size_t>(i - begin) * row_bytes,
                  src + static_cast<std::size_t>(order_[static_cast<std::size_t>(i)]) * row_bytes, row_bytes);
    return out;
  }

  std::vector<Tensor> tensors_;
  LoaderOptions options_;
  Generator gen_;
  std::vector<std::int64_t> order_;
  std::int64_t next_ = 0;
  bool started_ = false;
};

}  // namespace recsys::data
