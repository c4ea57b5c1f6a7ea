// recsys/rec/training.hpp — pieces the trained recommenders share: the seed's reference network, the optimizer FitOptions names, and their checks.
#pragma once

#include <cstdint>
#include <string>

#include "recsys/core/random.hpp"
#include "recsys/nn/conv1d.hpp"
#include "recsys/nn/dense.hpp"
#include "recsys/nn/embedding.hpp"
#include "recsys/nn/lstm.hpp"
#include "recsys/nn/maxpool1d.hpp"
#include "recsys/nn/sequential.hpp"
#include "recsys/rec/interface.hpp"
#include "recsys/train/model.hpp"

namespace recsys::rec {

/// The seed document's network: Embedding → Conv1D(relu) → MaxPool1D → LSTM → Dense(1, sigmoid).
using ReferenceNet = nn::Sequential<nn::Embedding, nn::Conv1D, nn::MaxPool1D, nn::LSTM, nn::Dense>;

/// The optimizer options.optimizer names, at options.lr, for train::Model::compile.
inline train::OptimizerFactory optimizer_for(const FitOptions& options) {
  if (options.optimizer == "sgd") return train::sgd({.lr = options.lr});
  return train::adam({.lr = options.lr});
}

/// Checks the sizes of the reference network for sequences of `length` tokens (a convolution of
/// `kernel_size` with `stride`; 0: options.kernel_size).
inline void check_network_options(const std::string& op, const FitOptions& o, std::int64_t length,
                                  std::int64_t kernel_size = 0, std::int64_t stride = 1) {
  if (kernel_size == 0) kernel_size = o.kernel_size;
  RECSYS_CHECK(o.embedding_dim > 0 && o.filters > 0 && kernel_size > 0 && o.pool_size > 0 && o.lstm_units > 0, op,
               ": embedding_dim, filters, kernel_size, pool_size and lstm_units must be positive, got ", o.embedding_dim,
               ", ", o.filters, ", ", kernel_size, ", ", o.pool_size, ", ", o.lstm_units);
  const std::int64_t steps = length < kernel_size ? 0 : (length - kernel_size) / stride + 1;
  RECSYS_CHECK(steps >= o.pool_size, op, ": sequences of ", length, " tokens are too short for kernel_size ",
               kernel_size, " and pool_size ", o.pool_size);
}

/// The reference network for `vocab` token ids (0 is padding), its weights drawn from `seed`. The
/// convolution's kernel and stride default to options.kernel_size and 1, as in the seed.
inline ReferenceNet make_reference_network(std::int64_t vocab, const FitOptions& o, std::uint64_t seed,
                                           std::int64_t kernel_size = 0, std::int64_t stride = 1) {
  Generator gen(seed);
  if (kernel_size == 0) kernel_size = o.kernel_size;
  return ReferenceNet(nn::Embedding(vocab, o.embedding_dim, 0, gen),
                      nn::Conv1D(o.embedding_dim, o.filters, kernel_size,
                                 {.stride = stride, .activation = nn::Activation::relu}, gen),
                      nn::MaxPool1D(o.pool_size), nn::LSTM(o.filters, o.lstm_units, {}, gen),
                      nn::Dense(o.lstm_units, 1, nn::Activation::sigmoid, true, gen));
}

}  // namespace recsys::rec
