// tests/cuda/softmax_loss_test.cpp — softmax, log_softmax and the losses on the GPU against the CPU, forward and backward.
#include "cuda_test_util.hpp"

using namespace recsys;
using recsys::autograd::TensorList;
using recsys::cuda_testing::compare_with_cpu;
using recsys::cuda_testing::kGpu;
using recsys::cuda_testing::kSizes;

TEST_CASE("softmax and log_softmax over the last and a middle dimension match the CPU") {
  Generator g(21);
  for (DType t : {DType::float32, DType::float64}) {
    for (std::int64_t n : kSizes) {
      for (bool strided : {false, true}) {
        const Tensor x = randn({4, n, 3}, g, t) * 3.0;
        const std::string tag = " n=" + std::to_string(n) + (strided ? " strided" : "");
        for (std::int64_t d : {1, 2}) {
          compare_with_cpu("softmax" + tag, [d](const TensorList& in) { return softmax(in[0], d); }, {x}, strided);
          compare_with_cpu("log_softmax" + tag, [d](const TensorList& in) { return log_softmax(in[0], d); }, {x},
                           strided);
        }
      }
    }
  }
}

TEST_CASE("softmax stays finite for large logits on the GPU") {
  const Tensor x = tensor({1000.f, 0.f, -1000.f}).to(kGpu);
  const std::vector<double> p = softmax(x).to_vector<double>();
  CHECK(p[0] == doctest::Approx(1.0));
  CHECK(p[2] == 0.0);
  CHECK(log_softmax(x).to_vector<double>()[1] == doctest::Approx(-1000.0));
}

TEST_CASE("binary cross-entropy (probabilities and logits) and MSE match the CPU") {
  Generator g(22);
  for (DType t : {DType::float32, DType::float64}) {
    for (std::int64_t n : kSizes) {
      const Tensor logits = randn({n, 1}, g, t) * 4.0;
      const Tensor probs = sigmoid(logits);
      const Tensor target = randint(0, 2, {n, 1}, g, t);
      const std::string tag = " n=" + std::to_string(n);
      for (Reduction r : {Reduction::none, Reduction::mean, Reduction::sum}) {
        compare_with_cpu("bce" + tag, [&](const TensorList& in) { return binary_cross_entropy(in[0], in[1], r); },
                         {probs, target});
        compare_with_cpu("bce_logits" + tag,
                         [&](const TensorList& in) { return binary_cross_entropy_with_logits(in[0], in[1], r); },
                         {logits, target});
        compare_with_cpu("mse" + tag, [&](const TensorList& in) { return mse_loss(in[0], in[1], r); },
                         {logits, probs});
      }
    }
  }
}

TEST_CASE("nll_loss and cross_entropy with int32 and int64 targets match the CPU") {
  Generator g(23);
  for (std::int64_t classes : {1, 7, 33, 1000}) {
    for (DType it : {DType::int32, DType::int64}) {
      const Tensor logits = randn({33, classes}, g);
      const Tensor target = randint(0, classes, {33}, g, it);
      const Tensor tg = target.to(kGpu);
      // Targets carry no gradient: pass them through the closure, not as a compared input.
      compare_with_cpu("cross_entropy C=" + std::to_string(classes),
                       [&](const TensorList& in) {
                         return cross_entropy(in[0], in[0].device().is_cuda() ? tg : target);
                       },
                       {logits});
      compare_with_cpu("nll_loss C=" + std::to_string(classes),
                       [&](const TensorList& in) {
                         return nll_loss(log_softmax(in[0], 1), in[0].device().is_cuda() ? tg : target,
                                         Reduction::none);
                       },
                       {logits}, true);
    }
  }
}

TEST_CASE("nll_loss refuses an out-of-range class on the GPU before any kernel runs") {
  const Tensor lp = zeros({2, 3}, kGpu);
  const Tensor target = tensor({std::int64_t{0}, std::int64_t{3}}).to(kGpu);
  CHECK_THROWS_WITH_AS(nll_loss(lp, target), doctest::Contains("nll_loss: target[1] = 3 is not a class index"),
                       recsys::Error);
}
