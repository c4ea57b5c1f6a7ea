// tests/ops/embedding_conv1d_test.cpp — embedding_conv1d: a hand case, equality with the composition, gradcheck, thread determinism, the switch, Sequential's use, errors.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "test_util.hpp"

using namespace recsys;
using recsys::testing::bitwise_equal;
using recsys::testing::check_close;
using recsys::testing::FakeCudaDevice;
using recsys::testing::param;

namespace {

/// Restores the process-wide switch when a test case ends.
struct FuseSwitchGuard {
  bool saved = fuse_embedding_conv_enabled();
  ~FuseSwitchGuard() { set_fuse_embedding_conv(saved); }
};

/// E (3, 2) = [[1, 2], [3, 4], [5, 6]]; W (2, 2, 1): tap 0 takes channel 0, tap 1 channel 1.
Tensor hand_e() { return tensor({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}, {3, 2}); }
Tensor fused_hand_w() { return tensor({1.f, 0.f, 0.f, 1.f}, {2, 2, 1}); }

/// Forward output and the gradients of E, W and b under the loss sum(y · r), for one path.
struct Run {
  Tensor y, ge, gw, gb;
};
Run run_path(const Tensor& ids, const Tensor& e, const Tensor& w, const Tensor& b, std::int64_t stride,
             const char* padding, std::int64_t padding_idx, EmbeddingConvPath path, const Tensor& r) {
  Tensor el = e.detach().clone().set_requires_grad(), wl = w.detach().clone().set_requires_grad();
  Tensor bl = b.defined() ? b.detach().clone().set_requires_grad() : Tensor();
  Tensor y = embedding_conv1d(ids, el, wl, bl, stride, padding, padding_idx, path);
  sum(mul(y, r)).backward();
  return {y, el.grad(), wl.grad(), bl.defined() ? bl.grad() : Tensor()};
}

}  // namespace

TEST_CASE("embedding_conv1d by hand: forward and all three gradients") {
  // ids [0, 2, 2, 1], valid, K = 2: y[t] = E[ids[t]][0] + E[ids[t+1]][1] + b
  Tensor ids = tensor({0, 2, 2, 1}, {1, 4});
  Tensor e = hand_e().set_requires_grad(), w = fused_hand_w().set_requires_grad(), b = tensor({0.5f}).set_requires_grad();
  Tensor y = embedding_conv1d(ids, e, w, b, 1, "valid", 0, EmbeddingConvPath::fused);
  CHECK(y.shape() == Shape{1, 3, 1});
  check_close(y, {1 + 6 + 0.5, 5 + 6 + 0.5, 5 + 4 + 0.5});
  sum(y).backward();
  // tap 0 reads ids 0, 2, 2 (channel 0); tap 1 reads 2, 2, 1 (channel 1); row 0 is padding: no gradient
  check_close(e.grad(), {0, 0, 0, 1, 2, 2});
  check_close(w.grad(), {1 + 5 + 5, 2 + 6 + 6, 5 + 5 + 3, 6 + 6 + 4});  // dW[k] = Σ E rows read by tap k
  check_close(b.grad(), {3});
  // "same": one zero step on the right, so the last window only has tap 0
  check_close(embedding_conv1d(ids, hand_e(), fused_hand_w(), {}, 1, "same", -1, EmbeddingConvPath::fused),
              {7, 11, 9, 3});
  // stride 2, "same": T_out = 2, windows [ids0 ids1], [ids2 ids3]
  check_close(embedding_conv1d(ids, hand_e(), fused_hand_w(), {}, 2, "same", -1, EmbeddingConvPath::fused), {7, 9});
}

