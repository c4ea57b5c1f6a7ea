// recsys/ops/embedding.hpp — embedding(weight, ids): a table lookup whose gradient is a deterministic scatter-add.
#pragma once

#include <cstdint>

#include "recsys/autograd/function.hpp"
#include "recsys/core/dispatch.hpp"
#include "recsys/core/tensor.hpp"
#include "recsys/cpu/embedding.hpp"
#include "recsys/ops/checks.hpp"

namespace recsys {

/// out (n, dim) = weight[ids] ; returns the first position whose id is outside [0, vocab), else -1.
template <class Id, class T>
inline KernelSlot<std::int64_t(const Id*, std::int64_t, const T*, std::int64_t, std::int64_t, T*)>
    embedding_forward_slot{"embedding_forward", &cpu::embedding_forward<Id, T>};
/// grad_weight (vocab, dim) = scatter-add of grad_out (n, dim) by id, skipping padding_idx.
template <class Id, class T>
inline KernelSlot<void(const Id*, std::int64_t, const T*, std::int64_t, std::int64_t, std::int64_t, T*)>
    embedding_backward_slot{"embedding_backward", &cpu::embedding_backward<Id, T>};

namespace detail {
/// The multi-index of flat position `flat` in `shape`, for error messages: [3, 17].
inline Shape unravel_index(std::int64_t flat, const Shape& shape) {
  Shape index = Shape::filled(shape.size(), 0);
  for (int d = shape.size() - 1; d >= 0; --d) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return index;
}
}  // namespace detail

/// weight: (vocab, dim); ids: int32 or int64 of any shape → ids.shape + [dim]. Row `padding_idx`
/// (-1: none) is looked up like any other but never receives a gradient, as in Keras' mask_zero
/// tables and PyTorch's padding_idx. ids get no gradient.
inline Tensor embedding(const Tensor& weight, const Tensor& ids, std::int64_t padding_idx = -1) {
  detail::check_floating("embedding", "weight", weight);
  detail::check_dim("embedding", "weight", weight, 2, "(vocab, dim)");
  detail::check_defined("embedding", "ids", ids);
  RECSYS_CHECK(!ids.is_floating_point(), "embedding: ids must be int32 or int64, got ", ids.dtype());
  detail::check_same("embedding", {{"weight", &weight}, {"ids", &ids}}, /*same_dtype=*/false);
  const std::int64_t vocab = weight.size(0), dim = weight.size(1);
  RECSYS_CHECK(padding_idx >= -1 && padding_idx < vocab, "embedding: padding_idx ", padding_idx,
               " is outside the vocabulary of ", vocab, " rows (use -1 for none)");
  const Tensor w = weight.contiguous(), idc = ids.contiguous();
  const std::int64_t n = ids.numel();
  Shape out_shape = ids.shape();
  out_shape.push_back(dim);
  Tensor out = Tensor::empty(out_shape, {weight.dtype(), weight.device()});
  visit_integer(ids.dtype(), "embedding", [&]<class Id>() {
    visit_floating(weight.dtype(), "embedding", [&]<class T>() {
      const std::int64_t bad =
          embedding_forward_slot<Id, T>(weight.device(), idc.data<Id>(), n, w.data<T>(), vocab, dim, out.data<T>());
      if (bad >= 0) {
        RECSYS_FAIL("embedding: id ", ids.cpu().contiguous().data<Id>()[bad], " at position ",
                    detail::unravel_index(bad, ids.shape()), " of ids with shape ", ids.shape(),
                    " is out of range for a vocabulary of ", vocab, " rows (valid ids are 0..", vocab - 1, ")");
      }
    });
  });
  if (!autograd::should_record(weight)) return out;
  const autograd::SavedTensor sids(idc);
  autograd::record("embedding", {weight}, {out}, [=](const autograd::TensorList& g) -> autograd::TensorList {
    const Tensor& idv = sids.get("embedding");
    const Tensor gy = g[0].contiguous();
    Tensor gw = Tensor::empty({vocab, dim}, {gy.dtype(), gy.device()});
    visit_integer(idv.dtype(), "embedding", [&]<class Id>() {
      visit_floating(gy.dtype(), "embedding", [&]<class T>() {
        embedding_backward_slot<Id, T>(gy.device(), idv.data<Id>(), n, gy.data<T>(), vocab, dim, padding_idx,
                                       gw.data<T>());
      });
    });
    return {gw};
  });
  return out;
}

}  // namespace recsys
