// tests/ops/embedding_test.cpp — embedding: lookup by hand, scatter-add gradient with repeats and padding, determinism, errors.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "recsys/io/safetensors.hpp"
#include "test_util.hpp"

using namespace recsys;
using recsys::testing::bitwise_equal;
using recsys::testing::check_close;
using recsys::testing::param;

namespace {
/// W (4, 2) = [[0, 1], [2, 3], [4, 5], [6, 7]].
Tensor table() { return arange(8, DType::float32).view({4, 2}); }

using recsys::testing::FakeCudaDevice;
/// A fixture written by tests/golden/ops_fixtures.py.
struct EmbeddingFixture : recsys::testing::GoldenFixture {
  explicit EmbeddingFixture(const std::string& name) : GoldenFixture("ops/" + name) {}
};
}  // namespace

TEST_CASE("embedding looks rows up by hand, for int32 and int64 ids of any shape") {
  Tensor out = embedding(table(), tensor({1, 3, 0, 1}, {2, 2}));  // int32 ids
  CHECK(out.shape() == Shape{2, 2, 2});
  check_close(out, {2, 3, 6, 7, 0, 1, 2, 3});
  Tensor out64 = embedding(table(), tensor<std::int64_t>({2, 2, 3}));
  CHECK(out64.shape() == Shape{3, 2});
  check_close(out64, {4, 5, 4, 5, 6, 7});
  Tensor scalar = embedding(table(), tensor<std::int64_t>({3}, {}));  // a 0-d id gives one row
  CHECK(scalar.shape() == Shape{2});
  check_close(scalar, {6, 7});
  CHECK(embedding(table(), zeros({0, 5}, DType::int64)).shape() == Shape{0, 5, 2});
  // The padding row is looked up like any other; only its gradient differs.
  check_close(embedding(table(), tensor({0, 2}), 0), {0, 1, 4, 5});
  // A strided ids view and a strided (transposed) table read the right elements.
  Tensor ids_t = tensor({1, 3, 0, 2}, {2, 2}).t();  // [[1, 0], [3, 2]]
  check_close(embedding(table(), ids_t), {2, 3, 0, 1, 6, 7, 4, 5});
  Tensor wt = tensor({0.f, 2.f, 4.f, 6.f, 1.f, 3.f, 5.f, 7.f}, {2, 4}).t();  // same values as table()
  check_close(embedding(wt, tensor({3, 1})), {6, 7, 2, 3});
}

TEST_CASE("embedding gradient sums repeated ids and leaves the padding row at zero") {
  for (std::int64_t padding : {-1, 1}) {
    Tensor w = table().to(DType::float64);
    w.set_requires_grad();
    Tensor ids = tensor({1, 3, 1, 2, 1}, {5});
    Tensor gy = tensor({1.0, 10.0, 2.0, 20.0, 3.0, 30.0, 4.0, 40.0, 5.0, 50.0}, {5, 2});
    embedding(w, ids, padding).backward(gy);
    if (padding == 1) {
      check_close(w.grad(), {0, 0, 0, 0, 4, 40, 2, 20});
    } else {
      check_close(w.grad(), {0, 0, 1 + 3 + 5, 10 + 30 + 50, 4, 40, 2, 20});
    }
  }
}

TEST_CASE("embedding gradcheck, with a strided table and strided ids") {
  // No padding_idx here: its row deliberately gets no gradient although the output depends on it,
  // so finite differences would disagree by design (the case above checks padding by hand).
  Generator g(11);
  Tensor ids = tensor<std::int64_t>({0, 4, 4, 2, 1, 4, 0, 3}, {2, 4});
  Tensor w = param({5, 3}, g);
  RECSYS_CHECK_GRADCHECK([&](const autograd::TensorList& x) { return embedding(x[0], ids); }, {w});
  Tensor wt = param({3, 5}, g);  // used through its transpose: a non-contiguous (5, 3) table
  RECSYS_CHECK_GRADCHECK([&](const autograd::TensorList& x) { return embedding(x[0].t(), ids.t()); }, {wt});
  CHECK_FALSE(ids.requires_grad());
}