TEST_CASE("embedding_conv1d equals embedding then conv1d: forward and the three gradients") {
  Generator g(31);
  struct Case {
    std::int64_t B, T, V, C, K, F, stride;
    const char* padding;
    std::int64_t padding_idx;
    bool bias, int32;
  };
  for (const Case& c : {Case{4, 10, 7, 6, 3, 5, 1, "valid", -1, true, false},
                       Case{3, 11, 9, 4, 3, 8, 2, "valid", 0, true, true},
                       Case{1, 9, 5, 3, 2, 4, 1, "same", 2, true, false},
                       Case{2, 7, 6, 5, 4, 3, 3, "same", -1, false, true},
                       Case{5, 13, 12, 8, 1, 16, 1, "valid", 3, true, false},
                       Case{2, 4, 30, 3, 5, 2, 2, "same", 0, true, false},  // K > T: windows are mostly padding
                       Case{6, 100, 50, 32, 3, 40, 1, "valid", 0, true, true}}) {
    INFO("B=", c.B, " T=", c.T, " V=", c.V, " C=", c.C, " K=", c.K, " F=", c.F, " stride=", c.stride,
         " padding=", c.padding, " padding_idx=", c.padding_idx);
    Tensor ids = randint(0, c.V, {c.B, c.T}, g, c.int32 ? DType::int32 : DType::int64);
    if (c.padding_idx >= 0) ids.slice(1, 0, 2).fill_(static_cast<double>(c.padding_idx));  // padded sequence starts
    Tensor e = randn({c.V, c.C}, g), w = randn({c.K, c.C, c.F}, g);
    Tensor b = c.bias ? randn({c.F}, g) : Tensor();
    const std::int64_t t_out = std::string(c.padding) == "same" ? (c.T + c.stride - 1) / c.stride
                                                                : (c.T - c.K) / c.stride + 1;
    Tensor r = randn({c.B, t_out, c.F}, g);
    const Run fused = run_path(ids, e, w, b, c.stride, c.padding, c.padding_idx, EmbeddingConvPath::fused, r);
    const Run composed = run_path(ids, e, w, b, c.stride, c.padding, c.padding_idx, EmbeddingConvPath::composed, r);
    // The composed path is literally the two ops.
    CHECK(bitwise_equal(composed.y, conv1d(embedding(e, ids, c.padding_idx), w, b, c.stride, c.padding)));
    const double tol = 1e-4 * static_cast<double>(c.C);
    check_close(fused.y, composed.y, 1e-5, tol);
    check_close(fused.ge, composed.ge, 1e-5, tol);
    check_close(fused.gw, composed.gw, 1e-5, tol);
    if (c.bias) check_close(fused.gb, composed.gb, 1e-5, tol);
    if (c.padding_idx >= 0) CHECK(sum(abs(fused.ge.select(0, c.padding_idx))).item<float>() == 0.0f);
  }
}

TEST_CASE("embedding_conv1d gradcheck in double precision") {
  Generator g(32);
  struct Case {
    std::int64_t T, K, stride;
    const char* padding;
    std::int64_t padding_idx;
  };
  for (const Case& c : {Case{6, 3, 1, "valid", -1}, Case{7, 2, 2, "valid", 1}, Case{5, 3, 1, "same", 0},
                       Case{7, 4, 3, "same", -1}}) {
    INFO("T=", c.T, " K=", c.K, " stride=", c.stride, " padding=", c.padding, " padding_idx=", c.padding_idx);
    Tensor ids = randint(0, 4, {2, c.T}, g);
    Tensor w = param({c.K, 3, 2}, g), b = param({2}, g);
    if (c.padding_idx < 0) {
      RECSYS_CHECK_GRADCHECK(
          [&](const autograd::TensorList& in) {
            return embedding_conv1d(ids, in[0], in[1], in[2], c.stride, c.padding, -1, EmbeddingConvPath::fused);
          },
          {param({4, 3}, g), w, b});
    } else {
      // The padding row gets no gradient by definition (not the derivative), so the table is data
      // here; its row still feeds dW, which this checks. The table's gradient with padding_idx is
      // compared with embedding's in the test above.
      Tensor e = randn({4, 3}, g, DType::float64);
      RECSYS_CHECK_GRADCHECK(
          [&](const autograd::TensorList& in) {
            return embedding_conv1d(ids, e, in[0], in[1], c.stride, c.padding, c.padding_idx,
                                    EmbeddingConvPath::fused);
          },
          {w, b});
    }
  }
  // only the conv weight learns (a frozen table), and only the table learns
  Tensor ids = randint(0, 5, {3, 6}, g);
  Tensor e_frozen = randn({5, 3}, g, DType::float64), w_frozen = randn({3, 3, 2}, g, DType::float64);
  RECSYS_CHECK_GRADCHECK(
      [&](const autograd::TensorList& in) {
        return embedding_conv1d(ids, e_frozen, in[0], {}, 1, "valid", -1, EmbeddingConvPath::fused);
      },
      {param({3, 3, 2}, g)});
  RECSYS_CHECK_GRADCHECK(
      [&](const autograd::TensorList& in) {
        return embedding_conv1d(ids, in[0], w_frozen, {}, 1, "same", -1, EmbeddingConvPath::fused);
      },
      {param({5, 3}, g)});
}

