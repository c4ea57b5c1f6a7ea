// tests/cuda/gemm_test.cpp — matmul and linear on the GPU against the CPU: odd sizes, every transpose layout, misaligned and batched operands; TF32/BF16 within their documented bounds.
#include "cuda_test_util.hpp"

#include "recsys/cuda/runtime.cuh"

using namespace recsys;
using recsys::autograd::TensorList;
using recsys::cuda_testing::check_matches;
using recsys::cuda_testing::compare_with_cpu;
using recsys::cuda_testing::kGpu;
using recsys::cuda_testing::kSizes;

namespace {

/// Restores fp32 GEMMs when a test that switched precision ends (or fails).
struct PrecisionGuard {
  explicit PrecisionGuard(cuda::GemmPrecision p) { cuda::set_gemm_precision(p); }
  ~PrecisionGuard() { cuda::set_gemm_precision(cuda::GemmPrecision::fp32); }
};

/// A view of `t` with the same values stored column-major (a transposed GEMM operand).
Tensor column_major(const Tensor& t) { return t.t().contiguous().t(); }

}  // namespace

TEST_CASE("matmul matches the CPU for odd sizes and every transpose layout, forward and backward") {
  Generator g(31);
  for (std::int64_t m : kSizes) {
    for (std::int64_t n : kSizes) {
      for (std::int64_t k : {std::int64_t{1}, std::int64_t{7}, std::int64_t{129}, std::int64_t{1000}}) {
        if (m * n * k > 140'000'000) continue;  // keeps the CPU reference quick
        const Tensor a = randn({m, k}, g), b = randn({k, n}, g);
        const std::string tag = std::to_string(m) + "x" + std::to_string(k) + "x" + std::to_string(n);
        compare_with_cpu("matmul " + tag, [](const TensorList& in) { return matmul(in[0], in[1]); }, {a, b});
        // Transposed operands are read in place by the kernel (trans_a / trans_b).
        const Tensor ag = a.to(kGpu), bg = b.to(kGpu);
        const Tensor expected = matmul(a, b);
        check_matches(matmul(column_major(ag), bg), expected, 1e-5, "A^T layout " + tag);
        check_matches(matmul(ag, column_major(bg)), expected, 1e-5, "B^T layout " + tag);
        check_matches(matmul(column_major(ag), column_major(bg)), expected, 1e-5, "both transposed " + tag);
      }
    }
  }
}

TEST_CASE("matmul on misaligned and padded operands takes the scalar path and matches") {
  Generator g(32);
  for (std::int64_t s : {7, 33, 129}) {
    // Row stride s+1 and a one-element offset: no 128-bit loads are legal.
    const Tensor a_big = randn({s, s + 1}, g), b_big = randn({s, s + 1}, g);
    const Tensor a = a_big.slice(1, 1, s + 1), b = b_big.slice(1, 0, s);
    check_matches(matmul(a_big.to(kGpu).slice(1, 1, s + 1), b_big.to(kGpu).slice(1, 0, s)), matmul(a, b), 1e-5,
                  "misaligned " + std::to_string(s));
  }
}

TEST_CASE("batched matmul with broadcast batch dimensions matches the CPU") {
  Generator g(33);
  const Tensor a = randn({2, 1, 33, 7}, g), b = randn({5, 7, 129}, g);
  compare_with_cpu("batched broadcast", [](const TensorList& in) { return matmul(in[0], in[1]); }, {a, b});
  const Tensor p = randn({3, 129, 33}, g), q = randn({3, 33, 1}, g);
  compare_with_cpu("batched matrix-vector", [](const TensorList& in) { return matmul(in[0], in[1]); }, {p, q});
}

TEST_CASE("float64 matmul matches the CPU to double rounding") {
  Generator g(34);
  for (std::int64_t s : kSizes) {
    const Tensor a = randn({s, 129}, g, DType::float64), b = randn({129, s}, g, DType::float64);
    compare_with_cpu("matmul f64 " + std::to_string(s), [](const TensorList& in) { return matmul(in[0], in[1]); },
                     {a, b});
  }
}

TEST_CASE("linear with and without bias, on (B, T, C) input, matches the CPU with gradients") {
  Generator g(35);
  for (std::int64_t c : kSizes) {
    const Tensor x = randn({4, 33, c}, g), w = randn({c, 129}, g) * 0.1, bias = randn({129}, g);
    const std::string tag = " C=" + std::to_string(c);
    compare_with_cpu("linear" + tag, [](const TensorList& in) { return linear(in[0], in[1], in[2]); }, {x, w, bias});
    compare_with_cpu("linear no bias" + tag, [](const TensorList& in) { return linear(in[0], in[1]); }, {x, w}, true);
  }
}

TEST_CASE("TF32 and BF16 tensor-core GEMMs stay within their documented error bounds") {
  Generator g(36);
  const std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>> shapes = {
      {1, 1, 1}, {7, 33, 129}, {129, 1000, 33}, {1000, 129, 1000}, {256, 256, 256}};
  for (auto [prec, bound] : {std::pair{cuda::GemmPrecision::tf32, 0x1p-9}, std::pair{cuda::GemmPrecision::bf16, 0x1p-6}}) {
    PrecisionGuard guard(prec);
    for (const auto& [m, k, n] : shapes) {
      for (bool ta : {false, true}) {
        const Tensor a = randn({m, k}, g, DType::float64), b = randn({k, n}, g, DType::float64);
        const Tensor exact = matmul(a, b);
        const Tensor scale = matmul(abs(a), abs(b));  // sum_k |a_ik b_kj|
        Tensor ag = a.to(DType::float32).to(kGpu);
        if (ta) ag = column_major(ag);
        const std::vector<double> got = matmul(ag, b.to(DType::float32).to(kGpu)).to_vector<double>();
        const std::vector<double> want = exact.to_vector<double>(), s = scale.to_vector<double>();
        double worst = 0;
        for (std::size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(got[i] - want[i]) / (s[i] + 1e-30));
        INFO("precision ", static_cast<int>(prec), " shape ", m, "x", k, "x", n, (ta ? " A^T" : ""), ": worst error / bound scale ",
             worst, ", allowed ", bound);
        CHECK(worst <= bound);
        if (m * n >= 1000) CHECK(worst > 0x1p-20);  // the tensor-core path really ran (fp32 stays near 2^-24)
      }
    }
  }
  CHECK(cuda::gemm_precision() == cuda::GemmPrecision::fp32);
}

TEST_CASE("matmul refuses operands on different devices") {
  CHECK_THROWS_WITH_AS(matmul(ones({2, 2}, kGpu), ones({2, 2})), doctest::Contains("matmul: a is on cuda:0 but b is on cpu"),
                       recsys::Error);
}
