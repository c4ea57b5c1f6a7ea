// recsys/dist/communicator.hpp — Communicator: the collectives data-parallel training needs (rank, size, allreduce, broadcast, allgather, barrier), the one-process default and the program-wide world().
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "recsys/core/error.hpp"

namespace recsys::dist {

/// A group of processes (or threads) that run the same program on different shards of the data,
/// in the shape of MPI's communicator / PyTorch's ProcessGroup. Every collective is called by
/// every rank, in the same order, with buffers of the same size; a rank that skips one leaves the
/// others waiting in it.
///
/// The sums are reproducible: every implementation adds the ranks' values in rank order
/// ((r0 + r1) + r2 + ...), so a run gives the same bits every time for a given number of ranks,
/// and every rank gets the same bits.
///
/// This header needs no MPI: SingleProcess is the default, dist/thread_group.hpp runs ranks as
/// threads of one process (for tests), and the MPI backend (recsys/dist/mpi_communicator.hpp,
/// target recsys::mpi) lives in an include root of its own.
class Communicator {
 public:
  virtual ~Communicator() = default;

  /// This process's index in the group, 0 .. size() - 1.
  virtual int rank() const = 0;
  /// The number of ranks.
  virtual int size() const = 0;
  /// "single", "threads", "mpi".
  virtual std::string backend() const = 0;

  /// data ← Σ over ranks of each rank's data, element-wise and in place, summed in rank order.
  virtual void allreduce_sum(std::span<float> data) = 0;
  virtual void allreduce_sum(std::span<double> data) = 0;
  /// Every rank's data ← root's data.
  virtual void broadcast(std::span<std::byte> data, int root = 0) = 0;
  /// all[r * mine.size() .. (r + 1) * mine.size()) ← rank r's mine; all.size() == size() * mine.size().
  virtual void allgather(std::span<const std::byte> mine, std::span<std::byte> all) = 0;
  /// Returns when every rank has called it.
  virtual void barrier() = 0;
  /// Ends every rank of the group with `code` (MPI_Abort), so that a rank that failed does not leave
  /// the others waiting in a collective. The one-process group has no one to end and returns.
  virtual void abort(int /*code*/) {}

  bool is_root() const { return rank() == 0; }

  /// broadcast() of a typed buffer.
  template <class T>
  void broadcast(std::span<T> data, int root = 0) {
    broadcast(std::as_writable_bytes(data), root);
  }
  /// allgather() of one value per rank: the result's element r is rank r's `mine`.
  template <class T>
  std::vector<T> allgather_value(const T& mine) {
    std::vector<T> all(static_cast<std::size_t>(size()));
    allgather(std::as_bytes(std::span<const T>(&mine, 1)), std::as_writable_bytes(std::span<T>(all)));
    return all;
  }

 protected:
  void check_root(const char* op, int root) const {
    RECSYS_CHECK(root >= 0 && root < size(), backend(), " ", op, ": root ", root, " is not a rank of a group of ", size());
  }
  void check_allgather(std::span<const std::byte> mine, std::span<std::byte> all) const {
    RECSYS_CHECK(all.size() == mine.size() * static_cast<std::size_t>(size()), backend(), " allgather: rank ", rank(),
                 " gives ", mine.size(), " bytes to ", size(), " ranks and receives into ", all.size(), " (needs ",
                 mine.size() * static_cast<std::size_t>(size()), ")");
  }
};

/// The group of one: every collective is the identity.
class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string backend() const override { return "single"; }
  void allreduce_sum(std::span<float>) override {}
  void allreduce_sum(std::span<double>) override {}
  void broadcast(std::span<std::byte>, int root = 0) override { check_root("broadcast", root); }
  void allgather(std::span<const std::byte> mine, std::span<std::byte> all) override {
    check_allgather(mine, all);
    std::copy(mine.begin(), mine.end(), all.begin());
  }
  void barrier() override {}
  using Communicator::broadcast;
};

namespace detail {
inline std::shared_ptr<Communicator>& world_slot() {
  static std::shared_ptr<Communicator> world = std::make_shared<SingleProcess>();
  return world;
}
}  // namespace detail

/// The program's group, which train::Model::fit uses unless its options name another: one process
/// until a program (the recsys command under mpirun --distributed) sets one with WorldScope.
inline Communicator& world() { return *detail::world_slot(); }

/// Makes `group` the world() for a scope and restores the previous one (usually SingleProcess) after it.
class WorldScope {
 public:
  explicit WorldScope(std::shared_ptr<Communicator> group) {
    RECSYS_CHECK(group != nullptr, "dist::WorldScope: the group is null");
    previous_ = std::exchange(detail::world_slot(), std::move(group));
  }
  ~WorldScope() { detail::world_slot() = std::move(previous_); }
  WorldScope(const WorldScope&) = delete;
  WorldScope& operator=(const WorldScope&) = delete;

 private:
  std::shared_ptr<Communicator> previous_;
};

}  // namespace recsys::dist