TEST_CASE("embedding_conv1d forward and backward are bitwise identical with 1 and 2 threads") {
  // The reference model's sizes at a small batch; id 0 (padding) is frequent, as in padded sequences.
  Generator g(33);
  const std::int64_t V = 1000, C = 128, F = 128, B = 16, T = 100;
  Tensor e = randn({V, C}, g), w = randn({3, C, F}, g), b = randn({F}, g);
  // Threads split the table by ids when they balance (padding 30% of ids), by columns when one id
  // is more than a thread's share (padding 70%).
  for (std::int64_t padded : {30, 70})
  for (const char* padding : {"valid", "same"}) {
    Tensor ids = randint(0, V, {B, T}, g);
    ids.slice(1, 0, padded).zero_();
    const std::int64_t t_out = std::string(padding) == "valid" ? T - 2 : T;
    Tensor r = randn({B, t_out, F}, g);
    set_num_threads(1);
    const Run one = run_path(ids, e, w, b, 1, padding, 0, EmbeddingConvPath::fused, r);
    set_num_threads(2);
    const Run two = run_path(ids, e, w, b, 1, padding, 0, EmbeddingConvPath::fused, r);
    INFO("padding ", padding, ", ", padded, " of ", T, " ids padded");
    CHECK(bitwise_equal(one.y, two.y));
    CHECK(bitwise_equal(one.ge, two.ge));
    CHECK(bitwise_equal(one.gw, two.gw));
    CHECK(bitwise_equal(one.gb, two.gb));
  }
}

TEST_CASE("embedding_conv1d cost rule, the switch and the automatic path") {
  FuseSwitchGuard guard;
  // the reference model: vocab 1000, 128 channels, 98 output steps per sequence
  CHECK(embedding_conv1d_prefers_fused(1000, 128, 32 * 98));
  CHECK(embedding_conv1d_prefers_fused(1000, 128, 256 * 98));
  CHECK_FALSE(embedding_conv1d_prefers_fused(1000, 128, 1 * 98));
  CHECK_FALSE(embedding_conv1d_prefers_fused(1000, 8, 256 * 98));  // few channels: the gather dominates
  CHECK_FALSE(embedding_conv1d_prefers_fused(0, 128, 0));

  Generator g(34);
  Tensor e = randn({50, 32}, g), w = randn({3, 32, 16}, g), b = randn({16}, g);
  Tensor ids = randint(0, 50, {8, 20}, g);  // 144 positions for 50 rows: fused
  REQUIRE(embedding_conv1d_prefers_fused(50, 32, 8 * 18));
  const Tensor fused = embedding_conv1d(ids, e, w, b, 1, "valid", -1, EmbeddingConvPath::fused);
  const Tensor composed = conv1d(embedding(e, ids), w, b);
  CHECK_FALSE(bitwise_equal(fused, composed));  // the two forms round differently, so each is recognisable
  set_fuse_embedding_conv(true);
  CHECK(fuse_embedding_conv_enabled());
  CHECK(bitwise_equal(embedding_conv1d(ids, e, w, b), fused));
  set_fuse_embedding_conv(false);
  CHECK_FALSE(fuse_embedding_conv_enabled());
  CHECK(bitwise_equal(embedding_conv1d(ids, e, w, b), composed));
  CHECK(bitwise_equal(embedding_conv1d(ids, e, w, b, 1, "valid", -1, EmbeddingConvPath::fused), fused));
  set_fuse_embedding_conv(true);
  // one short sequence against a 50-row table: the composition is cheaper
  Tensor one = ids.slice(0, 0, 1).slice(1, 0, 4).contiguous();
  REQUIRE_FALSE(embedding_conv1d_prefers_fused(50, 32, 2));
  CHECK(bitwise_equal(embedding_conv1d(one, e, w, b), conv1d(embedding(e, one), w, b)));
}

TEST_CASE("Sequential fuses Embedding then Conv1D, keeps the activation, and can be switched off") {
  FuseSwitchGuard guard;
  manual_seed(35);
  auto model = nn::Sequential(nn::Embedding(60, 32, 0), nn::Conv1D(32, 12, 3, {.activation = nn::Activation::relu}),
                              nn::MaxPool1D(2), nn::LSTM(12, 4), nn::Dense(4, 1));
  Generator g(36);
  Tensor ids = randint(0, 60, {32, 20}, g);
  ids.slice(1, 0, 3).zero_();
  REQUIRE(embedding_conv1d_prefers_fused(60, 32, 32 * 18));
  auto step = [&](bool fuse) {
    set_fuse_embedding_conv(fuse);
    model.zero_grad();
    Tensor y = model(ids);
    sum(y).backward();
    std::vector<Tensor> out{y.detach().clone()};
    for (const Tensor& p : model.parameters()) out.push_back(p.grad().clone());
    return out;
  };
  const auto fused = step(true), composed = step(false);
  // by hand, unfused: the layers one after the other
  Tensor reference = model.get<0>()(ids);
  reference = model.get<4>()(model.get<3>()(model.get<2>()(model.get<1>()(reference))));
  CHECK(bitwise_equal(composed[0], reference));
  CHECK_FALSE(bitwise_equal(fused[0], composed[0]));  // the fused path really ran
  REQUIRE(fused.size() == composed.size());
  for (std::size_t i = 0; i < fused.size(); ++i) {
    INFO("tensor ", i);
    check_close(fused[i], composed[i], 1e-4, 1e-4);
  }
  CHECK(sum(abs(fused[1].select(0, 0))).item<float>() == 0.0f);  // the padding row learns nothing
  // ids that are not (batch, time) keep the layers' own error
  set_fuse_embedding_conv(true);
  CHECK_THROWS_WITH_AS(model(randint(0, 60, {20}, g)), doctest::Contains("conv1d: input must have 3 dimensions"),
                       Error);
}

