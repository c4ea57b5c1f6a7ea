// tests/cuda/layers_test.cpp — embedding, conv1d, maxpool1d, dropout, lstm and the optimizers on the GPU against the CPU; the reference model's first Adam steps on both devices.
#include "cuda_test_util.hpp"

#include <recsys/nn/conv1d.hpp>
#include <recsys/nn/dense.hpp>
#include <recsys/nn/embedding.hpp>
#include <recsys/nn/lstm.hpp>
#include <recsys/nn/maxpool1d.hpp>
#include <recsys/nn/sequential.hpp>
#include <recsys/ops/conv1d.hpp>
#include <recsys/ops/dropout.hpp>
#include <recsys/ops/embedding.hpp>
#include <recsys/ops/lstm.hpp>
#include <recsys/ops/maxpool1d.hpp>
#include <recsys/optim/adam.hpp>
#include <recsys/optim/clip_grad.hpp>
#include <recsys/optim/sgd.hpp>

#include "recsys/cuda/runtime.cuh"

using namespace recsys;
using recsys::autograd::TensorList;
using recsys::cuda_testing::check_matches;
using recsys::cuda_testing::compare_with_cpu;
using recsys::cuda_testing::kGpu;
using recsys::cuda_testing::kSizes;

TEST_CASE("embedding lookup and both gradient algorithms match the CPU, padding and repeated ids included") {
  Generator g(51);
  for (std::int64_t dim : kSizes) {
    for (DType it : {DType::int32, DType::int64}) {
      const Tensor weight = randn({50, dim}, g);
      const Tensor ids = randint(0, 50, {7, 33}, g, it);  // 231 ids over 50 rows: many repeats
      const Tensor ids_g = ids.to(kGpu);
      auto f = [&](const TensorList& in) { return embedding(in[0], in[0].device().is_cuda() ? ids_g : ids, 3); };
      // deterministic (sorted) gradient: the CPU's order of additions, so the same bits
      compare_with_cpu("embedding dim=" + std::to_string(dim), f, {weight}, false, 1e-7);
      cuda::set_embedding_backward(cuda::EmbeddingBackward::atomic);
      compare_with_cpu("embedding atomic dim=" + std::to_string(dim), f, {weight});
      cuda::set_embedding_backward(cuda::EmbeddingBackward::deterministic);
    }
  }
}

TEST_CASE("embedding reports the first invalid id on the GPU as on the CPU") {
  const Tensor w = zeros({10, 4}, kGpu);
  const Tensor ids = tensor({std::int64_t{1}, std::int64_t{12}, std::int64_t{-1}}).to(kGpu);
  CHECK_THROWS_WITH_AS(embedding(w, ids), doctest::Contains("12"), recsys::Error);
}

TEST_CASE("conv1d on channels-last input matches the CPU, valid and same padding, strides") {
  Generator g(52);
  for (std::int64_t t : {7, 33, 129}) {
    for (std::int64_t stride : {1, 2}) {
      const Tensor x = randn({3, t, 33}, g), w = randn({3, 33, 7}, g) * 0.2, b = randn({7}, g);
      const std::string tag = " T=" + std::to_string(t) + " stride " + std::to_string(stride);
      compare_with_cpu("conv1d valid" + tag, [&](const TensorList& in) { return conv1d(in[0], in[1], in[2], stride); },
                       {x, w, b});
      compare_with_cpu("conv1d same" + tag,
                       [&](const TensorList& in) { return conv1d(in[0], in[1], in[2], stride, "same"); }, {x, w, b});
    }
  }
}

TEST_CASE("maxpool1d matches the CPU, overlapping windows and ties included") {
  Generator g(53);
  for (std::int64_t c : kSizes) {
    const Tensor x = randint(0, 4, {2, 33, c}, g, DType::float32);  // ties everywhere
    compare_with_cpu("maxpool1d pool 2 C=" + std::to_string(c), [](const TensorList& in) { return maxpool1d(in[0], 2); },
                     {x}, false, 0.0);
    compare_with_cpu("maxpool1d pool 3 stride 1 C=" + std::to_string(c),
                     [](const TensorList& in) { return maxpool1d(in[0], 3, 1); }, {x}, false, 0.0);
  }
}

TEST_CASE("dropout draws the same mask on both devices from the same seed") {
  for (std::int64_t n : kSizes) {
    Generator g(54);
    const Tensor x = randn({n, 33}, g);
    Generator gc(99), gg(99);
    const Tensor yc = dropout(x, 0.25, gc), yg = dropout(x.to(kGpu), 0.25, gg);
    check_matches(yg, yc, 0.0, "dropout n=" + std::to_string(n));
    CHECK(gc.offset() == gg.offset());
  }
}

