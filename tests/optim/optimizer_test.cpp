// tests/optim/optimizer_test.cpp — SGD, Adam and AdamW by hand, their argument errors, state export/import and thread-count determinism.
#include <recsys/optim/adam.hpp>
#include <recsys/optim/clip_grad.hpp>
#include <recsys/optim/sgd.hpp>

#include <string>

#include "test_util.hpp"

using namespace recsys;
using recsys::testing::bitwise_equal;
using recsys::testing::check_close;

namespace {

Tensor leaf(std::initializer_list<double> values) {
  Tensor t = from_vector(std::vector<double>(values));
  t.set_requires_grad();
  return t;
}
void set_grad(const Tensor& p, std::initializer_list<double> values) { p.set_grad(from_vector(std::vector<double>(values))); }

}  // namespace

TEST_CASE("SGD: plain, momentum and Nesterov steps by hand") {
  const Tensor p = leaf({1.0, -2.0});
  optim::SGD plain({p}, {.lr = 0.1, .weight_decay = 0.5});
  set_grad(p, {1.0, 1.0});
  plain.step();  // d = g + 0.5 p = [1.5, 0]; p -= 0.1 d
  check_close(p, {0.85, -2.0}, 1e-15, 0);

  const Tensor q = leaf({1.0});
  optim::SGD momentum({q}, {.lr = 0.1, .momentum = 0.9});
  set_grad(q, {1.0});
  momentum.step();  // b = 1, q = 0.9
  check_close(q, {0.9}, 1e-15, 0);
  momentum.step();  // b = 0.9 + 1 = 1.9, q = 0.9 - 0.19
  check_close(q, {0.71}, 1e-15, 0);
  CHECK(momentum.step_count(0) == 2);

  const Tensor r = leaf({1.0});
  optim::SGD nesterov({r}, {.lr = 0.1, .momentum = 0.9, .nesterov = true});
  set_grad(r, {1.0});
  nesterov.step();  // b = 1, d = 1 + 0.9 * 1 = 1.9
  check_close(r, {0.81}, 1e-15, 0);
  nesterov.step();  // b = 1.9, d = 1 + 0.9 * 1.9 = 2.71
  check_close(r, {0.81 - 0.271}, 1e-15, 0);

  const Tensor s = leaf({0.0});
  optim::SGD damp({s}, {.lr = 1.0, .momentum = 0.5, .dampening = 0.5});
  set_grad(s, {1.0});
  damp.step();  // b = 1 (dampening does not apply to the first step)
  damp.step();  // b = 0.5 * 1 + 0.5 * 1 = 1
  check_close(s, {-2.0}, 1e-15, 0);
}

TEST_CASE("Adam and AdamW: one step by hand") {
  // m = 0.1 g, v = 0.001 g^2; after bias correction m^ = g and v^ = g^2, so the step is lr * sign(g).
  const Tensor p = leaf({1.0, 1.0});
  optim::Adam adam({p}, {.lr = 0.1, .eps = 0});
  set_grad(p, {0.5, -3.0});
  adam.step();
  check_close(p, {0.9, 1.1}, 1e-14, 0);
  CHECK(adam.step_count(0) == 1);

  // L2 weight decay joins the gradient: g = 0 + 0.5 * 2 = 1, so the step is still lr * sign(g).
  const Tensor q = leaf({2.0});
  optim::Adam l2({q}, {.lr = 0.1, .eps = 0, .weight_decay = 0.5});
  set_grad(q, {0.0});
  l2.step();
  check_close(q, {1.9}, 1e-14, 0);

  // AdamW decays the weight directly: p *= 1 - 0.1 * 0.5; a zero gradient then moves nothing.
  const Tensor r = leaf({2.0});
  optim::AdamW adamw({r}, {.lr = 0.1, .weight_decay = 0.5});
  set_grad(r, {0.0});
  adamw.step();
  check_close(r, {1.9}, 1e-15, 0);
  CHECK(adamw.name() == "AdamW");
  CHECK(adamw.options().weight_decay == 0.5);

  // AMSGrad divides by the largest second moment seen: after a big gradient, a small one moves less.
  const Tensor a = leaf({0.0}), b = leaf({0.0});
  optim::Adam with({a}, {.lr = 0.1, .amsgrad = true}), without({b}, {.lr = 0.1});
  set_grad(a, {10.0});
  set_grad(b, {10.0});
  with.step();
  without.step();
  CHECK(bitwise_equal(a, b));
  set_grad(a, {0.01});
  set_grad(b, {0.01});
  with.step();
  without.step();
  CHECK(a.item() > b.item());
}