TEST_CASE("embedding_conv1d keeps its table for inference and rebuilds it when a weight changes") {
  FuseSwitchGuard guard;
  set_fuse_embedding_conv(true);
  Generator g(37);
  Tensor e = randn({40, 16}, g), w = randn({3, 16, 8}, g), b = randn({8}, g);
  Tensor ids = randint(0, 40, {6, 12}, g);
  EmbeddingConvTableCache cache;
  auto cached = [&](const Tensor& x) {
    NoGradGuard no_grad;
    return embedding_conv1d(x, e, w, b, 1, "valid", -1, EmbeddingConvPath::automatic, &cache);
  };
  auto uncached_fused = [&](const Tensor& x) {
    return embedding_conv1d(x, e, w, b, 1, "valid", -1, EmbeddingConvPath::fused);
  };
  CHECK(cache.bytes() == 0);
  const Tensor first = cached(ids);
  CHECK(bitwise_equal(first, uncached_fused(ids)));  // the same table, the same gather
  CHECK(cache.stats().builds == 1);
  CHECK(cache.stats().hits == 0);
  CHECK(cache.bytes() == (40 * 16 + 3 * 16 * 8 + 40 * 3 * 8) * 4);
  CHECK(bitwise_equal(cached(ids), first));
  CHECK(cache.stats().hits == 1);
  CHECK(cache.stats().builds == 1);

  // With a kept table the fused form is the cheaper one even for one short sequence.
  Tensor one = ids.slice(0, 0, 1).slice(1, 0, 4).contiguous();
  REQUIRE_FALSE(embedding_conv1d_prefers_fused(40, 16, 2));
  CHECK(bitwise_equal(cached(one), uncached_fused(one)));
  CHECK(cache.stats().hits == 2);

  // A write through the data pointer (no op, no version bump) is still seen: the bytes differ.
  e.data<float>()[5 * 16 + 3] += 1.0f;
  const Tensor after_e = cached(ids);
  CHECK(cache.stats().builds == 2);
  CHECK(bitwise_equal(after_e, uncached_fused(ids)));
  CHECK_FALSE(bitwise_equal(after_e, first));
  w.data<float>()[0] -= 0.5f;
  CHECK(bitwise_equal(cached(ids), uncached_fused(ids)));
  CHECK(cache.stats().builds == 3);
  // The bias is added in the gather, so changing it needs no new table.
  b.data<float>()[1] = 7.0f;
  CHECK(bitwise_equal(cached(ids), uncached_fused(ids)));
  CHECK(cache.stats().builds == 3);

  // A call that records gradients never uses (or fills) the cache, and computes with its own table.
  Tensor el = e.clone().set_requires_grad();
  const Tensor y = embedding_conv1d(ids, el, w, b, 1, "valid", -1, EmbeddingConvPath::automatic, &cache);
  CHECK(y.requires_grad());
  CHECK(cache.stats().builds == 3);
  CHECK(cache.stats().hits == 3);

  // Copies start empty; clear() empties.
  EmbeddingConvTableCache copy = cache;
  CHECK(copy.bytes() == 0);
  cache.clear();
  CHECK(cache.bytes() == 0);
  CHECK(bitwise_equal(cached(ids), uncached_fused(ids)));
  CHECK(cache.stats().builds == 4);
}

TEST_CASE("Sequential inference reuses the embedding-conv table until an optimizer step changes the weights") {
  FuseSwitchGuard guard;
  set_fuse_embedding_conv(true);
  manual_seed(38);
  auto model = nn::Sequential(nn::Embedding(60, 32, 0), nn::Conv1D(32, 12, 3, {.activation = nn::Activation::relu}),
                              nn::MaxPool1D(2), nn::LSTM(12, 4), nn::Dense(4, 1, nn::Activation::sigmoid));
  Generator g(39);
  Tensor ids = randint(0, 60, {4, 20}, g);  // 72 positions for 60 rows: uncached, the composition
  Tensor labels = tensor({0.f, 1.f, 1.f, 0.f}, {4, 1});
  auto predict = [&] {
    NoGradGuard no_grad;
    return model(ids);
  };
  auto fresh = [&] {  // what a model without a kept table computes: the same layers, fused per row
    Tensor y = embedding_conv1d(ids, model.get<0>().embeddings(), model.get<1>().kernel(), model.get<1>().bias(), 1,
                                "valid", 0, EmbeddingConvPath::fused);
    return model.get<4>()(model.get<3>()(model.get<2>()(relu(y))));
  };
  const Tensor before = predict();
  CHECK(bitwise_equal(before, fresh()));
  CHECK(bitwise_equal(predict(), before));
  optim::Adam opt(model.parameters(), {.lr = 0.05});
  opt.zero_grad();
  binary_cross_entropy(model(ids), labels).backward();
  opt.step();
  const Tensor after = predict();
  CHECK_FALSE(bitwise_equal(after, before));
  CHECK(bitwise_equal(after, fresh()));
}

