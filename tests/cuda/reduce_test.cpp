// tests/cuda/reduce_test.cpp — sum, mean, max and argmax on the GPU against the CPU: every axis, long rows, ties, NaN, determinism.
#include "cuda_test_util.hpp"

#include <limits>

using namespace recsys;
using recsys::autograd::TensorList;
using recsys::cuda_testing::check_matches;
using recsys::cuda_testing::compare_with_cpu;
using recsys::cuda_testing::kGpu;
using recsys::cuda_testing::kSizes;

TEST_CASE("sum, mean and max over everything and over each dimension match the CPU, with gradients") {
  Generator g(11);
  for (DType t : {DType::float32, DType::float64}) {
    for (std::int64_t n : kSizes) {
      for (bool strided : {false, true}) {
        const Tensor x = randn({3, n, 5}, g, t);
        const std::string tag = " n=" + std::to_string(n) + (strided ? " strided" : "");
        compare_with_cpu("sum all" + tag, [](const TensorList& in) { return sum(in[0]); }, {x}, strided);
        compare_with_cpu("mean all" + tag, [](const TensorList& in) { return mean(in[0]); }, {x}, strided);
        compare_with_cpu("max all" + tag, [](const TensorList& in) { return max(in[0]); }, {x}, strided);
        for (std::int64_t d : {0, 1, 2}) {
          const std::string dt = tag + " dim " + std::to_string(d);
          compare_with_cpu("sum" + dt, [d](const TensorList& in) { return sum(in[0], d); }, {x}, strided);
          compare_with_cpu("mean" + dt, [d](const TensorList& in) { return mean(in[0], d, true); }, {x}, strided);
          compare_with_cpu("max" + dt, [d](const TensorList& in) { return max(in[0], d); }, {x}, strided);
        }
      }
    }
  }
}

TEST_CASE("long rows are reduced in fixed chunks: right answer, same bits every time") {
  Generator g(12);
  for (std::int64_t n : {32768, 32769, 100000, 1 << 20}) {
    const Tensor x = randn({n}, g);
    const Tensor xg = x.to(kGpu);
    check_matches(sum(xg), sum(x), 1e-5, "sum n=" + std::to_string(n));
    check_matches(max(xg), max(x), 0, "max n=" + std::to_string(n));
    CHECK(recsys::testing::bitwise_equal(sum(xg).cpu(), sum(xg).cpu()));
    // Column sums with a long reduced axis (the bias gradient of a big batch).
    const Tensor m = randn({n / 64, 64}, g);
    check_matches(sum(m.to(kGpu), 0), sum(m, 0), 1e-5, "column sum");
  }
}

TEST_CASE("argmax takes the first maximum, and NaN wins as on the CPU") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor ties = tensor({1.f, 3.f, 3.f, 2.f}).to(kGpu);
  CHECK(argmax(ties, 0).item<std::int64_t>() == 1);
  const Tensor with_nan = tensor({1.f, nan, 5.f, nan}).to(kGpu);
  CHECK(argmax(with_nan, 0).item<std::int64_t>() == 1);
  CHECK(std::isnan(max(with_nan).item<double>()));
  // In a long (chunked) row: a tie across chunks goes to the earlier one.
  Tensor big = zeros({100000});
  {
    NoGradGuard no_grad;
    big.slice(0, 70000, 70001).fill_(4.0);
    big.slice(0, 90000, 90001).fill_(4.0);
  }
  CHECK(argmax(big.to(kGpu), 0).item<std::int64_t>() == 70000);
  // Columns: (rows, cols) argmax over rows matches the CPU exactly.
  Generator g(13);
  const Tensor m = randint(0, 5, {129, 33}, g, DType::float32);  // many ties
  CHECK(argmax(m.to(kGpu), 0).cpu().to_vector<std::int64_t>() == argmax(m, 0).to_vector<std::int64_t>());
  CHECK(argmax(m.to(kGpu), 1).cpu().to_vector<std::int64_t>() == argmax(m, 1).to_vector<std::int64_t>());
}

TEST_CASE("integer sums and maxima are exact") {
  Generator g(14);
  for (DType t : {DType::int32, DType::int64}) {
    const Tensor x = randint(-100, 100, {33, 129}, g, t);
    CHECK(sum(x.to(kGpu)).item<std::int64_t>() == sum(x).item<std::int64_t>());
    CHECK(sum(x.to(kGpu), 0).cpu().to_vector<std::int64_t>() == sum(x, 0).to_vector<std::int64_t>());
    CHECK(max(x.to(kGpu), 1).cpu().to_vector<std::int64_t>() == max(x, 1).to_vector<std::int64_t>());
  }
}

TEST_CASE("reductions of empty dimensions behave as on the CPU") {
  CHECK(sum(zeros({0}, kGpu)).item<double>() == 0.0);
  CHECK(sum(zeros({3, 0}, kGpu), 1).cpu().to_vector<double>() == std::vector<double>{0, 0, 0});
  CHECK_THROWS_WITH_AS(max(zeros({0}, kGpu)), doctest::Contains("max: cannot take the maximum of an empty dimension"),
                       recsys::Error);
}