TEST_CASE("optimizers skip parameters without a gradient, keep per-parameter step counts and bump versions") {
  const Tensor p = leaf({1.0}), q = leaf({1.0});
  optim::Adam adam({p, q}, {.lr = 0.1});
  set_grad(p, {1.0});
  const std::uint64_t version = p.impl()->storage->version();
  adam.step();
  CHECK(q.item() == 1.0);
  CHECK(adam.step_count(0) == 1);
  CHECK(adam.step_count(1) == 0);
  CHECK(p.impl()->storage->version() > version);
  CHECK(adam.state().tensors.size() == 2);  // moments exist only for p
  set_grad(q, {1.0});
  adam.step();
  CHECK(adam.step_count(0) == 2);
  CHECK(adam.step_count(1) == 1);
  check_close(q, {0.9}, 1e-7, 0);  // q's first step is bias-corrected as a first step
}

TEST_CASE("zero_grad zeroes gradients in place") {
  const Tensor p = leaf({1.0, 2.0});
  sum(p * p).backward();
  const TensorImpl* buffer = p.grad().impl();
  optim::SGD sgd({p});
  sgd.zero_grad();
  CHECK(p.grad().impl() == buffer);
  CHECK(p.grad().to_vector<double>() == std::vector<double>{0, 0});
  // A parameter that never had a gradient stays without one.
  const Tensor q = leaf({1.0});
  optim::SGD({q}).zero_grad();
  CHECK_FALSE(q.grad().defined());
}

TEST_CASE("optimizers train a small least-squares problem end to end") {
  Generator gen(3);
  const Tensor x = randn({64, 4}, gen, DType::float64);
  const Tensor w_true = tensor({1.0, -2.0, 0.5, 3.0}, {4, 1});
  const Tensor y = matmul(x, w_true);
  for (int which = 0; which < 3; ++which) {
    Tensor w = zeros({4, 1}, DType::float64);
    w.set_requires_grad();
    std::unique_ptr<optim::Optimizer> opt;
    if (which == 0) opt = std::make_unique<optim::SGD>(std::vector<Tensor>{w}, optim::SgdOptions{.lr = 0.1, .momentum = 0.9});
    if (which == 1) opt = std::make_unique<optim::Adam>(std::vector<Tensor>{w}, optim::AdamOptions{.lr = 0.1});
    if (which == 2) opt = std::make_unique<optim::AdamW>(std::vector<Tensor>{w}, optim::AdamWOptions{.lr = 0.1, .weight_decay = 0});
    for (int it = 0; it < 300; ++it) {
      opt->zero_grad();
      const Tensor r = matmul(x, w) - y;
      mean(r * r).backward();
      opt->step();
    }
    INFO(opt->name());
    check_close(w, w_true, 0, 1e-3);
  }
}

TEST_CASE("optimizer argument errors") {
  const Tensor p = leaf({1.0});
  CHECK_THROWS_WITH_AS(optim::SGD({}), doctest::Contains("SGD: got an empty parameter list"), Error);
  CHECK_THROWS_WITH_AS(optim::Adam({p, Tensor()}), doctest::Contains("Adam: parameter 1 is an undefined tensor"), Error);
  CHECK_THROWS_WITH_AS(optim::SGD({tensor({1, 2})}), doctest::Contains("SGD: parameter 0 must be float32 or float64, got int32"),
                       Error);
  const Tensor derived = p * 2.0;
  CHECK_THROWS_WITH_AS(optim::Adam({derived}), doctest::Contains("parameter 0 is not a leaf tensor (it was computed by 'mul')"),
                       Error);
  const Tensor wide = zeros({3, 2});
  CHECK_THROWS_WITH_AS(optim::SGD({wide.t()}), doctest::Contains("SGD: parameter 0 is not contiguous (shape [2, 3]"), Error);
  CHECK_THROWS_WITH_AS(optim::SGD({p, p}), doctest::Contains("SGD: parameters 0 and 1 share memory"), Error);
  CHECK_THROWS_WITH_AS(optim::SGD({p}, {.lr = -1}), doctest::Contains("SGD: learning rate must be finite and >= 0, got -1"),
                       Error);
  CHECK_THROWS_WITH_AS(optim::SGD({p}, {.momentum = -0.5}), doctest::Contains("SGD: momentum must be finite and >= 0"), Error);
  CHECK_THROWS_WITH_AS(optim::SGD({p}, {.weight_decay = -1}), doctest::Contains("SGD: weight_decay must be finite"), Error);
  CHECK_THROWS_WITH_AS(optim::SGD({p}, {.nesterov = true}),
                       doctest::Contains("SGD: Nesterov momentum needs momentum > 0 and dampening == 0"), Error);
  CHECK_THROWS_WITH_AS(optim::SGD({p}, {.momentum = 0.9, .dampening = 0.1, .nesterov = true}),
                       doctest::Contains("dampening 0.1"), Error);
  CHECK_THROWS_WITH_AS(optim::Adam({p}, {.beta1 = 1.0}), doctest::Contains("Adam: beta1 must be in [0, 1), got 1"), Error);
  CHECK_THROWS_WITH_AS(optim::Adam({p}, {.beta2 = -0.1}), doctest::Contains("Adam: beta2 must be in [0, 1)"), Error);
  CHECK_THROWS_WITH_AS(optim::AdamW({p}, {.eps = -1}), doctest::Contains("AdamW: eps must be finite and >= 0"), Error);
  CHECK_THROWS_WITH_AS(optim::AdamW({p}, {.weight_decay = -1}), doctest::Contains("AdamW: weight_decay must be finite"),
                       Error);
  optim::Adam adam({p});
  CHECK_THROWS_WITH_AS(adam.set_lr(std::nan("")), doctest::Contains("Adam: learning rate must be finite"), Error);
  p.set_grad(zeros({2}, DType::float64));
  CHECK_THROWS_WITH_AS(adam.step(), doctest::Contains("Adam: gradient of parameter 0 has shape [2] but the parameter has shape [1]"),
                       Error);
  p.set_grad(zeros({1}));
  CHECK_THROWS_WITH_AS(adam.step(), doctest::Contains("Adam: parameter is float64 but gradient is float32"), Error);
  CHECK(p.item() == 1.0);
}

