// tests/cuda/elementwise_test.cpp — transfers, fill, strided copies and dtype conversion, unary and broadcasting binary ops on the GPU against the CPU.
#include "cuda_test_util.hpp"

using namespace recsys;
using recsys::autograd::TensorList;
using recsys::cuda_testing::check_matches;
using recsys::cuda_testing::compare_with_cpu;
using recsys::cuda_testing::kGpu;
using recsys::cuda_testing::kSizes;

TEST_CASE("to(cuda) and back is exact for every dtype, empty and 0-d tensors included") {
  Generator g(1);
  for (DType t : {DType::float32, DType::float64, DType::int32, DType::int64}) {
    INFO("dtype ", t);
    const Tensor x = is_floating(t) ? randn({7, 33}, g, t) : randint(-1000, 1000, {7, 33}, g, t);
    const Tensor y = x.to(kGpu);
    CHECK(y.device() == kGpu);
    CHECK(y.dtype() == t);
    CHECK(recsys::testing::bitwise_equal(y.cpu(), x));
  }
  CHECK(zeros({0, 3}).to(kGpu).cpu().shape() == Shape{0, 3});
  CHECK(full({}, 2.5).to(kGpu).item<double>() == 2.5);
  // A transposed CPU tensor arrives with its values in logical order.
  const Tensor t = arange(12, DType::float32).view({3, 4}).t();
  CHECK(t.to(kGpu).cpu().to_vector<double>() == t.contiguous().to_vector<double>());
}

TEST_CASE("fill_ and the factories write on the GPU, through strided views too") {
  CHECK(ones({129}, {DType::float32, kGpu}).to_vector<double>() == std::vector<double>(129, 1.0));
  CHECK(full({3, 5}, -2.0, {DType::int64, kGpu}).to_vector<std::int64_t>() == std::vector<std::int64_t>(15, -2));
  Tensor z = zeros({4, 6}, {DType::float64, kGpu});
  z.slice(1, 1, 6, 2).fill_(7.0);  // columns 1, 3, 5
  const std::vector<double> v = z.to_vector<double>();
  for (std::size_t i = 0; i < v.size(); ++i) CHECK(v[i] == (i % 6 % 2 == 1 ? 7.0 : 0.0));
}

TEST_CASE("contiguous(), dtype conversions and broadcast copy_ match the CPU") {
  Generator g(2);
  for (std::int64_t n : kSizes) {
    const Tensor x = randn({n, 5, 3}, g);
    const Tensor xg = x.to(kGpu);
    check_matches(xg.permute({2, 0, 1}).contiguous(), x.permute({2, 0, 1}).contiguous(), 0, "permute+contiguous");
    check_matches(xg.transpose(0, 1).slice(2, 0, 3, 2).contiguous(), x.transpose(0, 1).slice(2, 0, 3, 2).contiguous(),
                  0, "strided slice");
  }
  // Every pair of dtypes, on values every type holds exactly.
  const Tensor small = randint(-50, 50, {33, 7}, g, DType::int64);
  for (DType from : {DType::float32, DType::float64, DType::int32, DType::int64}) {
    for (DType to : {DType::float32, DType::float64, DType::int32, DType::int64}) {
      INFO(from, " -> ", to);
      const Tensor src = small.to(from);
      CHECK(src.to(kGpu).t().to(to).cpu().to_vector<double>() == src.t().to(to).to_vector<double>());
    }
  }
  // Broadcasting copy_: a row into every row, a scalar into a strided view.
  const Tensor row = randn({129}, g);
  Tensor dst = zeros({7, 129}, {DType::float32, kGpu});
  {
    NoGradGuard no_grad;
    dst.copy_(row.to(kGpu));
  }
  check_matches(dst, row.expand({7, 129}).contiguous(), 0, "row broadcast");
  Tensor host_src = randn({7, 129}, g);
  dst.copy_(host_src);  // across devices
  check_matches(dst, host_src, 0, "host to device copy_");
}

