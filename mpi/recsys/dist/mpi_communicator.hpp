// recsys/dist/mpi_communicator.hpp — MpiCommunicator: the Communicator over MPI (OpenMPI, MPICH), in an include root of its own that only the target recsys::mpi adds; no other header includes it.
#pragma once

#include <mpi.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "recsys/dist/communicator.hpp"
#include "recsys/dist/data_parallel.hpp"  // shard_of

namespace recsys::dist {

/// MpiCommunicator's settings.
struct MpiOptions {
  /// Sum in rank order (a reduce-scatter with MPI_Alltoallv, each chunk's owner adding the ranks'
  /// values in rank order, then MPI_Allgatherv): the same bits every run for a given number of ranks,
  /// at the bandwidth of a ring allreduce. Off: MPI_Allreduce, whose order the MPI library chooses
  /// (the same bits for 2 ranks, where a + b == b + a; not guaranteed beyond).
  bool rank_order_sums = true;
};

/// A Communicator over an MPI communicator (a duplicate of MPI_COMM_WORLD by default). The first
/// one made initializes MPI when the program has not (MPI_Init_thread, MPI_THREAD_FUNNELED: OpenMP
/// threads may run between collectives, which one thread calls), and the last one destroyed
/// finalizes what it initialized. MPI errors return to us (MPI_ERRORS_RETURN) and become
/// recsys::Error naming the collective, the rank and the buffer size.
///
///   auto world = std::make_shared<dist::MpiCommunicator>();
///   dist::WorldScope scope(world);  // train::Model::fit is data-parallel from here on
class MpiCommunicator final : public Communicator {
 public:
  explicit MpiCommunicator(MpiOptions options = {}) : MpiCommunicator(MPI_COMM_WORLD, options) {}
  MpiCommunicator(MPI_Comm comm, MpiOptions options) : options_(options) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
      int provided = 0;
      RECSYS_CHECK(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) == MPI_SUCCESS,
                   "mpi: MPI_Init_thread failed");
      owns_mpi() = true;
    }
    ++live();
    check(MPI_Comm_dup(comm, &comm_), "MPI_Comm_dup", 0);
    check(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler", 0);
    check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank", 0);
    check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size", 0);
  }
  ~MpiCommunicator() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Comm_free(&comm_);
    if (--live() == 0 && owns_mpi() && !finalized) MPI_Finalize();
  }
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "mpi"; }
  MPI_Comm handle() const { return comm_; }

  void allreduce_sum(std::span<float> data) override { reduce(data, MPI_FLOAT); }
  void allreduce_sum(std::span<double> data) override { reduce(data, MPI_DOUBLE); }

  void broadcast(std::span<std::byte> data, int root = 0) override {
    check_root("broadcast", root);
    for (std::size_t at = 0; at < data.size(); at += kMaxCount) {  // MPI counts are ints
      const int n = static_cast<int>(std::min(kMaxCount, data.size() - at));
      check(MPI_Bcast(data.data() + at, n, MPI_BYTE, root, comm_), "broadcast (MPI_Bcast)", data.size());
    }
  }
  void allgather(std::span<const std::byte> mine, std::span<std::byte> all) override {
    check_allgather(mine, all);
    RECSYS_CHECK(mine.size() <= kMaxCount, "mpi allgather: rank ", rank_, ": ", mine.size(), " bytes per rank is over ",
                 kMaxCount);
    check(MPI_Allgather(mine.data(), static_cast<int>(mine.size()), MPI_BYTE, all.data(), static_cast<int>(mine.size()),
                        MPI_BYTE, comm_),
          "allgather (MPI_Allgather)", mine.size());
  }
  void barrier() override { check(MPI_Barrier(comm_), "barrier (MPI_Barrier)", 0); }
  void abort(int code) override { MPI_Abort(comm_, code); }
  using Communicator::broadcast;

 private:
  static constexpr std::size_t kMaxCount = static_cast<std::size_t>(std::numeric_limits<int>::max());

  static bool& owns_mpi() {
    static bool owns = false;
    return owns;
  }
  static int& live() {
    static int n = 0;
    return n;
  }

  void check(int rc, const char* op, std::size_t bytes) const {
    if (rc == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, text, &len);
    RECSYS_FAIL("mpi ", op, ": rank ", rank_, " of ", size_, ", a buffer of ", bytes, " bytes: ", std::string(text, len));
  }

  template <class T>
  void reduce(std::span<T> data, MPI_Datatype type) {
    if (size_ == 1 || data.empty()) return;
    const std::size_t n = data.size();
    RECSYS_CHECK(n <= kMaxCount, "mpi allreduce_sum: rank ", rank_, ": ", n, " elements is over ", kMaxCount,
                 " (split the buffer)");
    if (!options_.rank_order_sums) {
      check(MPI_Allreduce(MPI_IN_PLACE, data.data(), static_cast<int>(n), type, MPI_SUM, comm_),
            "allreduce_sum (MPI_Allreduce)", data.size_bytes());
      return;
    }
    // Chunk r (shard_of's split of the n elements) is summed by rank r.
    counts_.resize(static_cast<std::size_t>(size_));
    displs_.resize(static_cast<std::size_t>(size_));
    for (int r = 0; r < size_; ++r) {
      const Shard c = shard_of(static_cast<std::int64_t>(n), r, size_);
      counts_[static_cast<std::size_t>(r)] = static_cast<int>(c.rows());
      displs_[static_cast<std::size_t>(r)] = static_cast<int>(c.begin);
    }
    const int mine = counts_[static_cast<std::size_t>(rank_)];
    std::vector<int> recv_counts(static_cast<std::size_t>(size_), mine), recv_displs(static_cast<std::size_t>(size_));
    for (int r = 0; r < size_; ++r) recv_displs[static_cast<std::size_t>(r)] = r * mine;
    std::vector<T>& parts = scratch<T>();
    parts.resize(static_cast<std::size_t>(mine) * static_cast<std::size_t>(size_));
    check(MPI_Alltoallv(data.data(), counts_.data(), displs_.data(), type, parts.data(), recv_counts.data(),
                        recv_displs.data(), type, comm_),
          "allreduce_sum (MPI_Alltoallv)", data.size_bytes());
    T* out = data.data() + displs_[static_cast<std::size_t>(rank_)];
    for (int i = 0; i < mine; ++i) out[i] = parts[static_cast<std::size_t>(i)];
    for (int r = 1; r < size_; ++r) {
      const T* part = parts.data() + static_cast<std::size_t>(r) * static_cast<std::size_t>(mine);
      for (int i = 0; i < mine; ++i) out[i] += part[i];
    }
    check(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, data.data(), counts_.data(), displs_.data(), type, comm_),
          "allreduce_sum (MPI_Allgatherv)", data.size_bytes());
  }

  template <class T>
  std::vector<T>& scratch() {
    if constexpr (std::is_same_v<T, float>)
      return scratch_f32_;
    else
      return scratch_f64_;
  }

  MpiOptions options_;
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  std::vector<int> counts_, displs_;
  std::vector<float> scratch_f32_;
  std::vector<double> scratch_f64_;
};

}  // namespace recsys::dist
