// tests/optim/lr_scheduler_test.cpp — StepLR, ExponentialLR, CosineAnnealingLR by hand, resuming with set_epoch/state, errors.
#include <recsys/optim/lr_scheduler.hpp>
#include <recsys/optim/sgd.hpp>

#include "test_util.hpp"

using namespace recsys;

TEST_CASE("StepLR, ExponentialLR and CosineAnnealingLR follow their formulas") {
  const Tensor p = zeros({1});
  optim::SGD a({p}, {.lr = 1.0}), b({p}, {.lr = 1.0}), c({p}, {.lr = 1.0});
  optim::StepLR step(a, 2, 0.5);
  optim::ExponentialLR exponential(b, 0.5);
  optim::CosineAnnealingLR cosine(c, 4, 0.2);
  const double step_lr[] = {1, 1, 0.5, 0.5, 0.25};
  const double exp_lr[] = {1, 0.5, 0.25, 0.125, 0.0625};
  const double cos_lr[] = {1, 0.2 + 0.8 * (1 + std::sqrt(0.5)) / 2, 0.6, 0.2 + 0.8 * (1 - std::sqrt(0.5)) / 2, 0.2};
  for (int e = 0; e < 5; ++e) {
    CHECK(step.epoch() == e);
    CHECK(a.lr() == step_lr[e]);
    CHECK(b.lr() == exp_lr[e]);
    CHECK(c.lr() == doctest::Approx(cos_lr[e]).epsilon(1e-12));
    step.step();
    exponential.step();
    cosine.step();
  }
  CHECK(c.lr() == doctest::Approx(cos_lr[3]).epsilon(1e-12));  // past t_max the cosine climbs back
}

TEST_CASE("schedulers resume at an epoch with exactly the uninterrupted rate") {
  const Tensor p = zeros({1});
  optim::SGD a({p}, {.lr = 0.1}), b({p}, {.lr = 0.1});
  optim::CosineAnnealingLR run(a, 10), resumed(b, 10);
  for (int e = 0; e < 7; ++e) run.step();
  const json::Value state = run.state();
  CHECK(state.at("epoch").as_int64() == 7);
  resumed.load_state(state);
  CHECK(b.lr() == a.lr());
  run.step();
  resumed.step();
  CHECK(b.lr() == a.lr());
  resumed.set_epoch(0);
  CHECK(b.lr() == 0.1);
}

TEST_CASE("scheduler errors") {
  const Tensor p = zeros({1});
  optim::SGD o({p}, {.lr = 0.1});
  CHECK_THROWS_WITH_AS(optim::StepLR(o, 0), doctest::Contains("StepLR: step_size must be >= 1, got 0"), Error);
  CHECK_THROWS_WITH_AS(optim::StepLR(o, 2, -1), doctest::Contains("StepLR: gamma must be finite and >= 0"), Error);
  CHECK_THROWS_WITH_AS(optim::ExponentialLR(o, std::nan("")), doctest::Contains("ExponentialLR: gamma must be finite"), Error);
  CHECK_THROWS_WITH_AS(optim::CosineAnnealingLR(o, 0), doctest::Contains("CosineAnnealingLR: t_max must be >= 1"), Error);
  CHECK_THROWS_WITH_AS(optim::CosineAnnealingLR(o, 5, -1), doctest::Contains("eta_min must be finite and >= 0"), Error);
  optim::StepLR s(o, 2);
  CHECK_THROWS_WITH_AS(s.set_epoch(-1), doctest::Contains("StepLR: epoch must be >= 0, got -1"), Error);
  optim::ExponentialLR other(o, 0.5);
  CHECK_THROWS_WITH_AS(s.load_state(other.state()), doctest::Contains("StepLR: the state belongs to a ExponentialLR"), Error);
  json::Value bad = s.state();
  bad["epoch"] = -2;
  CHECK_THROWS_WITH_AS(s.load_state(bad), doctest::Contains("needs a non-negative integer \"epoch\""), Error);
  bad = s.state();
  bad["base_lr"] = "x";
  CHECK_THROWS_WITH_AS(s.load_state(bad), doctest::Contains("needs a non-negative \"base_lr\""), Error);
  CHECK_THROWS_WITH_AS(s.load_state(json::Value(3)), doctest::Contains("must be an object with a \"type\""), Error);
  CHECK(s.epoch() == 0);
}
