// tests/train/determinism_test.cpp — the reference model at full size, trained by the plain loop: bitwise the same on 1 and 2 threads, and no system allocation once warm.
#include <doctest/doctest.h>

#include <recsys/core/parallel.hpp>
#include <recsys/nn/sequential.hpp>
#include <recsys/ops/loss.hpp>
#include <recsys/optim/adam.hpp>

#include <cstdint>
#include <vector>

#include "test_util.hpp"
#include "train/train_test_util.hpp"

using namespace recsys;
using recsys::testing::bitwise_equal;

namespace {

/// What a few training steps leave behind: every parameter, the losses, and the trained model's
/// predictions in inference mode.
struct Trained {
  NamedTensors parameters;
  std::vector<float> losses;
  Tensor predictions;
};

/// Seeds the weights, then runs `steps` plain-loop steps (zero_grad, forward, BCE, backward, Adam) on
/// one batch of `batch` sequences of 100 ids (the reference model's shapes) with `threads` threads.
Trained train_reference_model(int threads, std::int64_t batch, int steps, std::uint64_t data_seed, std::uint64_t* steady_allocations = nullptr) {
  set_num_threads(threads);
  manual_seed(21);
  auto model = testing::reference_model();
  optim::Adam opt(model.parameters(), {.lr = 1e-3});
  Generator gen(data_seed);
  const Tensor ids = randint(0, 1000, {batch, 100}, gen);
  const Tensor labels = randint(0, 2, {batch, 1}, gen).to(DType::float32);
  Trained out;
  std::uint64_t allocations_after_warmup = 0;
  for (int i = 0; i < steps; ++i) {
    // Step 0 creates Adam's slots and the gradients, step 1 fills the allocator's cache for every shape.
    if (i == 2) allocations_after_warmup = CachingHostAllocator::instance().stats().system_allocations;
    opt.zero_grad();
    const Tensor loss = binary_cross_entropy(model(ids), labels);
    loss.backward();
    opt.step();
    out.losses.push_back(loss.item<float>());
  }
  if (steady_allocations != nullptr)
    *steady_allocations = CachingHostAllocator::instance().stats().system_allocations - allocations_after_warmup;
  model.eval();
  NoGradGuard no_grad;
  out.predictions = model(ids);
  out.parameters = model.named_parameters();
  return out;
}

}  // namespace

TEST_CASE("reference model, plain loop: parameters, losses and predictions bitwise identical on 1 and 2 threads") {
  const int threads_before = num_threads();
  // 64 rows split evenly over two threads; 37 leaves one thread a row more (uneven bands and tiles).
  for (const std::int64_t batch : {64, 37}) {
    INFO("batch ", batch);
    const Trained one = train_reference_model(1, batch, 3, 5), two = train_reference_model(2, batch, 3, 5),
                  other = train_reference_model(2, batch, 3, 6);
    set_num_threads(threads_before);
    CHECK(one.losses == two.losses);
    CHECK(bitwise_equal(one.predictions, two.predictions));
    REQUIRE(one.parameters.size() == two.parameters.size());
    bool any_difference = false;
    for (std::size_t i = 0; i < one.parameters.size(); ++i) {
      INFO(one.parameters[i].first);
      CHECK(bitwise_equal(one.parameters[i].second, two.parameters[i].second));
      any_difference = any_difference || !bitwise_equal(one.parameters[i].second, other.parameters[i].second);
    }
    // Other data trains to other weights, so the comparisons above are able to fail.
    CHECK(any_difference);
    CHECK(one.losses != other.losses);
  }
}

TEST_CASE("reference model, plain loop: once warm, a training step takes no memory from the system") {
  if (RECSYS_ASAN) return;  // caching is off under AddressSanitizer, which must see every allocation
  const int threads_before = num_threads();
  for (const int threads : {1, 2}) {
    INFO(threads, " thread(s)");
    std::uint64_t steady = 1;
    train_reference_model(threads, 32, 5, 7, &steady);
    CHECK(steady == 0);
  }
  set_num_threads(threads_before);
}
