// tests/io/checkpoint_test.cpp — checkpoints: a resumed run matches an uninterrupted one bitwise; bad checkpoints change nothing.
#include <recsys/io/checkpoint.hpp>
#include <recsys/optim/adam.hpp>
#include <recsys/optim/clip_grad.hpp>
#include <recsys/optim/sgd.hpp>

#include <filesystem>
#include <memory>

#include "test_util.hpp"

using namespace recsys;
using recsys::testing::bitwise_equal;
using recsys::testing::TempDir;
namespace fs = std::filesystem;

namespace {

/// A small regression model y = x W + b trained with random batches from its own Generator.
struct Run {
  Tensor w, b;
  std::unique_ptr<optim::Optimizer> opt;
  std::unique_ptr<optim::LRScheduler> sched;
  Generator gen;

  Run(bool adam, std::uint64_t init_seed) : gen(1234) {
    Generator init(init_seed);
    w = randn({4, 3}, init);
    b = randn({3}, init);
    w.set_requires_grad();
    b.set_requires_grad();
    if (adam) {
      opt = std::make_unique<optim::Adam>(std::vector<Tensor>{w, b},
                                          optim::AdamOptions{.lr = 0.05, .weight_decay = 0.01, .amsgrad = true});
      sched = std::make_unique<optim::CosineAnnealingLR>(*opt, 4, 0.001);
    } else {
      opt = std::make_unique<optim::SGD>(std::vector<Tensor>{w, b},
                                         optim::SgdOptions{.lr = 0.1, .momentum = 0.9, .nesterov = true});
      sched = std::make_unique<optim::StepLR>(*opt, 2, 0.5);
    }
  }
  NamedTensors named() const { return {{"dense.weight", w}, {"dense.bias", b}}; }

  void epoch() {
    for (int s = 0; s < 3; ++s) {
      const Tensor x = randn({8, 4}, gen);
      const Tensor y = randn({8, 3}, gen);
      opt->zero_grad();
      const Tensor r = matmul(x, w) + b - y;
      mean(r * r).backward();
      optim::clip_grad_norm({w, b}, 1.0);
      opt->step();
    }
    sched->step();
  }
};

}  // namespace

TEST_CASE("checkpoint: a resumed run matches the uninterrupted run bitwise") {
  for (bool adam : {true, false}) {
    INFO((adam ? "Adam + CosineAnnealingLR" : "SGD Nesterov + StepLR"));
    Run straight(adam, 1);
    for (int e = 0; e < 6; ++e) straight.epoch();

    TempDir dir("ckpt");
    const std::string path = dir.file("ckpt.safetensors");
    {
      Run first(adam, 1);
      for (int e = 0; e < 3; ++e) first.epoch();
      io::CheckpointInfo info{.epoch = 3, .step = 9, .user = {{"run", "resume-test"}}};
      info.save_rng(first.gen);
      io::save_checkpoint(path, first.named(), *first.opt, info, first.sched.get());
    }
    Run resumed(adam, 77);  // different initial weights and generator: all must come from the file
    resumed.gen.set_state(5, 5);
    const io::CheckpointInfo info = io::load_checkpoint(path, resumed.named(), *resumed.opt, resumed.sched.get());
    CHECK(info.epoch == 3);
    CHECK(info.step == 9);
    CHECK(info.user.at("run") == "resume-test");
    info.restore_rng(resumed.gen);
    CHECK(resumed.sched->epoch() == 3);
    for (int e = 3; e < 6; ++e) resumed.epoch();

    CHECK(bitwise_equal(resumed.w, straight.w));
    CHECK(bitwise_equal(resumed.b, straight.b));
    CHECK(resumed.opt->lr() == straight.opt->lr());
    CHECK(resumed.gen.offset() == straight.gen.offset());
    const optim::OptimizerState a = straight.opt->state(), b = resumed.opt->state();
    CHECK(a.scalars == b.scalars);
    REQUIRE(a.tensors.size() == b.tensors.size());
    for (std::size_t i = 0; i < a.tensors.size(); ++i) CHECK(bitwise_equal(a.tensors[i].second, b.tensors[i].second));
  }
}