TEST_CASE("embedding_conv1d_maxpool pools during the gather with the bits of the three ops") {
  Generator g(40);
  Tensor e = randn({30, 16}, g), w = randn({3, 16, 24}, g), b = randn({24}, g);
  e.select(0, 7).slice(0, 0, 4).fill_(std::numeric_limits<float>::quiet_NaN());  // NaN rows follow maxpool1d's rule
  Tensor ids = randint(0, 30, {5, 23}, g);
  ids.select(0, 2).slice(0, 3, 6).fill_(7);
  const int saved = num_threads();
  for (const char* padding : {"valid", "same"})
    for (bool act : {true, false})
      for (std::int64_t pool : {1, 2, 3})
        for (std::optional<std::int64_t> pool_stride : {std::optional<std::int64_t>{}, std::optional<std::int64_t>{1}})
          for (int threads : {1, 2}) {
            INFO(padding, " relu ", act, " pool ", pool, " stride ", pool_stride.value_or(0), " threads ", threads);
            set_num_threads(threads);
            const Tensor y = embedding_conv1d(ids, e, w, b, 1, padding, -1, EmbeddingConvPath::fused);
            const Tensor expected = maxpool1d(act ? relu(y) : y, pool, pool_stride);
            NoGradGuard no_grad;
            const Tensor got = embedding_conv1d_maxpool(ids, e, w, b, 1, padding, -1, act, pool, pool_stride,
                                                        EmbeddingConvPath::fused);
            CHECK(bitwise_equal(got, expected));
          }
  set_num_threads(saved);
  // Bad pooling arguments get maxpool1d's errors, with or without gradients.
  NoGradGuard no_grad;
  CHECK_THROWS_WITH_AS(embedding_conv1d_maxpool(ids, e, w, b, 1, "valid", -1, true, 0), doctest::Contains("maxpool1d: pool_size must be at least 1, got 0"), Error);
  CHECK_THROWS_WITH_AS(embedding_conv1d_maxpool(ids, e, w, b, 1, "valid", -1, true, 22),
                       doctest::Contains("maxpool1d: input has shape [5, 21, 24], whose length 21 is shorter than pool_size 22"), Error);
}

namespace {

/// Output and the gradients of E, W and b under the loss sum(y · r), for the pooled op or the three ops.
Run run_pooled(bool fused_pool, const Tensor& ids, const Tensor& e, const Tensor& w, const Tensor& b, const char* padding,
               bool act, std::int64_t pool, std::optional<std::int64_t> pool_stride, const Tensor& r) {
  Tensor el = e.detach().clone().set_requires_grad(), wl = w.detach().clone().set_requires_grad();
  Tensor bl = b.detach().clone().set_requires_grad();
  Tensor y;
  if (fused_pool) {
    y = embedding_conv1d_maxpool(ids, el, wl, bl, 1, padding, 0, act, pool, pool_stride, EmbeddingConvPath::fused);
  } else {
    const Tensor z = embedding_conv1d(ids, el, wl, bl, 1, padding, 0, EmbeddingConvPath::fused);
    y = maxpool1d(act ? relu(z) : z, pool, pool_stride);
  }
  sum(mul(y, r)).backward();
  return {y, el.grad(), wl.grad(), bl.grad()};
}

}  // namespace

