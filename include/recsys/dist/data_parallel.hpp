// recsys/dist/data_parallel.hpp — DataParallel: rank 0's weights on every rank, each rank's share of a batch, and the gradients of the whole batch on every rank before the optimizer step.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "recsys/core/tensor.hpp"
#include "recsys/dist/communicator.hpp"

namespace recsys::dist {

/// The rows [begin, end) of a global batch that one rank takes.
struct Shard {
  std::int64_t begin = 0, end = 0;
  std::int64_t rows() const { return end - begin; }
};

/// Rank `rank`'s contiguous share of a batch of `rows` rows split over `size` ranks: sizes differ by
/// at most one, and the shares, in rank order, are the batch in its own order.
inline Shard shard_of(std::int64_t rows, int rank, int size) {
  RECSYS_CHECK(size > 0 && rank >= 0 && rank < size, "dist::shard_of: rank ", rank, " of ", size);
  RECSYS_CHECK(rows >= 0, "dist::shard_of: rows must not be negative, got ", rows);
  return {rows * rank / size, rows * (rank + 1) / size};
}

/// Copies root's values of `tensors` (host tensors) into every rank's, in one broadcast.
inline void broadcast_tensors(Communicator& comm, const std::vector<Tensor>& tensors, int root = 0) {
  if (comm.size() == 1) return;
  std::size_t bytes = 0;
  for (const Tensor& t : tensors) {
    RECSYS_CHECK(t.device().is_cpu(), "dist::broadcast_tensors: a tensor of shape ", t.shape(), " is on ", t.device(),
                 "; the ", comm.backend(), " backend moves host memory");
    bytes += t.nbytes();
  }
  std::vector<std::byte> buffer(bytes);
  std::size_t at = 0;
  for (const Tensor& t : tensors) {
    const Tensor c = t.contiguous();
    std::memcpy(buffer.data() + at, c.raw_data(), c.nbytes());
    at += c.nbytes();
  }
  comm.broadcast(std::span<std::byte>(buffer), root);
  at = 0;
  for (const Tensor& t : tensors) {
    if (t.is_contiguous()) {
      std::memcpy(t.raw_data(), buffer.data() + at, t.nbytes());
      t.impl()->storage->bump_version();
    } else {
      Tensor c = Tensor::empty(t.shape(), t.dtype());
      std::memcpy(c.raw_data(), buffer.data() + at, c.nbytes());
      t.copy_(c);
    }
    at += t.nbytes();
  }
}

/// Data-parallel training's gradient exchange, in the shape of PyTorch's DistributedDataParallel:
/// every rank holds the same parameters, runs forward and backward on its shard of the global
/// batch, and average_gradients() leaves on every rank the gradient of the global batch's mean
/// loss, so that every rank's optimizer takes the same step as one process on the whole batch.
///
///   dist::DataParallel dp(comm, model.parameters());
///   dp.broadcast_parameters();                        // rank 0's initial weights everywhere
///   for (each global batch of B rows) {
///     dist::Shard s = dist::shard_of(B, comm.rank(), comm.size());
///     optimizer.zero_grad(); loss(rows s of the batch).backward();
///     dp.average_gradients(s.rows(), B);
///     optimizer.step();
///   }
///
/// The gradients travel in one flat buffer per dtype (one allreduce each per step), summed in rank
/// order: a run is bitwise reproducible for a given number of ranks, and equals the one-process run
/// on the same global batches up to float summation order (the batch's sum is split into per-rank
/// partial sums).
class DataParallel {
 public:
  DataParallel(Communicator& comm, std::vector<Tensor> parameters) : comm_(comm), params_(std::move(parameters)) {
    for (const Tensor& p : params_) {
      RECSYS_CHECK(p.defined(), "dist::DataParallel: a parameter is an undefined tensor");
      RECSYS_CHECK(p.device().is_cpu(), "dist::DataParallel: a parameter of shape ", p.shape(), " is on ", p.device(),
                   "; the ", comm_.backend(), " backend averages host gradients (GPU training needs the NCCL backend)");
      RECSYS_CHECK(p.dtype() == DType::float32 || p.dtype() == DType::float64,
                   "dist::DataParallel: parameters must be float32 or float64, got ", p.dtype(), " for shape ", p.shape());
    }
  }

  Communicator& communicator() { return comm_; }
  const std::vector<Tensor>& parameters() const { return params_; }

  /// Rank 0's parameter values on every rank (call it before the first step).
  void broadcast_parameters() { broadcast_tensors(comm_, params_, 0); }

  /// Every parameter's gradient ← Σ_r (local_rows_r / global_rows) · gradient_r: the gradient of the
  /// mean loss over the global batch, when each rank's loss is the mean over its local_rows rows. A
  /// rank with no rows (or a parameter that got no gradient) contributes zeros; every parameter has
  /// a gradient afterwards.
  void average_gradients(std::int64_t local_rows, std::int64_t global_rows) {
    RECSYS_CHECK(global_rows > 0 && local_rows >= 0 && local_rows <= global_rows,
                 "dist::DataParallel: rank ", comm_.rank(), " has ", local_rows, " of ", global_rows, " rows");
    const double weight = static_cast<double>(local_rows) / static_cast<double>(global_rows);
    exchange<float>(DType::float32, weight, f32_);
    exchange<double>(DType::float64, weight, f64_);
  }

 private:
  template <class T>
  void exchange(DType dtype, double weight, std::vector<T>& flat) {
    std::size_t n = 0;
    for (const Tensor& p : params_)
      if (p.dtype() == dtype) n += static_cast<std::size_t>(p.numel());
    if (n == 0) return;
    flat.assign(n, T(0));
    const T w = static_cast<T>(weight);
    std::size_t at = 0;
    for (const Tensor& p : params_) {
      if (p.dtype() != dtype) continue;
      const std::size_t count = static_cast<std::size_t>(p.numel());
      if (const Tensor g = p.grad(); g.defined() && weight != 0) {
        const Tensor c = g.contiguous();
        const T* src = c.template data<T>();
        for (std::size_t i = 0; i < count; ++i) flat[at + i] = src[i] * w;
      }
      at += count;
    }
    comm_.allreduce_sum(std::span<T>(flat));
    at = 0;
    for (const Tensor& p : params_) {
      if (p.dtype() != dtype) continue;
      Tensor g = p.grad();
      if (!g.defined() || !g.is_contiguous()) {
        g = Tensor::empty(p.shape(), p.dtype());
        p.set_grad(g);
      }
      std::memcpy(g.raw_data(), flat.data() + at, g.nbytes());
      g.impl()->storage->bump_version();
      at += static_cast<std::size_t>(p.numel());
    }
  }

  Communicator& comm_;
  std::vector<Tensor> params_;
  std::vector<float> f32_;
  std::vector<double> f64_;
};

}  // namespace recsys::dist