TEST_CASE("unary ops match the CPU forward and backward, float32 and float64, contiguous or not") {
  struct Case {
    const char* name;
    std::function<Tensor(const Tensor&)> f;
    bool positive;  // domain needs x > 0
  };
  const std::vector<Case> cases = {
      {"neg", [](const Tensor& x) { return neg(x); }, false},
      {"exp", [](const Tensor& x) { return exp(x); }, false},
      {"log", [](const Tensor& x) { return log(x); }, true},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }, true},
      {"abs", [](const Tensor& x) { return abs(x); }, false},
      {"relu", [](const Tensor& x) { return relu(x); }, false},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }, false},
      {"tanh", [](const Tensor& x) { return tanh(x); }, false},
      {"pow", [](const Tensor& x) { return pow(x, 2.5); }, true},
      {"clamp", [](const Tensor& x) { return clamp(x, -0.5, 0.75); }, false},
  };
  Generator g(3);
  for (DType t : {DType::float32, DType::float64}) {
    for (const Case& c : cases) {
      for (std::int64_t n : kSizes) {
        for (bool strided : {false, true}) {
          Tensor x = randn({n}, g, t);
          if (c.positive) x = abs(x) + 0.1;
          if (n == 1000) x = x.view({8, 125});
          compare_with_cpu(std::string(c.name) + " n=" + std::to_string(n) + (strided ? " strided" : ""),
                           [&](const TensorList& in) { return c.f(in[0]); }, {x}, strided);
        }
      }
    }
  }
}

TEST_CASE("unary op on a misaligned view takes the scalar path and still matches") {
  Generator g(4);
  const Tensor x = randn({1001}, g);
  const Tensor xg = x.to(kGpu);
  // Offset by one element: the 128-bit path is illegal here.
  check_matches(sigmoid(xg.slice(0, 1, 1001)), sigmoid(x.slice(0, 1, 1001)), 1e-5, "sigmoid offset 1");
}

TEST_CASE("binary ops with broadcasting match the CPU forward and backward") {
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{1}, {1}},       {{7}, {7}},         {{33, 129}, {129}},  {{129, 1}, {1, 7}}, {{1000}, {}},
      {{}, {1000}},     {{2, 7, 33}, {7, 1}}, {{5, 1, 3}, {1, 4, 1}}, {{1000, 33}, {1000, 33}},
  };
  Generator g(5);
  for (DType t : {DType::float32, DType::float64}) {
    for (const auto& [sa, sb] : shapes) {
      for (bool strided : {false, true}) {
        if (strided && (sa.empty() || sb.empty())) continue;
        const Tensor a = randn(sa, g, t), b = abs(randn(sb, g, t)) + 0.5;  // b away from zero for div
        // Appended piece by piece: GCC 12 misreads `" " + std::string` as an overlapping copy (-Wrestrict).
        std::string shapes_s = " ";
        shapes_s.append(std::to_string(sa.numel())).append("x").append(std::to_string(sb.numel()));
        if (strided) shapes_s.append(" strided");
        compare_with_cpu("add" + shapes_s, [](const TensorList& in) { return in[0] + in[1]; }, {a, b}, strided);
        compare_with_cpu("sub" + shapes_s, [](const TensorList& in) { return in[0] - in[1]; }, {a, b}, strided);
        compare_with_cpu("mul" + shapes_s, [](const TensorList& in) { return in[0] * in[1]; }, {a, b}, strided);
        compare_with_cpu("div" + shapes_s, [](const TensorList& in) { return in[0] / in[1]; }, {a, b}, strided);
      }
    }
  }
}

TEST_CASE("binary ops on integer tensors are exact, and in-place accumulation works on the GPU") {
  Generator g(6);
  for (DType t : {DType::int32, DType::int64}) {
    const Tensor a = randint(-1000, 1000, {33, 7}, g, t), b = randint(-1000, 1000, {7}, g, t);
    CHECK((a.to(kGpu) * b.to(kGpu) - a.to(kGpu)).cpu().to_vector<std::int64_t>() ==
          (a * b - a).to_vector<std::int64_t>());
  }
  const Tensor x = randn({129, 33}, g), y = randn({33}, g);
  Tensor xg = x.to(kGpu);
  detail::add_inplace(xg, y.to(kGpu));
  check_matches(xg, x + y, 1e-6, "add_inplace");
}

TEST_CASE("mixing devices is refused with a message naming both") {
  const Tensor a = ones({3}), b = ones({3}, kGpu);
  CHECK_THROWS_WITH_AS(add(a, b), doctest::Contains("add: a is on cpu but b is on cuda:0"), recsys::Error);
  CHECK_THROWS_WITH_AS(b.at<float>({0}), doctest::Contains("at: tensor is on cuda:0"), recsys::Error);
}