TEST_CASE("embedding_conv1d_maxpool trains through the pooled gather with the bits of the three ops") {
  // Non-overlapping windows pool in the gather and scatter the pooled gradient straight into the
  // table's; overlapping ones (stride 1 < pool) take the three ops. Either way: the same bits.
  Generator g(44);
  const std::int64_t V = 40, C = 16, F = 48, B = 24, T = 23;  // large enough for two threads
  Tensor e = randn({V, C}, g), w = randn({3, C, F}, g), b = randn({F}, g);
  Tensor ids = randint(0, V, {B, T}, g);
  ids.slice(1, 0, 5).zero_();                  // padded starts: row 0 is hot
  ids.select(0, 3).slice(0, 8, 12).fill_(9);  // repeated windows: ties in the pooling
  Tensor mostly_padding = ids.clone();
  mostly_padding.slice(1, 0, 16).zero_();      // one id over half: two threads split columns, not ids
  const int saved = num_threads();
  for (const Tensor& seq : {ids, mostly_padding})
  for (const char* padding : {"valid", "same"})
    for (bool act : {true, false})
      for (std::int64_t pool : {1, 2, 3})
        for (std::optional<std::int64_t> pool_stride : {std::optional<std::int64_t>{}, std::optional<std::int64_t>{1},
                                                         std::optional<std::int64_t>{pool + 1}}) {
          const std::int64_t t_conv = std::string(padding) == "valid" ? T - 2 : T;
          const std::int64_t t_pool = (t_conv - pool) / pool_stride.value_or(pool) + 1;
          Tensor r = randn({B, t_pool, F}, g);
          set_num_threads(1);
          const Run three = run_pooled(false, seq, e, w, b, padding, act, pool, pool_stride, r);
          for (int threads : {1, 2}) {
            INFO(padding, " relu ", act, " pool ", pool, " stride ", pool_stride.value_or(0), " threads ", threads);
            set_num_threads(threads);
            const Run one = run_pooled(true, seq, e, w, b, padding, act, pool, pool_stride, r);
            CHECK(one.y.shape() == Shape{B, t_pool, F});
            CHECK(bitwise_equal(one.y, three.y));
            CHECK(bitwise_equal(one.ge, three.ge));
            CHECK(bitwise_equal(one.gw, three.gw));
            CHECK(bitwise_equal(one.gb, three.gb));
          }
        }
  set_num_threads(saved);
  // Only the bias learns: the scatter runs for its sum alone.
  Tensor bl = b.clone().set_requires_grad();
  const Tensor r = randn({B, 10, F}, g);
  sum(mul(embedding_conv1d_maxpool(ids, e, w, bl, 1, "valid", 0, true, 2, std::nullopt, EmbeddingConvPath::fused), r))
      .backward();
  CHECK(bitwise_equal(bl.grad(), run_pooled(false, ids, e, w, b, "valid", true, 2, std::nullopt, r).gb));
}

TEST_CASE("embedding_conv1d_maxpool gradcheck in double precision, pooled in the gather") {
  Generator g(45);
  Tensor ids = randint(0, 5, {2, 11}, g);
  for (bool act : {true, false})
    for (std::int64_t pool : {2, 3}) {
      INFO("relu ", act, " pool ", pool);
      RECSYS_CHECK_GRADCHECK(
          [&](const autograd::TensorList& in) {
            return embedding_conv1d_maxpool(ids, in[0], in[1], in[2], 1, "same", -1, act, pool, std::nullopt,
                                            EmbeddingConvPath::fused);
          },
          {param({5, 3}, g), param({3, 3, 4}, g), param({4}, g)});
    }
}

TEST_CASE("Sequential inference pools in the gather and matches the recorded forward bit for bit") {
  FuseSwitchGuard guard;
  set_fuse_embedding_conv(true);
  manual_seed(41);
  auto model = nn::Sequential(nn::Embedding(60, 32, 0), nn::Conv1D(32, 12, 3, {.activation = nn::Activation::relu}),
                              nn::MaxPool1D(2), nn::LSTM(12, 4), nn::Dense(4, 1, nn::Activation::sigmoid));
  Generator g(42);
  Tensor ids = randint(0, 60, {32, 21}, g);
  REQUIRE(embedding_conv1d_prefers_fused(60, 32, 32 * 19));
  const Tensor recorded = model(ids);
  REQUIRE(recorded.requires_grad());
  NoGradGuard no_grad;
  CHECK(bitwise_equal(model(ids), recorded));
  CHECK(bitwise_equal(model(ids), recorded));  // the second call reuses the kept table
}