TEST_CASE("lstm forward and backward through time match the CPU") {
  Generator g(55);
  for (std::int64_t b : {1, 7, 33}) {
    for (std::int64_t h : {1, 7, 33}) {
      const Tensor x = randn({b, 9, 5}, g), wih = randn({5, 4 * h}, g) * 0.3, whh = randn({h, 4 * h}, g) * 0.3,
                   bias = randn({4 * h}, g) * 0.1, h0 = randn({b, h}, g), c0 = randn({b, h}, g);
      const std::string tag = " B=" + std::to_string(b) + " H=" + std::to_string(h);
      compare_with_cpu("lstm output" + tag,
                       [](const TensorList& in) { return lstm(in[0], in[1], in[2], in[3], in[4], in[5]).output; },
                       {x, wih, whh, bias, h0, c0});
      compare_with_cpu("lstm last c" + tag, [](const TensorList& in) { return lstm(in[0], in[1], in[2], in[3]).c; },
                       {x, wih, whh, bias});
    }
  }
}

namespace {

/// Output, last h, last c, then the gradients of all six inputs, of one lstm call on the GPU under a
/// loss that reaches it through all three results (so dL/dh_{T-1} and dL/dc_{T-1} arrive too). w_hh
/// is given as its transpose (4H, H) and read through a transposed view.
TensorList lstm_on_gpu(const TensorList& values) {
  TensorList leaves;
  for (const Tensor& v : values) leaves.push_back(v.to(kGpu).set_requires_grad());
  const LstmResult r = lstm(leaves[0], leaves[1], leaves[2].t(), leaves[3], leaves[4], leaves[5]);
  Generator u(7);
  auto weights = [&](const Tensor& t) { return randn(t.shape(), u).to(kGpu); };
  (sum(r.output * weights(r.output)) + sum(r.h * weights(r.h)) + sum(r.c * weights(r.c))).backward();
  TensorList out{r.output.detach(), r.h.detach(), r.c.detach()};
  for (const Tensor& l : leaves) out.push_back(l.grad());
  return out;
}

}  // namespace

TEST_CASE("the persistent lstm recurrence matches the CPU and the stepwise recurrence, forward and backward") {
  Generator g(57);
  struct Case {
    std::int64_t b, h, t;
    DType dtype = DType::float32;
  };
  // Batch: one row, odd, one pass of 32 rows and one more, many passes. Hidden: one unit, odd, past a
  // group of 8, and 300 (both kernels then need more than the default 48 KB of shared memory). T = 1
  // has no recurrent step at all.
  const Case cases[] = {{1, 1, 9},   {7, 7, 9},     {33, 33, 9},   {129, 129, 5},
                        {1000, 7, 4}, {5, 300, 4}, {33, 128, 1}, {7, 33, 9, DType::float64}};
  for (const Case& c : cases) {
    const double scale = 1.0 / std::sqrt(static_cast<double>(c.h));
    const Tensor x = randn({c.b, c.t, 5}, g, c.dtype), wih = randn({5, 4 * c.h}, g, c.dtype) * 0.3;
    const Tensor whh_t = randn({4 * c.h, c.h}, g, c.dtype) * scale, bias = randn({4 * c.h}, g, c.dtype) * 0.1;
    const Tensor h0 = randn({c.b, c.h}, g, c.dtype), c0 = randn({c.b, c.h}, g, c.dtype);
    const std::string tag = " B=" + std::to_string(c.b) + " H=" + std::to_string(c.h) + " T=" + std::to_string(c.t) +
                            (c.dtype == DType::float64 ? " float64" : "");
    {
      const cuda::LstmRecurrenceGuard persistent(cuda::LstmRecurrence::persistent);
      const std::int64_t before = cuda::lstm_persistent_launches();
      compare_with_cpu("persistent lstm output" + tag,
                       [](const TensorList& in) { return lstm(in[0], in[1], in[2].t(), in[3], in[4], in[5]).output; },
                       {x, wih, whh_t, bias, h0, c0});
      compare_with_cpu("persistent lstm last c, zero h0 and c0" + tag,
                       [](const TensorList& in) { return lstm(in[0], in[1], in[2], in[3]).c; },
                       {x, wih, whh_t.t().contiguous(), bias});
      INFO("persistent launches", tag);
      CHECK(cuda::lstm_persistent_launches() - before == 4);  // forward and backward of both GPU calls
    }
    // The same dot products in the same order: only the cell maths may round differently.
    const TensorList stepwise = lstm_on_gpu({x, wih, whh_t, bias, h0, c0});
    TensorList persistent;
    {
      const cuda::LstmRecurrenceGuard guard(cuda::LstmRecurrence::persistent);
      persistent = lstm_on_gpu({x, wih, whh_t, bias, h0, c0});
    }
    const char* names[] = {"output", "h", "c", "dx", "dw_ih", "dw_hh", "dbias", "dh0", "dc0"};
    for (std::size_t i = 0; i < stepwise.size(); ++i)
      check_matches(persistent[i], stepwise[i], c.dtype == DType::float64 ? 1e-13 : 1e-6,
                    std::string("persistent vs stepwise ") + names[i] + tag);
  }
}

