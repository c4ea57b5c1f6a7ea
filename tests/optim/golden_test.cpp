// tests/optim/golden_test.cpp — optimizer, clipping and scheduler trajectories against PyTorch 1.13 (tests/golden/optim_fixtures.py).
#include <recsys/io/safetensors.hpp>
#include <recsys/optim/adam.hpp>
#include <recsys/optim/clip_grad.hpp>
#include <recsys/optim/lr_scheduler.hpp>
#include <recsys/optim/sgd.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "test_util.hpp"

using namespace recsys;

namespace {

std::string fixture(const std::string& name) { return std::string(RECSYS_TEST_FIXTURES) + "/optim/" + name + ".safetensors"; }

double option(const json::Value& o, const char* key, double fallback) {
  const json::Value* v = o.find(key);
  return v ? v->as_double() : fallback;
}
bool flag(const json::Value& o, const char* key) {
  const json::Value* v = o.find(key);
  return v && v->as_bool();
}

std::unique_ptr<optim::Optimizer> make_optimizer(const std::string& name, const json::Value& o,
                                                 std::vector<Tensor> params) {
  if (name == "SGD")
    return std::make_unique<optim::SGD>(
        std::move(params), optim::SgdOptions{.lr = option(o, "lr", 1e-2),
                                             .momentum = option(o, "momentum", 0),
                                             .dampening = option(o, "dampening", 0),
                                             .weight_decay = option(o, "weight_decay", 0),
                                             .nesterov = flag(o, "nesterov")});
  if (name == "Adam")
    return std::make_unique<optim::Adam>(
        std::move(params), optim::AdamOptions{.lr = option(o, "lr", 1e-3),
                                              .beta1 = option(o, "beta1", 0.9),
                                              .beta2 = option(o, "beta2", 0.999),
                                              .eps = option(o, "eps", 1e-8),
                                              .weight_decay = option(o, "weight_decay", 0),
                                              .amsgrad = flag(o, "amsgrad")});
  REQUIRE(name == "AdamW");
  return std::make_unique<optim::AdamW>(
      std::move(params), optim::AdamWOptions{.lr = option(o, "lr", 1e-3),
                                             .beta1 = option(o, "beta1", 0.9),
                                             .beta2 = option(o, "beta2", 0.999),
                                             .eps = option(o, "eps", 1e-8),
                                             .weight_decay = option(o, "weight_decay", 1e-2),
                                             .amsgrad = flag(o, "amsgrad")});
}

/// Replays one fixture: same start, same gradients (absent ones left undefined), same clipping;
/// every parameter after every step must match PyTorch within rtol (and a small atol near zero).
void replay(const std::string& name, double rtol) {
  const std::string path = fixture(name);
  if (!std::filesystem::exists(path)) {
    MESSAGE("skipped: ", path, " is missing (run tests/golden/optim_fixtures.py)");
    return;
  }
  const io::SafetensorsFile f = io::read_safetensors(path);
  const std::map<std::string, Tensor> t(f.tensors.begin(), f.tensors.end());
  const json::Value options = json::parse(f.metadata.at("options"));
  const int steps = std::stoi(f.metadata.at("steps"));
  const std::string clip = f.metadata.at("clip");

  std::vector<Tensor> params;
  for (int j = 0; t.count("param" + std::to_string(j) + ".init"); ++j) {
    params.push_back(t.at("param" + std::to_string(j) + ".init").clone());
    params.back().set_requires_grad();
  }
  REQUIRE(params.size() == 2);
  const auto opt = make_optimizer(f.metadata.at("optimizer"), options, params);
  for (int k = 0; k < steps; ++k) {
    for (std::size_t j = 0; j < params.size(); ++j) {
      const std::string g = "grad" + std::to_string(k) + "." + std::to_string(j);
      params[j].set_grad(t.count(g) ? t.at(g).clone() : Tensor());
    }
    if (!clip.empty()) {
      const double norm = optim::clip_grad_norm(params, std::stod(clip));
      const double expected = t.at("norm" + std::to_string(k)).item();
      INFO(name, " step ", k, ": norm ", norm, " vs PyTorch ", expected);
      CHECK(std::fabs(norm - expected) <= 1e-5 * std::fabs(expected));
    }
    opt->step();
    for (std::size_t j = 0; j < params.size(); ++j) {
      INFO(name, ": parameter ", j, " after step ", k);
      recsys::testing::check_close(params[j], t.at("param" + std::to_string(k) + "." + std::to_string(j)), rtol,
                                   rtol * 0.1);
    }
  }
}

}  // namespace

TEST_CASE("optim golden: one Adam step matches PyTorch") { replay("adam_1step", 1e-5); }
TEST_CASE("optim golden: one SGD-momentum step matches PyTorch") { replay("sgd_momentum_1step", 1e-5); }
TEST_CASE("optim golden: SGD momentum over four steps") { replay("sgd_momentum_4steps", 1e-5); }
TEST_CASE("optim golden: Adam with a skipped parameter (per-parameter step counts)") { replay("adam_5steps", 1e-5); }
TEST_CASE("optim golden: Adam in float64 agrees to 1e-12") { replay("adam_5steps_f64", 1e-12); }
TEST_CASE("optim golden: Adam with AMSGrad and L2 weight decay") { replay("adam_amsgrad_wd", 1e-5); }
TEST_CASE("optim golden: AdamW (decoupled weight decay)") { replay("adamw", 1e-5); }
TEST_CASE("optim golden: AdamW with AMSGrad") { replay("adamw_amsgrad", 1e-5); }
TEST_CASE("optim golden: SGD Nesterov with weight decay") { replay("sgd_nesterov_wd", 1e-5); }
TEST_CASE("optim golden: SGD with dampening and a skipped parameter") { replay("sgd_dampening", 1e-5); }
TEST_CASE("optim golden: plain SGD with weight decay") { replay("sgd_plain_wd", 1e-5); }
TEST_CASE("optim golden: gradient clipping by global norm, then SGD") { replay("sgd_clip", 1e-5); }
TEST_CASE("optim golden: clipping above the norm changes nothing") { replay("adam_clip_noop", 1e-5); }

TEST_CASE("optim golden: StepLR, ExponentialLR and CosineAnnealingLR rates match PyTorch") {
  const std::string path = fixture("schedulers");
  if (!std::filesystem::exists(path)) {
    MESSAGE("skipped: ", path, " is missing (run tests/golden/optim_fixtures.py)");
    return;
  }
  const io::SafetensorsFile f = io::read_safetensors(path);
  const std::map<std::string, Tensor> t(f.tensors.begin(), f.tensors.end());
  const auto check = [&](const std::string& name, optim::LRScheduler& s, optim::Optimizer& o) {
    const std::vector<double> expected = t.at(name).to_vector<double>();
    for (std::size_t e = 0; e < expected.size(); ++e) {
      INFO(name, " epoch ", e, ": ", o.lr(), " vs PyTorch ", expected[e]);
      CHECK(std::fabs(o.lr() - expected[e]) <= 1e-5 * std::fabs(expected[e]) + 1e-12);
      s.step();
    }
  };
  const Tensor p = zeros({1});
  optim::SGD a({p}, {.lr = 0.1}), b({p}, {.lr = 0.1}), c({p}, {.lr = 0.1});
  optim::StepLR step(a, 3, 0.5);
  optim::ExponentialLR exponential(b, 0.9);
  optim::CosineAnnealingLR cosine(c, 5, 1e-4);
  check("step", step, a);
  check("exponential", exponential, b);
  check("cosine", cosine, c);
}
