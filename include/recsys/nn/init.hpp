// recsys/nn/init.hpp — weight initializers with Keras's defaults, all drawn from a recsys::Generator.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "recsys/core/factory.hpp"
#include "recsys/core/random.hpp"

namespace recsys::nn::init {

/// Keras glorot_uniform: U(-l, l) with l = sqrt(6 / (fan_in + fan_out)).
inline Tensor glorot_uniform(const Shape& shape, std::int64_t fan_in, std::int64_t fan_out, Generator& gen,
                             DType dtype = DType::float32) {
  const double limit = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  return uniform(shape, -limit, limit, gen, dtype);
}

/// Keras RandomUniform(-0.05, 0.05), the default for embeddings.
inline Tensor small_uniform(const Shape& shape, Generator& gen, DType dtype = DType::float32) {
  return uniform(shape, -0.05, 0.05, gen, dtype);
}

/// Keras Orthogonal(gain=1) for a (rows, cols) matrix: a normal matrix of the taller orientation is
/// orthonormalized (QR via modified Gram–Schmidt, signs fixed so the diagonal of R is positive), and
/// transposed when rows < cols — so the rows (or the columns) of the result are orthonormal.
inline Tensor orthogonal(std::int64_t rows, std::int64_t cols, Generator& gen, DType dtype = DType::float32) {
  const std::int64_t tall = std::max(rows, cols), wide = std::min(rows, cols);
  std::vector<double> q = randn({tall, wide}, gen, DType::float64).to_vector<double>();  // column j: q[i*wide+j]
  auto at = [&](std::int64_t i, std::int64_t j) -> double& { return q[static_cast<std::size_t>(i * wide + j)]; };
  for (std::int64_t j = 0; j < wide; ++j) {
    for (std::int64_t p = 0; p < j; ++p) {
      double dot = 0;
      for (std::int64_t i = 0; i < tall; ++i) dot += at(i, p) * at(i, j);
      for (std::int64_t i = 0; i < tall; ++i) at(i, j) -= dot * at(i, p);
    }
    double norm = 0;
    for (std::int64_t i = 0; i < tall; ++i) norm += at(i, j) * at(i, j);
    norm = std::sqrt(norm);  // > 0 with probability 1 for a Gaussian matrix
    for (std::int64_t i = 0; i < tall; ++i) at(i, j) /= norm;
  }
  Tensor t = from_vector(q, {tall, wide});
  if (rows < cols) t = t.t().contiguous();
  return t.to(dtype);
}

}  // namespace recsys::nn::init
