// recsys/dist/thread_group.hpp — ThreadGroup: N ranks as N threads of one process, with the same collectives (and the same sum order) as the MPI backend; for tests and for trying data-parallel code without mpirun.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "recsys/dist/communicator.hpp"

namespace recsys::dist {

/// N ranks that share memory. run(f) calls f(communicator) on N threads, one per rank, and returns
/// when all are done (rethrowing the lowest failed rank's error). When a rank fails, the others get a
/// recsys::Error at their next collective instead of waiting for it forever.
///
///   dist::ThreadGroup group(2);
///   group.run([&](dist::Communicator& comm) { model_for(comm.rank()).fit(x, y, {.communicator = &comm}); });
class ThreadGroup {
 public:
  explicit ThreadGroup(int size) : size_(size), slots_(static_cast<std::size_t>(std::max(size, 0))) {
    RECSYS_CHECK(size > 0, "dist::ThreadGroup: size must be positive, got ", size);
    for (int r = 0; r < size; ++r) ranks_.push_back(std::make_unique<Rank>(*this, r));
  }

  int size() const { return size_; }
  /// Rank r's communicator (to be used from one thread at a time).
  Communicator& rank(int r) {
    RECSYS_CHECK(r >= 0 && r < size_, "dist::ThreadGroup: rank ", r, " is not in a group of ", size_);
    return *ranks_[static_cast<std::size_t>(r)];
  }

  /// Runs f(rank r's communicator) on one thread per rank and waits for all of them.
  void run(const std::function<void(Communicator&)>& f) {
    {
      std::lock_guard lock(mutex_);
      failed_ = false;
      failed_rank_ = -1;
      arrived_ = 0;
    }
    std::vector<std::exception_ptr> errors(static_cast<std::size_t>(size_));
    std::vector<char> echo(static_cast<std::size_t>(size_), 0);
    std::vector<std::thread> threads;
    for (int r = 0; r < size_; ++r)
      threads.emplace_back([&, r] {
        try {
          f(*ranks_[static_cast<std::size_t>(r)]);
        } catch (const PeerFailed&) {
          errors[static_cast<std::size_t>(r)] = std::current_exception();
          echo[static_cast<std::size_t>(r)] = 1;
          fail(r);
        } catch (...) {
          errors[static_cast<std::size_t>(r)] = std::current_exception();
          fail(r);
        }
      });
    for (std::thread& t : threads) t.join();
    // The lowest rank's own error is the one reported (the same one whichever thread ran first); the
    // others' "rank r failed" are its echo in the ranks that waited.
    for (int pass = 0; pass < 2; ++pass)
      for (int r = 0; r < size_; ++r)
        if (errors[static_cast<std::size_t>(r)] && (pass == 1 || !echo[static_cast<std::size_t>(r)]))
          std::rethrow_exception(errors[static_cast<std::size_t>(r)]);
  }

 private:
  /// What a rank waiting in a collective throws when another rank failed.
  struct PeerFailed : Error {
    using Error::Error;
  };

  struct Slot {
    const void* data = nullptr;
    std::size_t bytes = 0;
  };

  class Rank final : public Communicator {
   public:
    Rank(ThreadGroup& group, int rank) : group_(group), rank_(rank) {}
    int rank() const override { return rank_; }
    int size() const override { return group_.size_; }
    std::string backend() const override { return "threads"; }
    void allreduce_sum(std::span<float> data) override { reduce(data); }
    void allreduce_sum(std::span<double> data) override { reduce(data); }
    void broadcast(std::span<std::byte> data, int root = 0) override {
      check_root("broadcast", root);
      post("broadcast", data.data(), data.size_bytes());
      if (rank_ != root) std::memcpy(data.data(), group_.slots_[static_cast<std::size_t>(root)].data, data.size());
      group_.wait("broadcast", rank_);  // root's buffer is read until here
    }
    void allgather(std::span<const std::byte> mine, std::span<std::byte> all) override {
      check_allgather(mine, all);
      post("allgather", mine.data(), mine.size_bytes());
      for (int r = 0; r < size(); ++r)
        std::memcpy(all.data() + static_cast<std::size_t>(r) * mine.size(), group_.slots_[static_cast<std::size_t>(r)].data,
                    mine.size());
      group_.wait("allgather", rank_);
    }
    void barrier() override { group_.wait("barrier", rank_); }
    using Communicator::broadcast;

   private:
    /// Publishes this rank's buffer, waits for every rank's, and checks that they all have the same size.
    void post(const char* op, const void* data, std::size_t bytes) {
      group_.slots_[static_cast<std::size_t>(rank_)] = {data, bytes};
      group_.wait(op, rank_);
      for (int r = 0; r < size(); ++r)
        RECSYS_CHECK(group_.slots_[static_cast<std::size_t>(r)].bytes == bytes, "threads ", op, ": rank ", rank_,
                     " has ", bytes, " bytes and rank ", r, " has ", group_.slots_[static_cast<std::size_t>(r)].bytes);
    }
    /// Every rank sums all buffers itself in rank order (the same bits everywhere), then all write.
    template <class T>
    void reduce(std::span<T> data) {
      post("allreduce_sum", data.data(), data.size_bytes());
      sum_.resize(data.size() * sizeof(T));
      T* sum = reinterpret_cast<T*>(sum_.data());
      const T* first = static_cast<const T*>(group_.slots_[0].data);
      std::copy(first, first + data.size(), sum);
      for (int r = 1; r < size(); ++r) {
        const T* other = static_cast<const T*>(group_.slots_[static_cast<std::size_t>(r)].data);
        for (std::size_t i = 0; i < data.size(); ++i) sum[i] += other[i];
      }
      group_.wait("allreduce_sum", rank_);  // nobody writes a buffer that another rank is still reading
      std::copy(sum, sum + data.size(), data.data());
    }

    ThreadGroup& group_;
    int rank_;
    std::vector<std::byte> sum_;
  };

  /// A reusable barrier that a failed rank breaks: the ranks waiting in it (or arriving later) throw.
  void wait(const char* op, int rank) {
    std::unique_lock lock(mutex_);
    if (failed_) throw PeerFailed(::recsys::detail::str_cat("threads ", op, ": rank ", failed_rank_, " failed; rank ", rank, " stops"));
    const std::uint64_t generation = generation_;
    if (++arrived_ == size_) {
      arrived_ = 0;
      ++generation_;
      cv_.notify_all();
      return;
    }
    cv_.wait(lock, [&] { return generation_ != generation || failed_; });
    if (generation_ == generation)
      throw PeerFailed(::recsys::detail::str_cat("threads ", op, ": rank ", failed_rank_, " failed; rank ", rank, " stops"));
  }
  void fail(int rank) {
    std::lock_guard lock(mutex_);
    if (!failed_) {
      failed_ = true;
      failed_rank_ = rank;
    }
    cv_.notify_all();
  }

  int size_;
  std::vector<Slot> slots_;
  std::vector<std::unique_ptr<Rank>> ranks_;
  std::mutex mutex_;
  std::condition_variable cv_;
  int arrived_ = 0;
  std::uint64_t generation_ = 0;
  bool failed_ = false;
  int failed_rank_ = -1;
};

}  // namespace recsys::dist
