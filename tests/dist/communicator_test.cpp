// tests/dist/communicator_test.cpp — the one-process group, the thread group's collectives against a serial reference, shards, world().
#include <doctest/doctest.h>

#include <atomic>
#include <cstring>
#include <vector>

#include "test_util.hpp"

using namespace recsys;

TEST_CASE("dist::SingleProcess: every collective is the identity") {
  dist::SingleProcess one;
  CHECK(one.rank() == 0);
  CHECK(one.size() == 1);
  CHECK(one.is_root());
  std::vector<float> f{1.5f, -2.f};
  one.allreduce_sum(std::span<float>(f));
  CHECK(f == std::vector<float>{1.5f, -2.f});
  std::vector<double> d{3.0};
  one.broadcast(std::span<double>(d), 0);
  CHECK(d[0] == 3.0);
  CHECK(one.allgather_value(7) == std::vector<int>{7});
  one.barrier();
  CHECK_THROWS_WITH_AS(one.broadcast(std::span<double>(d), 1), "single broadcast: root 1 is not a rank of a group of 1",
                       Error);
}

TEST_CASE("dist::ThreadGroup: allreduce_sum adds in rank order, and every rank gets the same bits") {
  const int n = 3;
  dist::ThreadGroup group(n);
  // Values whose float sum depends on the order: ((1e8 + 1) + -1e8) is 0 in float, (1e8 + -1e8) + 1 is 1.
  const std::vector<std::vector<float>> in{{1e8f, 0.1f, 1.f}, {1.f, 0.2f, 2.f}, {-1e8f, 0.3f, 3.f}};
  std::vector<float> expected(3);
  for (std::size_t i = 0; i < 3; ++i) expected[i] = (in[0][i] + in[1][i]) + in[2][i];
  std::vector<std::vector<float>> out(n);
  std::vector<std::vector<double>> out_d(n);
  group.run([&](dist::Communicator& comm) {
    std::vector<float> mine = in[static_cast<std::size_t>(comm.rank())];
    comm.allreduce_sum(std::span<float>(mine));
    out[static_cast<std::size_t>(comm.rank())] = mine;
    std::vector<double> d{static_cast<double>(comm.rank() + 1), 0.5};
    comm.allreduce_sum(std::span<double>(d));
    out_d[static_cast<std::size_t>(comm.rank())] = d;
  });
  for (int r = 0; r < n; ++r) {
    CHECK(std::memcmp(out[r].data(), expected.data(), 3 * sizeof(float)) == 0);
    CHECK(out_d[r] == std::vector<double>{6.0, 1.5});
  }
  CHECK(expected[0] == 0.f);  // the order really mattered
}

TEST_CASE("dist::ThreadGroup: broadcast from any root, allgather, barrier") {
  dist::ThreadGroup group(4);
  std::vector<std::vector<int>> got(4), gathered(4);
  std::atomic<int> before{0};
  std::atomic<bool> all_before{true};
  group.run([&](dist::Communicator& comm) {
    std::vector<int> v{comm.rank() * 10, comm.rank() * 10 + 1};
    comm.broadcast(std::span<int>(v), 2);
    got[static_cast<std::size_t>(comm.rank())] = v;
    gathered[static_cast<std::size_t>(comm.rank())] = comm.allgather_value(comm.rank() * comm.rank());
    ++before;
    comm.barrier();
    if (before.load() != 4) all_before = false;
  });
  for (int r = 0; r < 4; ++r) {
    CHECK(got[r] == std::vector<int>{20, 21});
    CHECK(gathered[r] == std::vector<int>{0, 1, 4, 9});
  }
  CHECK(all_before.load());
}

TEST_CASE("dist::ThreadGroup: buffers of different sizes, bad roots, and a failed rank are errors, never a hang") {
  dist::ThreadGroup group(2);
  CHECK_THROWS_WITH_AS(group.run([](dist::Communicator& comm) {
    std::vector<float> v(static_cast<std::size_t>(2 + comm.rank()));
    comm.allreduce_sum(std::span<float>(v));
  }),
                       doctest::Contains("threads allreduce_sum: rank 0 has 8 bytes and rank 1 has 12"), Error);
  CHECK_THROWS_WITH_AS(group.run([](dist::Communicator& comm) {
    std::vector<float> v(2);
    comm.broadcast(std::span<float>(v), 5);
  }),
                       "threads broadcast: root 5 is not a rank of a group of 2", Error);
  // Rank 1 fails before the collective that rank 0 waits in: rank 1's error is the one reported.
  CHECK_THROWS_WITH_AS(group.run([](dist::Communicator& comm) {
    if (comm.rank() == 1) throw Error("rank 1: out of data");
    comm.barrier();
  }),
                       "rank 1: out of data", Error);
  // The group is usable again afterwards.
  std::vector<double> sums(2);
  group.run([&](dist::Communicator& comm) {
    std::vector<double> v{1.0};
    comm.allreduce_sum(std::span<double>(v));
    sums[static_cast<std::size_t>(comm.rank())] = v[0];
  });
  CHECK(sums == std::vector<double>{2.0, 2.0});
  CHECK_THROWS_WITH_AS(dist::ThreadGroup(0), "dist::ThreadGroup: size must be positive, got 0", Error);
}

TEST_CASE("dist::shard_of: contiguous shares that differ by at most one row and cover the batch in order") {
  for (int size : {1, 2, 3, 4})
    for (std::int64_t rows : {0, 1, 5, 32, 33}) {
      std::int64_t next = 0;
      for (int r = 0; r < size; ++r) {
        const dist::Shard s = dist::shard_of(rows, r, size);
        CHECK(s.begin == next);
        CHECK(s.rows() >= rows / size);
        CHECK(s.rows() <= rows / size + 1);
        next = s.end;
      }
      CHECK(next == rows);
    }
  CHECK_THROWS_WITH_AS(dist::shard_of(4, 2, 2), "dist::shard_of: rank 2 of 2", Error);
}

TEST_CASE("dist::world: one process by default, and WorldScope sets it for a scope") {
  CHECK(dist::world().size() == 1);
  CHECK(dist::world().backend() == "single");
  {
    struct Fake final : dist::Communicator {
      int rank() const override { return 1; }
      int size() const override { return 2; }
      std::string backend() const override { return "fake"; }
      void allreduce_sum(std::span<float>) override {}
      void allreduce_sum(std::span<double>) override {}
      void broadcast(std::span<std::byte>, int) override {}
      void allgather(std::span<const std::byte>, std::span<std::byte>) override {}
      void barrier() override {}
    };
    dist::WorldScope scope(std::make_shared<Fake>());
    CHECK(dist::world().backend() == "fake");
    CHECK(dist::world().rank() == 1);
  }
  CHECK(dist::world().backend() == "single");
}
