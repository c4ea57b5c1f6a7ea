// tests/data/loader_test.cpp — BatchLoader: batch contents, drop_last, seeded per-epoch shuffles, errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <recsys/core/factory.hpp>
#include <recsys/data/loader.hpp>

using namespace recsys;
using namespace recsys::data;

TEST_CASE("BatchLoader without shuffle: views in order, last batch smaller") {
  const Tensor x = arange(10).view({5, 2});  // rows (0,1), (2,3), ...
  const Tensor y = tensor({0.f, 1.f, 0.f, 1.f, 1.f});
  BatchLoader loader({x, y}, {.batch_size = 2});
  CHECK(loader.size() == 5);
  CHECK(loader.num_batches() == 3);
  std::vector<std::vector<std::int64_t>> xs;
  std::vector<std::vector<float>> ys;
  for (const std::vector<Tensor>& b : loader) {
    REQUIRE(b.size() == 2);
    xs.push_back(b[0].contiguous().to_vector<std::int64_t>());
    ys.push_back(b[1].contiguous().to_vector<float>());
  }
  CHECK(xs == std::vector<std::vector<std::int64_t>>{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}});
  CHECK(ys == std::vector<std::vector<float>>{{0, 1}, {0, 1}, {1}});

  BatchLoader drop({x}, {.batch_size = 2, .drop_last = true});
  CHECK(drop.num_batches() == 2);
  int n = 0;
  for (const auto& b : drop) {
    CHECK(b[0].size(0) == 2);
    ++n;
  }
  CHECK(n == 2);
  CHECK_FALSE(drop.next().has_value());  // the epoch is over until reset()
  drop.reset();
  CHECK(drop.next().has_value());
}

TEST_CASE("BatchLoader shuffles each epoch, reproducibly from the seed") {
  const Tensor x = arange(20).view({10, 2});
  const Tensor y = arange(10);
  auto epoch_rows = [](BatchLoader& loader) {
    std::vector<std::int64_t> rows;
    for (const auto& b : loader) {
      const auto xv = b[0].to_vector<std::int64_t>();
      const auto yv = b[1].to_vector<std::int64_t>();
      for (std::size_t i = 0; i < yv.size(); ++i) {
        CHECK(xv[2 * i] == 2 * yv[i]);  // rows of x and y stay paired
        rows.push_back(yv[i]);
      }
    }
    return rows;
  };
  BatchLoader a({x, y}, {.batch_size = 3, .shuffle = true, .seed = 42});
  BatchLoader b({x, y}, {.batch_size = 3, .shuffle = true, .seed = 42});
  const auto a1 = epoch_rows(a), a2 = epoch_rows(a);
  CHECK(a1 == epoch_rows(b));
  CHECK(a2 == epoch_rows(b));
  CHECK(a1 != a2);  // a new order each epoch
  auto sorted = a1;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == arange(10).to_vector<std::int64_t>());  // every sample once
  BatchLoader c({x, y}, {.batch_size = 3, .shuffle = true, .seed = 7});
  CHECK(epoch_rows(c) != a1);
}

TEST_CASE("BatchLoader errors") {
  CHECK_THROWS_WITH_AS(BatchLoader({}, {}), doctest::Contains("BatchLoader: no tensors given"), Error);
  CHECK_THROWS_WITH_AS(BatchLoader({arange(3)}, {.batch_size = 0}),
                       doctest::Contains("BatchLoader: batch_size must be positive, got 0"), Error);
  CHECK_THROWS_WITH_AS(BatchLoader({arange(3), arange(4)}, {}),
                       doctest::Contains("BatchLoader: tensor 1 has 4 rows, tensor 0 has 3"), Error);
  CHECK_THROWS_WITH_AS(BatchLoader({full({}, 1.0)}, {}),
                       doctest::Contains("BatchLoader: tensor 0 needs at least one dimension"), Error);
}
