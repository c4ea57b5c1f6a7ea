// recsys/nn/embedding.hpp — Embedding: token ids → learned vectors, (..., ) int → (..., dim).
#pragma once

#include <cstdint>
#include <string>

#include "recsys/nn/init.hpp"
#include "recsys/nn/module.hpp"
#include "recsys/ops/embedding.hpp"

namespace recsys::nn {

/// A (vocab, dim) table looked up by integer ids. With a padding index, that row starts at zero and
/// never receives a gradient (PyTorch's padding_idx), so padded positions stay neutral.
class Embedding : public Module {
 public:
  Embedding(std::int64_t vocab_size, std::int64_t dim, std::int64_t padding_idx = -1,
            Generator& gen = default_generator())
      : padding_idx_(padding_idx) {
    RECSYS_CHECK(vocab_size > 0 && dim > 0, "Embedding: vocab_size and dim must be positive, got ", vocab_size,
                 " and ", dim);
    RECSYS_CHECK(padding_idx >= -1 && padding_idx < vocab_size, "Embedding: padding_idx ", padding_idx,
                 " is outside [0, ", vocab_size, ") (use -1 for none)");
    embeddings_ = init::small_uniform({vocab_size, dim}, gen);
    if (padding_idx >= 0) embeddings_.select(0, padding_idx).zero_();
    embeddings_ = make_parameter(embeddings_);
  }

  Tensor forward(const Tensor& ids) const { return embedding(embeddings_, ids, padding_idx_); }
  Tensor operator()(const Tensor& ids) const { return forward(ids); }

  std::string name() const override { return "Embedding"; }
  void visit_parameters(const ParameterVisitor& f) override { f("embeddings", embeddings_); }
  const Tensor& embeddings() const { return embeddings_; }
  std::int64_t padding_idx() const { return padding_idx_; }

 private:
  Tensor embeddings_;
  std::int64_t padding_idx_;
};

}  // namespace recsys::nn