TEST_CASE("embedding_conv1d gather and pooled-scatter kernels give the same bits on every instruction set this CPU has") {
  // F = 176: one 128-column register block and a 48-column tail; F = 24 is not a multiple of 16, so
  // the AVX-512 kernel falls back to the portable loop.
  namespace d = cpu::embedding_conv1d_detail;
  Generator g(43);
  for (std::int64_t F : {176, 24}) {
    const std::int64_t V = 20, K = 3, B = 3, T = 17;
    Tensor table = randn({V, K, F}, g), bias = randn({F}, g);
    table.select(0, 4).select(0, 1).slice(0, 0, 5).fill_(std::numeric_limits<float>::quiet_NaN());
    Tensor ids = randint(0, V, {B, T}, g, DType::int64);
    ids.select(0, 1).slice(0, 2, 5).fill_(4);
    cpu::EmbeddingConv1dShape s;
    s.batch = B;
    s.t_in = T;
    s.kernel = K;
    s.filters = F;
    s.vocab = V;
    s.pad_left = 1;
    s.t_out = T;  // "same" padding: the first and last taps fall outside
    for (bool with_bias : {true, false})
      for (bool act : {false, true})
        for (std::int64_t size : {1, 2, 3}) {
          INFO("F ", F, " bias ", with_bias, " relu ", act, " pool ", size);
          cpu::EmbeddingConv1dPool pool;
          pool.size = size;
          pool.stride = 2;
          pool.relu = act;
          pool.t_out = (T - size) / 2 + 1;
          const float* bp = with_bias ? bias.data<float>() : nullptr;
          const std::int64_t* ip = ids.data<std::int64_t>();
          const std::int64_t n_pooled = B * pool.t_out * F;
          Tensor plain = empty({B, T, F}), pooled = empty({B, pool.t_out, F}), scratch = empty({1, F});
          std::vector<std::uint8_t> winner(static_cast<std::size_t>(n_pooled));
          Tensor grad_pooled = randn({B, pool.t_out, F}, g), grad_table = empty({V, K, F}), grad_bias = empty({F});
          d::gather_base<std::int64_t, float>(s, ip, table.data<float>(), bp, plain.data<float>(), 0, B * T);
          d::gather_pool_base<std::int64_t, float>(s, pool, ip, table.data<float>(), bp, pooled.data<float>(),
                                                   scratch.data<float>(), winner.data(), 0, B * pool.t_out);
          const Tensor expected = maxpool1d(act ? relu(plain) : plain, size, 2);
          CHECK(bitwise_equal(pooled, expected));
          // Recording winners changes nothing in the output.
          Tensor pooled_inference = empty({B, pool.t_out, F});
          d::gather_pool_base<std::int64_t, float>(s, pool, ip, table.data<float>(), bp, pooled_inference.data<float>(),
                                                   scratch.data<float>(), nullptr, 0, B * pool.t_out);
          CHECK(bitwise_equal(pooled_inference, expected));
          const d::ScatterPart all{0, V, 0, F, 0, F};
          d::scatter_pooled_base<std::int64_t, float>(s, pool, ip, grad_pooled.data<float>(), winner.data(),
                                                      grad_table.data<float>(), grad_bias.data<float>(), all);
          // Without winners every gradient is routed (the plain scatter's form).
          Tensor grad_table_all = empty({V, K, F}), grad_bias_all = empty({F});
          d::scatter_pooled_base<std::int64_t, float>(s, pool, ip, grad_pooled.data<float>(), nullptr,
                                                      grad_table_all.data<float>(), grad_bias_all.data<float>(), all);
#if RECSYS_X86_SIMD
          for (cpu::SimdLevel level : {cpu::SimdLevel::avx2, cpu::SimdLevel::avx512}) {
            if (static_cast<int>(cpu::detect_simd_level()) < static_cast<int>(level)) continue;
            INFO("level ", cpu::simd_level_name(level));
            const bool wide = level == cpu::SimdLevel::avx512;
            Tensor plain2 = empty({B, T, F}), pooled2 = empty({B, pool.t_out, F}), pooled3 = empty({B, pool.t_out, F});
            std::vector<std::uint8_t> winner2(static_cast<std::size_t>(n_pooled));
            (wide ? d::gather_avx512<std::int64_t> : d::gather_avx2<std::int64_t>)(
                s, ip, table.data<float>(), bp, plain2.data<float>(), 0, B * T);
            const auto pool_fn = wide ? d::gather_pool_avx512<std::int64_t> : d::gather_pool_avx2<std::int64_t>;
            pool_fn(s, pool, ip, table.data<float>(), bp, pooled2.data<float>(), scratch.data<float>(), nullptr, 0,
                    B * pool.t_out);
            pool_fn(s, pool, ip, table.data<float>(), bp, pooled3.data<float>(), scratch.data<float>(),
                    winner2.data(), 0, B * pool.t_out);
            CHECK(bitwise_equal(plain2, plain));
            CHECK(bitwise_equal(pooled2, pooled));
            CHECK(bitwise_equal(pooled3, pooled));
            CHECK(winner2 == winner);
            Tensor grad_table2 = empty({V, K, F}), grad_bias2 = empty({F});
            (wide ? d::scatter_pooled_avx512<std::int64_t> : d::scatter_pooled_avx2<std::int64_t>)(
                s, pool, ip, grad_pooled.data<float>(), winner2.data(), grad_table2.data<float>(),
                grad_bias2.data<float>(), all);
            CHECK(bitwise_equal(grad_table2, grad_table));
            CHECK(bitwise_equal(grad_bias2, grad_bias));
            (wide ? d::scatter_pooled_avx512<std::int64_t> : d::scatter_pooled_avx2<std::int64_t>)(
                s, pool, ip, grad_pooled.data<float>(), nullptr, grad_table2.data<float>(), grad_bias2.data<float>(),
                all);
            CHECK(bitwise_equal(grad_table2, grad_table_all));
            CHECK(bitwise_equal(grad_bias2, grad_bias_all));
          }
#endif
        }
  }
}

