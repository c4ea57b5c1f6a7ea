// recsys/cpu/gemm_args.hpp — GemmArgs: the argument block of a row-major (batched) GEMM, shared by every GEMM kernel.
#pragma once

#include <cstdint>

namespace recsys {

/// C[b] = alpha * op(A[b]) · op(B[b]) + beta * C[b] for b < batch, all row-major. op(A) is m×k
/// (A is k×m when trans_a), op(B) is k×n (B is n×k when trans_b). Leading dimensions and batch
/// strides are in elements; a batch stride of 0 reuses one matrix for every batch. beta == 0
/// never reads C (it may hold NaN).
template <class T>
struct GemmArgs {
  bool trans_a = false, trans_b = false;
  std::int64_t m = 0, n = 0, k = 0;
  T alpha = 1;
  const T* a = nullptr;
  std::int64_t lda = 0, stride_a = 0;
  const T* b = nullptr;
  std::int64_t ldb = 0, stride_b = 0;
  T beta = 0;
  T* c = nullptr;
  std::int64_t ldc = 0, stride_c = 0;
  std::int64_t batch = 1;
};

}  // namespace recsys