TEST_CASE("the persistent lstm falls back to stepwise where a layer does not fit on chip") {
  // float64, H = 460: the forward kernel would need 237 KB of shared memory (more than a Hopper block
  // may have), the backward 152 KB (it fits): a stepwise forward then feeds a persistent backward.
  Generator g(58);
  const std::int64_t B = 3, T = 3, H = 460;
  const Tensor x = randn({B, T, 5}, g, DType::float64), wih = randn({5, 4 * H}, g, DType::float64) * 0.3;
  const Tensor whh = randn({H, 4 * H}, g, DType::float64) * 0.05;
  const cuda::LstmRecurrenceGuard persistent(cuda::LstmRecurrence::persistent);
  const std::int64_t before = cuda::lstm_persistent_launches();
  compare_with_cpu("lstm H=460", [](const TensorList& in) { return lstm(in[0], in[1], in[2]).output; }, {x, wih, whh});
  CHECK(cuda::lstm_persistent_launches() - before == 1);
}

TEST_CASE("Adam, AdamW (AMSGrad) and SGD with momentum update the same way on both devices") {
  Generator g(56);
  const Tensor p0 = randn({129, 7}, g), q0 = randn({1000}, g);
  auto train = [&](Device dev, int which) {
    // clone first: on the CPU to() returns p0 itself, which must not become a parameter
    Tensor p = p0.clone().to(dev).set_requires_grad(), q = q0.clone().to(dev).set_requires_grad();
    std::unique_ptr<optim::Optimizer> opt;
    if (which == 0) opt = std::make_unique<optim::Adam>(std::vector<Tensor>{p, q}, optim::AdamOptions{.lr = 1e-2, .weight_decay = 0.1});
    if (which == 1) opt = std::make_unique<optim::AdamW>(std::vector<Tensor>{p, q}, optim::AdamWOptions{.lr = 1e-2, .amsgrad = true});
    if (which == 2)
      opt = std::make_unique<optim::SGD>(std::vector<Tensor>{p, q}, optim::SgdOptions{.lr = 1e-2, .momentum = 0.9, .nesterov = true});
    for (int step = 0; step < 4; ++step) {
      opt->zero_grad();
      (sum(p * p * 0.5) + sum(tanh(q) * q)).backward();
      optim::clip_grad_norm({p, q}, 5.0);
      opt->step();
    }
    return std::pair{p.detach().cpu(), q.detach().cpu()};
  };
  for (int which : {0, 1, 2}) {
    const auto [pc, qc] = train(Device::cpu(), which);
    const auto [pg, qg] = train(kGpu, which);
    INFO("optimizer ", which);
    check_matches(pg.to(kGpu), pc, 1e-5, "p");
    check_matches(qg.to(kGpu), qc, 1e-5, "q");
  }
}

TEST_CASE("the reference model: five Adam steps on the GPU give the CPU's losses within 1e-4") {
  auto build = [] {
    manual_seed(7);
    return nn::Sequential(nn::Embedding(1000, 128), nn::Conv1D(128, 128, 3, {.activation = nn::Activation::relu}),
                          nn::MaxPool1D(2), nn::LSTM(128, 128), nn::Dense(128, 1, nn::Activation::sigmoid));
  };
  Generator g(57);
  const Tensor ids = randint(0, 1000, {32, 100}, g), labels = randint(0, 2, {32, 1}, g, DType::float32);
  auto losses = [&](Device dev) {
    auto model = build();
    model.to(dev);
    optim::Adam opt(model.parameters(), {.lr = 1e-3});
    const Tensor x = ids.to(dev), y = labels.to(dev);
    std::vector<double> out;
    for (int step = 0; step < 5; ++step) {
      opt.zero_grad();
      const Tensor loss = binary_cross_entropy(model(x), y);
      loss.backward();
      opt.step();
      out.push_back(loss.item<double>());
    }
    return out;
  };
  const std::vector<double> cpu = losses(Device::cpu()), gpu = losses(kGpu);
  for (std::size_t i = 0; i < cpu.size(); ++i) {
    INFO("step ", i, ": cpu ", cpu[i], ", gpu ", gpu[i]);
    CHECK(std::fabs(gpu[i] - cpu[i]) <= 1e-4 * std::max(1.0, std::fabs(cpu[i])));
  }
  CHECK(cpu.back() < cpu.front());  // it trains
}
