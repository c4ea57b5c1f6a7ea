// tests/autograd/gradcheck_test.cpp — gradcheck passes correct gradients and pinpoints wrong ones.
#include <doctest/doctest.h>

#include "test_util.hpp"

using namespace recsys;
using recsys::testing::f64;

TEST_CASE("gradcheck passes a correct gradient") {
  Generator g(3);
  Tensor x = recsys::testing::param({3, 2}, g);
  const auto r = gradcheck([](const autograd::TensorList& in) { return tanh(in[0]) * in[0]; }, {x});
  CHECK(r.ok);
  CHECK(r.message.rfind("gradcheck passed", 0) == 0);
}

TEST_CASE("gradcheck finds and reports a wrong gradient") {
  // y = x^2 with a backward that returns x instead of 2x: wrong everywhere except at 0.
  auto wrong_square = [](const autograd::TensorList& in) {
    const Tensor& x = in[0];
    Tensor y;
    {
      NoGradGuard no_grad;
      y = x * x;
    }
    const autograd::SavedTensor sx(x);
    autograd::record("wrong_square", {x}, {y}, [sx](const autograd::TensorList& g) -> autograd::TensorList {
      return {g[0] * sx.get("wrong_square")};
    });
    return y;
  };
  Tensor x = tensor({0.5, -1.0, 3.0});
  x.set_requires_grad();
  const auto r = gradcheck(wrong_square, {x});
  CHECK_FALSE(r.ok);
  CHECK(r.input == 0);
  CHECK(r.message.find("gradcheck FAILED: worst element is input 0") == 0);
  CHECK(r.numeric == doctest::Approx(2 * r.analytic).epsilon(1e-6));
}

TEST_CASE("gradcheck refuses inputs it cannot check reliably") {
  Tensor f = ones({2});
  f.set_requires_grad();
  CHECK_THROWS_WITH_AS(gradcheck([](const autograd::TensorList& in) { return in[0]; }, {f}),
                       "gradcheck: input 0 is float32; use float64 so finite differences are accurate", Error);
  Tensor e = tensor({1.0}).expand({3});
  CHECK_THROWS_WITH_AS(gradcheck([](const autograd::TensorList& in) { return in[0]; }, {e}),
                       doctest::Contains("gradcheck: input 0 has an expanded (stride 0) dimension"), Error);
}

TEST_CASE("view ops have correct gradients, including through strided inputs") {
  Generator g(11);
  Tensor x = recsys::testing::param({3, 4, 2}, g);
  auto views = [](const autograd::TensorList& in) {
    const Tensor& t = in[0];
    Tensor a = t.transpose(0, 2).slice(1, 1, 4, 2);           // (2, 2, 3)
    Tensor b = t.select(1, -1).unsqueeze(0).expand({2, 3, 2});  // (2, 3, 2)
    Tensor c = t.permute({2, 1, 0}).reshape({2, 12}).slice(1, 0, 6).view({2, 2, 3});
    return sum(a * c, 1) + sum(b.flatten(1), 1, true) + sum(sum(t.squeeze(), 0).select(0, 1));
  };
  RECSYS_CHECK_GRADCHECK(views, {x});
}

TEST_CASE("dtype and device conversions pass gradients through") {
  Generator g(12);
  Tensor x = recsys::testing::param({4}, g);
  RECSYS_CHECK_GRADCHECK([](const autograd::TensorList& in) { return in[0].to(DType::float32).to(DType::float64) * 2.0; },
                         {x}, {.eps = 1e-3, .atol = 1e-4, .rtol = 1e-3});
  RECSYS_CHECK_GRADCHECK([](const autograd::TensorList& in) { return in[0].clone() * in[0].to(Device::cpu()); }, {x});
}