TEST_CASE("checkpoint: the file is plain safetensors with prefixed names and metadata") {
  TempDir dir("ckpt");
  const std::string path = dir.file("c.safetensors");
  Run run(true, 1);
  run.epoch();
  io::save_checkpoint(path, run.named(), *run.opt, {.epoch = 1, .step = 3, .user = {}});
  const io::SafetensorsFile f = io::read_safetensors(path);
  std::vector<std::string> names;
  for (const auto& [n, t] : f.tensors) names.push_back(n);
  CHECK(names == std::vector<std::string>{"model.dense.weight", "model.dense.bias", "optim.0.exp_avg", "optim.0.exp_avg_sq",
                                          "optim.0.max_exp_avg_sq", "optim.1.exp_avg", "optim.1.exp_avg_sq",
                                          "optim.1.max_exp_avg_sq"});
  CHECK(f.metadata.at("format") == "recsys.checkpoint");
  CHECK(f.metadata.at("epoch") == "1");
  CHECK(json::parse(f.metadata.at("optimizer")).at("type").as_string() == "Adam");
  CHECK(f.metadata.count("scheduler") == 0);
}

TEST_CASE("checkpoint: a bad checkpoint changes neither model nor optimizer") {
  TempDir dir("ckpt");
  const std::string good = dir.file("good.safetensors");
  Run source(true, 1);
  source.epoch();
  io::save_checkpoint(good, source.named(), *source.opt, {.epoch = 1, .step = 3, .user = {}}, source.sched.get());
  const io::SafetensorsFile contents = io::read_safetensors(good);

  const auto fails = [&](const std::string& path, const char* message, bool adam = true, bool with_scheduler = true) {
    Run target(adam, 99);
    const Tensor w0 = target.w.clone().detach(), b0 = target.b.clone().detach();
    const double lr0 = target.opt->lr();
    INFO("expected: ", message);
    CHECK_THROWS_WITH_AS(io::load_checkpoint(path, target.named(), *target.opt, with_scheduler ? target.sched.get() : nullptr),
                         doctest::Contains(message), Error);
    CHECK(bitwise_equal(target.w, w0));
    CHECK(bitwise_equal(target.b, b0));
    CHECK(target.opt->lr() == lr0);
    CHECK(target.opt->step_count(0) == 0);
    CHECK(target.sched->epoch() == 0);
  };
  const auto variant = [&](const std::string& name, auto&& edit) {
    io::SafetensorsFile f = contents;
    edit(f);
    const std::string path = dir.file(name);
    io::save_safetensors(path, f.tensors, f.metadata);
    return path;
  };

  fails(good, "SGD: the state belongs to a Adam optimizer, not SGD", false);
  fails(variant("shape.st", [](io::SafetensorsFile& f) { f.tensors[0].second = zeros({3, 4}); }),
        "tensor 'model.dense.weight': shape [3, 4] in the file but [4, 3] in the destination");
  fails(variant("missing.st", [](io::SafetensorsFile& f) { f.tensors.erase(f.tensors.begin() + 1); }),
        "missing tensor 'model.dense.bias'");
  fails(variant("extra.st", [](io::SafetensorsFile& f) { f.tensors.emplace_back("stray", zeros({1})); }),
        "unexpected tensor 'stray' (neither a model parameter nor optimizer state)");
  fails(variant("optim_shape.st", [](io::SafetensorsFile& f) { f.tensors.back().second = zeros({7}); }),
        "Adam: optimizer state tensor '1.max_exp_avg_sq' is float32 [7] but parameter 1 is float32 [3]");
  fails(variant("plain.st", [](io::SafetensorsFile& f) { f.metadata.erase("format"); }), "is not a recsys checkpoint");
  fails(variant("version.st", [](io::SafetensorsFile& f) { f.metadata["format_version"] = "9"; }),
        "unsupported format_version '9' (expected 1)");
  fails(variant("epoch.st", [](io::SafetensorsFile& f) { f.metadata["epoch"] = "three"; }),
        "metadata 'epoch' must be an integer, got 'three'");
  fails(variant("noepoch.st", [](io::SafetensorsFile& f) { f.metadata.erase("epoch"); }), "metadata has no 'epoch'");
  fails(variant("json.st", [](io::SafetensorsFile& f) { f.metadata["optimizer"] = "{"; }),
        "metadata 'optimizer' is not valid JSON: json: line 1, column 2");
  fails(variant("sched.st", [](io::SafetensorsFile& f) { f.metadata.erase("scheduler"); }), "metadata has no 'scheduler'");
  fails(variant("sched_type.st", [](io::SafetensorsFile& f) { f.metadata["scheduler"] = R"({"type": "StepLR"})"; }),
        "CosineAnnealingLR: the state belongs to a StepLR");
  // A load without a scheduler ignores the recorded one.
  Run target(true, 99);
  CHECK(io::load_checkpoint(good, target.named(), *target.opt).epoch == 1);
  CHECK(bitwise_equal(target.w, source.w));
}
