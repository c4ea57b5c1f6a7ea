// tests/ops/loss_target_test.cpp — gradients of mse_loss, binary_cross_entropy and BCE-with-logits with respect to a target that requires grad: gradchecks and PyTorch golden values.
#include <doctest/doctest.h>

#include <string>

#include "test_util.hpp"

using namespace recsys;
using recsys::testing::check_close;
using recsys::testing::param;

namespace {

Tensor loss_target_probabilities(Generator& g, const Shape& shape) {
  Tensor t = param(shape, g);
  NoGradGuard no_grad;
  t.copy_(sigmoid(t) * 0.9 + 0.05);  // inside the clip range, where the loss is smooth
  return t;
}

Tensor loss_target_call(const std::string& op, const Tensor& x, const Tensor& t, Reduction r) {
  if (op == "mse") return mse_loss(x, t, r);
  if (op == "bce") return binary_cross_entropy(x, t, r);
  return binary_cross_entropy_with_logits(x, t, r);
}

Reduction loss_target_reduction(const std::string& name) {
  return name == "mean" ? Reduction::mean : name == "sum" ? Reduction::sum : Reduction::none;
}

}  // namespace

TEST_CASE("loss gradients reach a target that requires grad (gradcheck, float64)") {
  Generator g(71);
  for (Reduction r : {Reduction::mean, Reduction::sum, Reduction::none}) {
    Tensor pred = param({2, 3}, g), target = param({2, 3}, g);
    RECSYS_CHECK_GRADCHECK([&](const autograd::TensorList& in) { return mse_loss(in[0], in[1], r); }, {pred, target});
    Tensor p = loss_target_probabilities(g, {2, 3}), soft = loss_target_probabilities(g, {2, 3});
    RECSYS_CHECK_GRADCHECK([&](const autograd::TensorList& in) { return binary_cross_entropy(in[0], in[1], r); },
                           {p, soft});
    Tensor logits = param({2, 3}, g), labels = loss_target_probabilities(g, {2, 3});
    RECSYS_CHECK_GRADCHECK(
        [&](const autograd::TensorList& in) { return binary_cross_entropy_with_logits(in[0], in[1], r); },
        {logits, labels});
    // Only the target: the input may be a constant.
    Tensor fixed = pred.detach();
    RECSYS_CHECK_GRADCHECK([&](const autograd::TensorList& in) { return mse_loss(fixed, in[0], r); }, {target});
  }
}

TEST_CASE("loss target gradients by hand: -grad(pred) for mse, -log(p/(1-p)) g/N for bce, -x g/N with logits") {
  Tensor x = tensor({0.25, 0.5, 0.8}), t = tensor({0.0, 1.0, 0.5});
  t.set_requires_grad();
  x.set_requires_grad();
  mse_loss(x, t).backward();
  check_close(t.grad(), {-2 * 0.25 / 3, 2 * 0.5 / 3, -2 * 0.3 / 3}, 1e-12, 1e-12);
  check_close(t.grad(), mul(x.grad(), -1.0), 1e-12, 1e-12);

  Tensor t2 = tensor({0.0, 1.0, 0.5}).set_requires_grad();
  binary_cross_entropy(x.detach(), t2).backward();
  check_close(t2.grad(), {-std::log(0.25 / 0.75) / 3, 0.0, -std::log(0.8 / 0.2) / 3}, 1e-12, 1e-12);

  Tensor t3 = tensor({0.0, 1.0, 0.5}).set_requires_grad();
  Tensor logits = tensor({-1.5, 0.0, 2.0});
  binary_cross_entropy_with_logits(logits, t3, Reduction::sum).backward();
  check_close(t3.grad(), {1.5, 0.0, -2.0}, 1e-12, 1e-12);

  // A target that does not require grad still gets none, and a constant input gets none either.
  Tensor y = tensor({0.0, 1.0, 0.0});
  Tensor p = tensor({0.3, 0.6, 0.1}).set_requires_grad();
  binary_cross_entropy(p, y).backward();
  CHECK_FALSE(y.grad().defined());
  CHECK(p.grad().defined());
}

TEST_CASE("loss gradients for input and target match PyTorch (golden fixtures, float64)") {
  for (const char* op : {"mse", "bce", "bce_logits"}) {
    for (const char* reduction : {"mean", "sum", "none"}) {
      const std::string name = std::string("loss_") + op + "_" + reduction;
      INFO(name);
      const recsys::testing::GoldenFixture f("ops/" + name);
      Tensor x = f["input"].detach().set_requires_grad();
      Tensor t = f["target"].detach().set_requires_grad();
      Tensor y = loss_target_call(op, x, t, loss_target_reduction(reduction));
      check_close(y, f["expected_output"].reshape(y.shape()), 1e-12, 1e-13);
      y.backward(f["grad_output"].reshape(y.shape()));
      check_close(x.grad(), f["expected_input_grad"], 1e-12, 1e-13);
      check_close(t.grad(), f["expected_target_grad"], 1e-12, 1e-13);
    }
  }
}