TEST_CASE("optimizer state: export, import into a fresh optimizer, and continue identically") {
  Generator gen(11);
  const auto run = [&](optim::Optimizer& opt, const std::vector<Tensor>& ps, int steps, std::uint64_t seed) {
    Generator g(seed);
    for (int s = 0; s < steps; ++s) {
      for (std::size_t j = 0; j < ps.size(); ++j)
        ps[j].set_grad(s == 1 && j == 1 ? Tensor() : randn(ps[j].shape(), g));
      opt.step();
    }
  };
  const auto params = [&] {
    std::vector<Tensor> ps = {randn({3, 2}, gen), randn({4}, gen)};
    for (Tensor& p : ps) p.set_requires_grad();
    return ps;
  };
  for (int which = 0; which < 2; ++which) {
    const std::vector<Tensor> a = params();
    std::vector<Tensor> b = {a[0].clone().detach(), a[1].clone().detach()};
    for (Tensor& t : b) t.set_requires_grad();
    std::unique_ptr<optim::Optimizer> oa, ob;
    if (which == 0) {
      oa = std::make_unique<optim::Adam>(a, optim::AdamOptions{.lr = 0.01, .amsgrad = true});
      ob = std::make_unique<optim::Adam>(b, optim::AdamOptions{.lr = 0.5, .amsgrad = true});
    } else {
      oa = std::make_unique<optim::SGD>(a, optim::SgdOptions{.lr = 0.01, .momentum = 0.9, .nesterov = true});
      ob = std::make_unique<optim::SGD>(b, optim::SgdOptions{.lr = 0.5, .momentum = 0.9, .nesterov = true});
    }
    INFO(oa->name());
    run(*oa, a, 3, 1);
    const optim::OptimizerState s = oa->state();
    CHECK(s.scalars.at("steps") == json::parse("[3, 2]"));
    CHECK(s.tensors.front().first == (which == 0 ? "0.exp_avg" : "0.momentum_buffer"));
    // b gets a's parameters and state (lr included), then both continue with the same gradients.
    {
      NoGradGuard no_grad;
      b[0].copy_(a[0]);
      b[1].copy_(a[1]);
    }
    ob->load_state(s);
    CHECK(ob->lr() == 0.01);
    run(*oa, a, 2, 2);
    run(*ob, b, 2, 2);
    CHECK(bitwise_equal(a[0], b[0]));
    CHECK(bitwise_equal(a[1], b[1]));
    // load_state copied the buffers: a's later steps did not write into b's state.
    const optim::OptimizerState sa = oa->state(), sb = ob->state();
    REQUIRE(sa.tensors.size() == sb.tensors.size());
    for (std::size_t i = 0; i < sa.tensors.size(); ++i) {
      CHECK(bitwise_equal(sa.tensors[i].second, sb.tensors[i].second));
      CHECK_FALSE(sa.tensors[i].second.impl()->storage == sb.tensors[i].second.impl()->storage);
    }
  }
}

