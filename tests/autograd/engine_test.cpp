// tests/autograd/engine_test.cpp — the backward engine: accumulation, deep graphs, multi-output nodes, misuse errors.
#include <doctest/doctest.h>

#include "test_util.hpp"

using namespace recsys;
using recsys::testing::check_close;

TEST_CASE("gradients of a small expression by hand") {
  Tensor x = tensor({1.0, -2.0, 3.0});
  x.set_requires_grad();
  Tensor y = sum(x * x + x * 3.0);  // dy/dx = 2x + 3
  y.backward();
  check_close(x.grad(), {5.0, -1.0, 9.0});
  CHECK(x.is_leaf());
  CHECK_FALSE(y.is_leaf());
  CHECK(y.grad_fn()->name == std::string("sum"));
}

TEST_CASE("a tensor used twice receives the sum of both paths (diamond)") {
  Tensor x = tensor({2.0});
  x.set_requires_grad();
  Tensor a = x * 3.0, b = x * x;
  Tensor y = sum(a * b);  // 3x^3 -> 9x^2 = 36
  y.backward();
  check_close(x.grad(), {36.0});
}

TEST_CASE("gradients accumulate across backward calls, and zero_grad keeps the buffer") {
  Tensor w = tensor({1.f, 2.f});
  w.set_requires_grad();
  sum(w * 2.0).backward();
  const void* buffer = w.grad().raw_data();
  sum(w * 2.0).backward();
  check_close(w.grad(), {4, 4});
  CHECK(w.grad().raw_data() == buffer);  // accumulated in place
  w.zero_grad();
  check_close(w.grad(), {0, 0});
  CHECK(w.grad().raw_data() == buffer);
}

TEST_CASE("a graph thousands of nodes deep runs backward and is destroyed without recursion") {
  Tensor x = tensor({1.0f});
  x.set_requires_grad();
  Tensor y = x;
  for (int i = 0; i < 50000; ++i) y = y * 1.0 + 0.0;  // 100,000 nodes
  sum(y).backward();
  check_close(x.grad(), {1.0});
  y = Tensor();  // destroying the chain must not overflow the stack
  CHECK(x.grad().defined());
}

TEST_CASE("backward through a freed graph, or of a non-scalar without a gradient, is an error") {
  Tensor x = tensor({1.0, 2.0});
  x.set_requires_grad();
  Tensor y = sum(exp(x));
  y.backward();
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("backward: the graph through 'sum' was already used"), Error);
  Tensor z = exp(x);
  CHECK_THROWS_WITH_AS(z.backward(),
                       "backward: output has shape [2]; a gradient can be created implicitly only for a one-element "
                       "output, so pass one of that shape",
                       Error);
  x.zero_grad();
  z.backward(tensor({1.0, 0.5}), /*retain_graph=*/true);
  z.backward(tensor({1.0, 0.5}));
  check_close(x.grad(), {2 * std::exp(1.0), std::exp(2.0)});
  CHECK_THROWS_WITH_AS(exp(x).backward(tensor({1.0})), "backward: gradient has shape [1] but the output has shape [2]",
                       Error);
  CHECK_THROWS_WITH_AS(sum(tensor({1.0})).backward(), doctest::Contains("backward: tensor does not require grad"),
                       Error);
}

TEST_CASE("NoGradGuard and detach stop recording") {
  Tensor x = tensor({1.0f});
  x.set_requires_grad();
  {
    NoGradGuard no_grad;
    Tensor y = x * 2.0;
    CHECK_FALSE(y.requires_grad());
    CHECK(y.is_leaf());
  }
  Tensor d = x.detach();
  CHECK_FALSE(d.requires_grad());
  CHECK(d.raw_data() == x.raw_data());
  Tensor y = sum(x * d);  // d is a constant: dy/dx = d = 1
  y.backward();
  check_close(x.grad(), {1.0});
}

TEST_CASE("requires_grad is only for floating-point leaves") {
  CHECK_THROWS_WITH_AS(arange(3).set_requires_grad(),
                       "set_requires_grad: only floating-point tensors can require grad, got int64", Error);
  Tensor x = ones({2});
  x.set_requires_grad();
  Tensor y = x * 2.0;
  CHECK_THROWS_WITH_AS(y.set_requires_grad(false),
                       doctest::Contains("set_requires_grad: only leaf tensors can change requires_grad (this one was "
                                         "produced by 'mul'"),
                       Error);
}

TEST_CASE("modifying a tensor saved for backward is caught at backward time") {
  Tensor a = tensor({1.0, 2.0});
  a.set_requires_grad();
  Tensor b = tensor({3.0, 4.0});
  Tensor c = sum(a * b);  // saves b
  b.fill_(0.0);
  CHECK_THROWS_WITH_AS(c.backward(),
                       doctest::Contains("mul: a tensor saved for backward was modified in place after the forward pass"),
                       Error);
}

TEST_CASE("retain_grad keeps the gradient of an intermediate tensor") {
  Tensor x = tensor({1.0, 2.0});
  x.set_requires_grad();
  Tensor h = x * 3.0;
  h.retain_grad();
  sum(h * h).backward();  // d/dh = 2h
  check_close(h.grad(), {6.0, 12.0});
  check_close(x.grad(), {18.0, 36.0});
}

TEST_CASE("multi-output nodes: gradients of unused outputs arrive as undefined (zero)") {
  // A two-output op built with the public recording API: (x * 2, x * 3).
  Tensor x = tensor({1.0, 1.0});
  x.set_requires_grad();
  Tensor o1, o2;
  {
    NoGradGuard no_grad;
    o1 = x * 2.0;
    o2 = x * 3.0;
  }
  int calls = 0;
  autograd::record("two_outputs", {x}, {o1, o2}, [&calls](const autograd::TensorList& g) -> autograd::TensorList {
    ++calls;
    Tensor gx = zeros({2}, DType::float64);
    if (g[0].defined()) gx = gx + g[0] * 2.0;
    if (g[1].defined()) gx = gx + g[1] * 3.0;
    return {gx};
  });
  CHECK(o2.output_nr() == 1);
  sum(o2).backward({}, /*retain_graph=*/true);  // only the second output is used
  check_close(x.grad(), {3.0, 3.0});
  x.zero_grad();
  autograd::backward({sum(o1), sum(o2)});  // both outputs: their gradients meet in one call of the closure
  check_close(x.grad(), {5.0, 5.0});
  CHECK(calls == 2);
}

TEST_CASE("a backward closure that returns the wrong shape is reported") {
  Tensor x = ones({3});
  x.set_requires_grad();
  Tensor y;
  {
    NoGradGuard no_grad;
    y = x * 1.0;
  }
  autograd::record("broken", {x}, {y}, [](const autograd::TensorList&) -> autograd::TensorList {
    return {zeros({2})};
  });
  CHECK_THROWS_WITH_AS(sum(y).backward(),
                       "backward of 'broken' returned a float32 gradient of shape [2] for input 0 (float32, shape [3])",
                       Error);
}