TEST_CASE("embedding is bitwise identical with 1 and 2 threads, and equals the serial scatter-add") {
  // The reference model's shapes; id 0 (padding) is frequent, as in padded sequences.
  Generator g(12);
  const std::int64_t vocab = 1000, dim = 128;
  Tensor ids = randint(0, vocab, {64, 100}, g, DType::int32);
  {
    std::int32_t* p = ids.data<std::int32_t>();
    for (std::int64_t i = 0; i < ids.numel(); i += 3) p[i] = 0;
  }
  Tensor w = randn({vocab, dim}, g);
  Tensor gy = randn({64, 100, dim}, g);
  auto run = [&](int threads) {
    set_num_threads(threads);
    Tensor wl = w.detach().clone().set_requires_grad();
    Tensor out = embedding(wl, ids, 0);
    out.backward(gy);
    return std::pair{out, wl.grad()};
  };
  const auto [out1, grad1] = run(1);
  const auto [out2, grad2] = run(2);
  set_num_threads(2);
  CHECK(bitwise_equal(out1, out2));
  CHECK(bitwise_equal(grad1, grad2));
  // The serial definition, summing each row in position order.
  std::vector<float> expected(static_cast<std::size_t>(vocab * dim), 0.0f);
  const std::int32_t* id = ids.data<std::int32_t>();
  const float* gp = gy.data<float>();
  for (std::int64_t i = 0; i < ids.numel(); ++i) {
    if (id[i] == 0) continue;
    for (std::int64_t c = 0; c < dim; ++c) expected[static_cast<std::size_t>(id[i] * dim + c)] += gp[i * dim + c];
  }
  CHECK(bitwise_equal(grad2, from_vector(expected, {vocab, dim})));
  CHECK(bitwise_equal(out2.select(1, 7), embedding(w, ids.select(1, 7))));
}

TEST_CASE("embedding matches torch.nn.functional.embedding (golden fixtures)") {
  for (const char* name : {"embedding_basic", "embedding_padding"}) {
    const EmbeddingFixture f(name);
    for (DType dt : {DType::float32, DType::float64}) {
      for (DType id_dtype : {DType::int64, DType::int32}) {
        INFO(name, " ", dtype_name(dt), " ids ", dtype_name(id_dtype));
        // float64 runs the same float32 inputs exactly, so it must match torch's float64 to rounding.
        const double rtol = dt == DType::float32 ? 1e-5 : 1e-12, atol = dt == DType::float32 ? 1e-6 : 1e-12;
        Tensor w = f["weight"].to(dt).detach().set_requires_grad();
        Tensor out = embedding(w, f["ids"].to(id_dtype), f.setting("padding_idx"));
        check_close(out, f["expected_output"], rtol, atol);
        out.backward(f["grad_output"].to(dt));
        check_close(w.grad(), f["expected_weight_grad"], rtol, atol);
      }
    }
  }
}

TEST_CASE("embedding errors name the op and the values") {
  CHECK_THROWS_WITH_AS(embedding(table(), tensor({1, 3, 7, 9}, {2, 2})),
                       "embedding: id 7 at position [1, 0] of ids with shape [2, 2] is out of range for a vocabulary "
                       "of 4 rows (valid ids are 0..3)",
                       Error);
  CHECK_THROWS_WITH_AS(embedding(table(), tensor<std::int64_t>({0, -1})),
                       doctest::Contains("embedding: id -1 at position [1] of ids with shape [2] is out of range"),
                       Error);
  CHECK_THROWS_WITH_AS(embedding(table(), tensor({1.f, 2.f})), "embedding: ids must be int32 or int64, got float32",
                       Error);
  CHECK_THROWS_WITH_AS(embedding(zeros({4}), tensor({1})),
                       "embedding: weight must have 2 dimensions (vocab, dim), got shape [4]", Error);
  CHECK_THROWS_WITH_AS(embedding(zeros({4, 2}, DType::int64), tensor({1})),
                       "embedding: weight must be float32 or float64, got int64", Error);
  CHECK_THROWS_WITH_AS(embedding(table(), tensor({1}), 4),
                       "embedding: padding_idx 4 is outside the vocabulary of 4 rows (use -1 for none)", Error);
  CHECK_THROWS_WITH_AS(embedding(table(), tensor({1}), -2), doctest::Contains("padding_idx -2"), Error);
  CHECK_THROWS_WITH_AS(embedding(table(), Tensor()), "embedding: ids is an undefined tensor", Error);
  FakeCudaDevice fake;
  Tensor ids_gpu = tensor({1}).to(Device::cuda(0));
  CHECK_THROWS_WITH_AS(embedding(table(), ids_gpu), "embedding: weight is on cpu but ids is on cuda:0", Error);
  Tensor table_gpu = table().to(Device::cuda(0));  // a device tensor goes to the device kernel, never to the CPU loop
  CHECK_THROWS_WITH_AS(embedding(table_gpu, ids_gpu),
                       doctest::Contains("embedding_forward: no CUDA kernel registered for device cuda:0"), Error);
}