TEST_CASE("optimizer state: every inconsistency is refused and changes nothing") {
  const Tensor p = leaf({1.0, 2.0}), q = leaf({3.0});
  optim::Adam adam({p, q}, {.lr = 0.1});
  set_grad(p, {1.0, 1.0});
  set_grad(q, {1.0});
  adam.step();
  const optim::OptimizerState good = adam.state();
  const Tensor p2 = leaf({0.0, 0.0}), q2 = leaf({0.0});
  optim::Adam fresh({p2, q2}, {.lr = 0.2});
  const auto fails = [&](const optim::OptimizerState& s, const char* message) {
    INFO("expected: ", message);
    CHECK_THROWS_WITH_AS(fresh.load_state(s), doctest::Contains(message), Error);
    CHECK(fresh.lr() == 0.2);
    CHECK(fresh.step_count(0) == 0);
    CHECK(fresh.state().tensors.empty());
  };
  optim::OptimizerState s = good;
  s.scalars["type"] = "SGD";
  fails(s, "Adam: the state belongs to a SGD optimizer, not Adam");
  s = good;
  s.scalars["hyperparameters"]["beta2"] = 0.99;
  fails(s, "Adam: the state was saved with beta2 = 0.99 but this optimizer has beta2 = 0.999");
  s = good;
  s.scalars["hyperparameters"]["momentum"] = 0.9;
  fails(s, "hyper-parameters this optimizer does not know");
  s = good;
  s.scalars["steps"] = json::parse("[1]");
  fails(s, "Adam: optimizer state has step counts for 1 parameters, this optimizer has 2");
  s = good;
  s.scalars["steps"] = json::parse("[1, -1]");
  fails(s, "step counts must be non-negative integers, got -1");
  s = good;
  s.scalars["lr"] = -3.0;
  fails(s, "Adam: learning rate must be finite and >= 0, got -3");
  s = good;
  s.tensors.emplace_back("2.exp_avg", zeros({1}, DType::float64));
  fails(s, "unexpected optimizer state tensor '2.exp_avg' (expected <parameter index>.<buffer> with an index below 2)");
  s = good;
  s.tensors.emplace_back("0.momentum_buffer", zeros({2}, DType::float64));
  fails(s, "Adam keeps no buffer named 'momentum_buffer'");
  s = good;
  s.tensors.emplace_back("x.exp_avg", zeros({2}, DType::float64));
  fails(s, "unexpected optimizer state tensor 'x.exp_avg'");
  s = good;
  s.tensors.push_back(s.tensors.front());
  fails(s, "optimizer state tensor '0.exp_avg' appears twice");
  s = good;
  s.tensors[0].second = zeros({3}, DType::float64);
  fails(s, "optimizer state tensor '0.exp_avg' is float64 [3] but parameter 0 is float64 [2]");
  s = good;
  s.tensors[0].second = zeros({2});
  fails(s, "'0.exp_avg' is float32 [2] but parameter 0 is float64 [2]");
  s = good;
  s.tensors.erase(s.tensors.begin() + 1);
  fails(s, "optimizer state for parameter 0 has taken steps but lacks '0.exp_avg_sq'");
  s = good;
  s.scalars["steps"] = json::parse("[1, 0]");
  fails(s, "optimizer state for parameter 1 has taken no step but has '1.exp_avg'");
  CHECK_NOTHROW(fresh.check_state(good));
}

TEST_CASE("optimizer updates and clipping give identical bits on 1 and 2 threads") {
  Generator gen(5);
  const Tensor init = randn({300, 257}, gen);  // above the parallel grain
  const Tensor grad = randn({300, 257}, gen);
  std::vector<Tensor> results;
  std::vector<double> norms;
  const int saved = num_threads();
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    Tensor p = init.clone();
    p.set_requires_grad();
    optim::Adam adam({p}, {.lr = 0.01, .weight_decay = 0.01, .amsgrad = true});
    optim::SGD sgd({p}, {.lr = 0.01, .momentum = 0.9});
    for (int s = 0; s < 3; ++s) {
      p.set_grad(grad.clone());
      norms.push_back(optim::clip_grad_norm({p}, 10.0));
      adam.step();
      sgd.step();
    }
    results.push_back(p);
  }
  set_num_threads(saved);
  CHECK(bitwise_equal(results[0], results[1]));
  for (int s = 0; s < 3; ++s) CHECK(norms[static_cast<std::size_t>(s)] == norms[static_cast<std::size_t>(s + 3)]);
}
