// tests/nn/module_to_test.cpp — Module::to(dtype) converts parameters in place (an optimizer built before or after it trains the model); weight files with NaN or infinity refused both ways.
#include <doctest/doctest.h>

#include <filesystem>
#include <limits>

#include <recsys/nn/dense.hpp>
#include <recsys/nn/serialize.hpp>
#include <recsys/nn/sequential.hpp>
#include <recsys/optim/adam.hpp>
#include <recsys/optim/sgd.hpp>

#include "test_util.hpp"

using namespace recsys;

namespace {

/// One SGD/Adam step of a float64 regression on `net`; returns the loss before and after.
std::pair<double, double> module_to_step(nn::Sequential<nn::Dense>& net, optim::Optimizer& opt) {
  Generator g(3);
  const Tensor x = randn({8, 3}, g, DType::float64);
  const Tensor y = randn({8, 1}, g, DType::float64);
  opt.zero_grad();
  Tensor loss = mse_loss(net(x), y);
  const double before = loss.item<double>();
  loss.backward();
  opt.step();
  NoGradGuard no_grad;
  return {before, mse_loss(net(x), y).item<double>()};
}

}  // namespace

TEST_CASE("Module::to(dtype) keeps parameter identity: an optimizer built before to() still trains the model") {
  manual_seed(21);
  nn::Sequential<nn::Dense> net(nn::Dense(3, 1));
  const std::vector<Tensor> before = net.parameters();
  optim::SGD opt(net.parameters(), {.lr = 0.1});
  net.to(DType::float64);
  const std::vector<Tensor> after = net.parameters();
  REQUIRE(after.size() == before.size());
  for (std::size_t i = 0; i < after.size(); ++i) {
    CHECK(after[i].impl() == before[i].impl());  // the same tensor, not a replacement
    CHECK(before[i].dtype() == DType::float64);  // so every handle sees the conversion
    CHECK(opt.params()[i].dtype() == DType::float64);
    CHECK(after[i].requires_grad());
    CHECK(after[i].is_leaf());
  }
  const Tensor w0 = after[0].clone();
  const auto [loss0, loss1] = module_to_step(net, opt);
  CHECK(loss1 < loss0);
  CHECK_FALSE(recsys::testing::bitwise_equal(after[0], w0));  // the step changed the model's own weight
}

TEST_CASE("Module::to(dtype) then an optimizer: trains as before, and a gradient is converted with its parameter") {
  manual_seed(22);
  nn::Sequential<nn::Dense> net(nn::Dense(3, 1));
  {
    Generator g(4);
    sum(net(randn({2, 3}, g))).backward();  // float32 gradients
  }
  net.to(DType::float64);
  for (const Tensor& p : net.parameters()) {
    REQUIRE(p.grad().defined());
    CHECK(p.grad().dtype() == DType::float64);
  }
  optim::Adam opt(net.parameters(), {.lr = 0.05});
  const auto [loss0, loss1] = module_to_step(net, opt);
  CHECK(loss1 < loss0);
  // The same dtype again changes nothing (same storage).
  const void* data = net.parameters()[0].raw_data();
  net.to(DType::float64);
  CHECK(net.parameters()[0].raw_data() == data);
}

TEST_CASE("Module::to(dtype) after Adam has state: the next step fails loudly instead of training nothing") {
  manual_seed(23);
  nn::Sequential<nn::Dense> net(nn::Dense(3, 1));
  optim::Adam opt(net.parameters(), {.lr = 0.05});
  {
    Generator g(5);
    opt.zero_grad();
    mse_loss(net(randn({4, 3}, g)), zeros({4, 1})).backward();
    opt.step();  // float32 moment buffers
  }
  net.to(DType::float64);
  Generator g(6);
  opt.zero_grad();
  mse_loss(net(randn({4, 3}, g, DType::float64)), zeros({4, 1}, DType::float64)).backward();
  CHECK_THROWS_AS(opt.step(), Error);
}

TEST_CASE("save_weights refuses a non-finite parameter, load_weights a file holding one, naming the tensor") {
  recsys::testing::TempDir dir("weights_finite");
  manual_seed(24);
  nn::Sequential<nn::Dense> net(nn::Dense(3, 2));
  const std::string good = dir.file("good.safetensors"), bad = dir.file("bad.safetensors");
  nn::save_weights(net, good);
  const std::vector<Tensor> params = net.parameters();
  const Tensor before = params[0].clone();

  // A file with a NaN next to a sound one: refused, and the module keeps its weights.
  NamedTensors tensors = io::load_safetensors(good);
  tensors[0].second.data<float>()[4] = std::numeric_limits<float>::quiet_NaN();
  io::save_safetensors(bad, tensors);
  const std::string load_error = "load_weights: '" + bad + "': tensor '" + tensors[0].first +
                                 "' holds a non-finite value (nan at [";
  CHECK_THROWS_WITH_AS(nn::load_weights(net, bad), doctest::Contains(load_error.c_str()), Error);
  CHECK(recsys::testing::bitwise_equal(params[0], before));
  CHECK_NOTHROW(nn::load_weights(net, good));

  // A parameter gone infinite is never written.
  params[0].data<float>()[5] = -std::numeric_limits<float>::infinity();
  const std::string never = dir.file("never.safetensors");
  const std::string save_error = "save_weights: not saving '" + never + "': tensor '" + tensors[0].first +
                                 "' holds a non-finite value (-inf at [2, 1])";
  CHECK_THROWS_WITH_AS(nn::save_weights(net, never), doctest::Contains(save_error.c_str()), Error);
  CHECK_FALSE(std::filesystem::exists(never));
}