TEST_CASE("embedding_conv1d errors name the op and the shapes") {
  const Tensor e = hand_e(), w = fused_hand_w(), ids = tensor({0, 2, 2, 1}, {1, 4});
  const auto fused = EmbeddingConvPath::fused;
  CHECK_THROWS_WITH_AS(embedding_conv1d(tensor({0, 2, 3, 1}, {2, 2}), e, w, {}, 1, "valid", -1, fused),
                       "embedding_conv1d: id 3 at position [1, 0] of ids with shape [2, 2] is out of range for a "
                       "vocabulary of 3 rows (valid ids are 0..2)",
                       Error);
  CHECK_THROWS_WITH_AS(embedding_conv1d(tensor({1.f, 2.f}, {1, 2}), e, w),
                       "embedding_conv1d: ids must be int32 or int64, got float32", Error);
  CHECK_THROWS_WITH_AS(embedding_conv1d(tensor({0, 1}), e, w),
                       "embedding_conv1d: ids must have 2 dimensions (batch, time), got shape [2]", Error);
  CHECK_THROWS_WITH_AS(embedding_conv1d(Tensor(), e, w), "embedding_conv1d: ids is an undefined tensor", Error);
  CHECK_THROWS_WITH_AS(embedding_conv1d(ids, zeros({3}), w),
                       "embedding_conv1d: embedding_weight must have 2 dimensions (vocab, dim), got shape [3]", Error);
  CHECK_THROWS_WITH_AS(embedding_conv1d(ids, e, zeros({2, 2})),
                       "embedding_conv1d: conv_weight must have 3 dimensions (kernel_size, in_channels, filters), "
                       "got shape [2, 2]",
                       Error);
  CHECK_THROWS_WITH_AS(embedding_conv1d(ids, e, zeros({2, 3, 1})),
                       "embedding_conv1d: embedding_weight has shape [3, 2] (dim 2) but conv_weight has shape "
                       "[2, 3, 1] (in_channels 3)",
                       Error);
  CHECK_THROWS_WITH_AS(embedding_conv1d(ids, e, zeros({0, 2, 1})),
                       "embedding_conv1d: conv_weight has shape [0, 2, 1]; kernel_size, in_channels and filters "
                       "must all be positive",
                       Error);
  CHECK_THROWS_WITH_AS(embedding_conv1d(ids, e, w, zeros({2})),
                       "embedding_conv1d: conv_bias has shape [2], expected [1] (one value per filter)", Error);
  CHECK_THROWS_WITH_AS(embedding_conv1d(ids, e, zeros({2, 2, 1}, DType::float64)),
                       "embedding_conv1d: embedding_weight is float32 but conv_weight is float64", Error);
  CHECK_THROWS_WITH_AS(embedding_conv1d(ids, e, w, {}, 0), "embedding_conv1d: stride must be at least 1, got 0",
                       Error);
  CHECK_THROWS_WITH_AS(embedding_conv1d(ids, e, w, {}, 1, "full"),
                       "embedding_conv1d: padding must be \"valid\" or \"same\", got \"full\"", Error);
  CHECK_THROWS_WITH_AS(embedding_conv1d(ids, e, w, {}, 1, "valid", 3),
                       "embedding_conv1d: padding_idx 3 is outside the vocabulary of 3 rows (use -1 for none)", Error);
  CHECK_THROWS_WITH_AS(embedding_conv1d(tensor({0}, {1, 1}), e, w),
                       "embedding_conv1d: ids have shape [1, 1], whose length 1 is shorter than kernel_size 2 "
                       "(padding \"valid\"; use \"same\" to pad)",
                       Error);
  // a saved tensor changed in place before backward
  Tensor el = hand_e().set_requires_grad(), wl = fused_hand_w().set_requires_grad();
  Tensor y = embedding_conv1d(ids, el, wl, {}, 1, "valid", -1, fused);
  wl.detach().fill_(1.0);
  CHECK_THROWS_WITH_AS(sum(y).backward(), doctest::Contains("embedding_conv1d: a tensor saved for backward was modified"),
                       Error);
  // CUDA tensors take the composition (here: its CUDA embedding kernel, which this CPU-only test lacks)
  FakeCudaDevice fake;
  Tensor e_gpu = hand_e().to(Device::cuda(0)), w_gpu = fused_hand_w().to(Device::cuda(0)), ids_gpu = ids.to(Device::cuda(0));
  CHECK_THROWS_WITH_AS(embedding_conv1d(ids, e_gpu, w_gpu), "embedding_conv1d: embedding_weight is on cuda:0 but ids is on cpu",
                       Error);
  CHECK_THROWS_WITH_AS(embedding_conv1d(ids_gpu, e_gpu, w_gpu, {}, 1, "valid", -1, fused),
                       doctest::Contains("embedding_forward: no CUDA kernel registered for device cuda:0"), Error);
}
