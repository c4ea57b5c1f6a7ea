// recsys/cuda/enable.cuh — recsys::cuda::enable(): fills the CUDA memory backend and every kernel slot. Include from exactly the .cu files that call it.
#pragma once

#include <cstdint>

// tensor.hpp first: the op headers rely on it having been read (ops/binary.hpp and ops/reduce.hpp include each other).
#include "recsys/core/tensor.hpp"
#include "recsys/cuda/binary.cuh"
#include "recsys/cuda/copy.cuh"
#include "recsys/cuda/dropout.cuh"
#include "recsys/cuda/embedding.cuh"
#include "recsys/cuda/gemm.cuh"
#include "recsys/cuda/loss.cuh"
#include "recsys/cuda/lstm.cuh"
#include "recsys/cuda/maxpool1d.cuh"
#include "recsys/cuda/memory.cuh"
#include "recsys/cuda/optim.cuh"
#include "recsys/cuda/profiler.cuh"
#include "recsys/cuda/reduce.cuh"
#include "recsys/cuda/softmax.cuh"
#include "recsys/cuda/unary.cuh"
#include "recsys/ops/binary.hpp"
#include "recsys/ops/copy.hpp"
#include "recsys/ops/dropout.hpp"
#include "recsys/ops/embedding.hpp"
#include "recsys/ops/loss.hpp"
#include "recsys/ops/lstm.hpp"
#include "recsys/ops/matmul.hpp"
#include "recsys/ops/maxpool1d.hpp"
#include "recsys/ops/reduce.hpp"
#include "recsys/ops/softmax.hpp"
#include "recsys/ops/unary.hpp"
#include "recsys/optim/adam.hpp"
#include "recsys/optim/clip_grad.hpp"
#include "recsys/optim/sgd.hpp"

namespace recsys::cuda {

namespace detail {

/// Slots every element type has (binary, reduce, fill, and copies from T to every type).
template <class T>
void enable_any_type() {
  binary_slot<T>.cuda = &cuda::binary<T>;
  reduce_slot<T>.cuda = &cuda::reduce<T>;
  fill_slot<T>.cuda = &cuda::fill_strided<T>;
  copy_slot<T, float>.cuda = &cuda::copy_strided<T, float>;
  copy_slot<T, double>.cuda = &cuda::copy_strided<T, double>;
  copy_slot<T, std::int32_t>.cuda = &cuda::copy_strided<T, std::int32_t>;
  copy_slot<T, std::int64_t>.cuda = &cuda::copy_strided<T, std::int64_t>;
}

/// Slots only floating-point types have.
template <class T>
void enable_floating() {
  unary_slot<T>.cuda = &cuda::unary<T>;
  unary_backward_slot<T>.cuda = &cuda::unary_backward<T>;
  max_backward_slot<T>.cuda = &cuda::max_backward<T>;
  gemm_slot<T>.cuda = &cuda::gemm<T>;
  softmax_slot<T>.cuda = &cuda::softmax<T>;
  softmax_backward_slot<T>.cuda = &cuda::softmax_backward<T>;
  loss_slot<T>.cuda = &cuda::loss<T>;
  loss_backward_slot<T>.cuda = &cuda::loss_backward<T>;
  nll_slot<T, std::int32_t>.cuda = &cuda::nll<T, std::int32_t>;
  nll_slot<T, std::int64_t>.cuda = &cuda::nll<T, std::int64_t>;
  nll_backward_slot<T, std::int32_t>.cuda = &cuda::nll_backward<T, std::int32_t>;
  nll_backward_slot<T, std::int64_t>.cuda = &cuda::nll_backward<T, std::int64_t>;
  embedding_forward_slot<std::int32_t, T>.cuda = &cuda::embedding_forward<std::int32_t, T>;
  embedding_forward_slot<std::int64_t, T>.cuda = &cuda::embedding_forward<std::int64_t, T>;
  embedding_backward_slot<std::int32_t, T>.cuda = &cuda::embedding_backward<std::int32_t, T>;
  embedding_backward_slot<std::int64_t, T>.cuda = &cuda::embedding_backward<std::int64_t, T>;
  dropout_slot<T>.cuda = &cuda::dropout<T>;
  maxpool1d_forward_slot<T>.cuda = &cuda::maxpool1d_forward<T>;
  maxpool1d_backward_slot<T>.cuda = &cuda::maxpool1d_backward<T>;
  lstm_cell_forward_slot<T>.cuda = &cuda::lstm_cell_forward<T>;
  lstm_cell_backward_slot<T>.cuda = &cuda::lstm_cell_backward<T>;
  lstm_sequence_forward_slot<T>.cuda = &cuda::lstm_sequence_forward<T>;
  lstm_sequence_backward_slot<T>.cuda = &cuda::lstm_sequence_backward<T>;
  optim::adam_update_slot<T>.cuda = &cuda::adam_update<T>;
  optim::sgd_update_slot<T>.cuda = &cuda::sgd_update<T>;
  optim::sum_squares_slot<T>.cuda = &cuda::sum_squares<T>;
  optim::scale_inplace_slot<T>.cuda = &cuda::scale_inplace<T>;
}

}  // namespace detail

/// Makes Device::cuda() usable: the memory backend (caching allocator, copies), the CUDA kernel of
/// every slot, and the profiler's GPU timer. Only assigns pointers, so it is cheap, idempotent and
/// safe without a GPU; the first CUDA call happens when a tensor is first put on the device.
inline void enable() {
  enable_memory();
  profiler_timer::install();
  detail::enable_any_type<float>();
  detail::enable_any_type<double>();
  detail::enable_any_type<std::int32_t>();
  detail::enable_any_type<std::int64_t>();
  detail::enable_floating<float>();
  detail::enable_floating<double>();
}

}  // namespace recsys::cuda
