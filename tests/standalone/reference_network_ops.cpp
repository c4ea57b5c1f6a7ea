// tests/standalone/reference_network_ops.cpp — the seed's network built from ops alone, compiled by ctest
// with nothing but `g++ -std=c++20 -fopenmp -Iinclude` (no CMake target, no nvcc) to prove the headers stand alone.
#include <recsys/recsys.hpp>

#include <cstdio>

using namespace recsys;

int main() {
  Generator gen(42);
  const std::int64_t batch = 4, steps = 100, vocab = 1000, dim = 32, filters = 32, hidden = 32;
  // Parameters (Keras layouts): embedding (V, D), conv kernel (K, C, F), LSTM kernels (I, 4H) and (H, 4H), dense (H, 1).
  Tensor emb = uniform({vocab, dim}, -0.05, 0.05, gen).set_requires_grad();
  Tensor conv_w = uniform({3, dim, filters}, -0.1, 0.1, gen).set_requires_grad();
  Tensor conv_b = zeros({filters}).set_requires_grad();
  Tensor w_ih = uniform({filters, 4 * hidden}, -0.1, 0.1, gen).set_requires_grad();
  Tensor w_hh = uniform({hidden, 4 * hidden}, -0.1, 0.1, gen).set_requires_grad();
  Tensor b = zeros({4 * hidden}).set_requires_grad();
  Tensor dense_w = uniform({hidden, 1}, -0.1, 0.1, gen).set_requires_grad();
  Tensor dense_b = zeros({1}).set_requires_grad();

  Tensor ids = randint(0, vocab, {batch, steps}, gen);
  Tensor labels = randint(0, 2, {batch, 1}, gen).to(DType::float32);

  Tensor x = embedding(emb, ids);                      // (B, 100, D)
  x = relu(conv1d(x, conv_w, conv_b));                 // (B, 98, F)
  x = maxpool1d(x, 2);                                 // (B, 49, F)
  Tensor h = lstm(x, w_ih, w_hh, b).h;                 // (B, H): the last hidden state
  Tensor p = sigmoid(linear(h, dense_w, dense_b));     // (B, 1)
  Tensor loss = binary_cross_entropy(p, labels);
  loss.backward();

  int missing = 0;
  double total = 0;
  for (const Tensor* t : {&emb, &conv_w, &conv_b, &w_ih, &w_hh, &b, &dense_w, &dense_b}) {
    if (!t->grad().defined()) ++missing;
    else total += sum(abs(t->grad())).item<double>();
  }
  std::printf("loss %.6f, summed |grad| %.6f, parameters without gradient: %d\n", loss.item<double>(), total, missing);
  return missing == 0 && total > 0 ? 0 : 1;
}
