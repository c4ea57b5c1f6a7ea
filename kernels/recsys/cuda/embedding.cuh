// recsys/cuda/embedding.cuh — embedding gather, and its scatter-add gradient: deterministic (sorted ids) or atomic, chosen by cuda::set_embedding_backward.
#pragma once

#include <cub/device/device_radix_sort.cuh>

#include <cstdint>

#include "recsys/cuda/common.cuh"
#include "recsys/cuda/memory.cuh"

namespace recsys::cuda {

/// out[i, :] = weight[ids[i], :]; rows of invalid ids are zeroed and the first bad position kept (atomicMin).
template <class Id, class T>
__global__ void embedding_gather_kernel(const Id* ids, std::int64_t n, const T* weight, std::int64_t vocab,
                                        std::int64_t dim, T* out, unsigned long long* first_bad) {
  for (std::int64_t i = blockIdx.x; i < n; i += gridDim.x) {
    const std::int64_t id = static_cast<std::int64_t>(ids[i]);
    const bool ok = id >= 0 && id < vocab;
    if (!ok && threadIdx.x == 0) atomicMin(first_bad, static_cast<unsigned long long>(i));
    for (std::int64_t c = threadIdx.x; c < dim; c += blockDim.x) out[i * dim + c] = ok ? weight[id * dim + c] : T(0);
  }
}

/// After sorting (ids, positions) by id: the block at the first position of each run of equal ids
/// sums that id's rows in position order (the sort is stable) — the CPU's order exactly.
template <class Id, class T>
__global__ void embedding_sorted_sum_kernel(const Id* sorted_ids, const std::int64_t* positions, std::int64_t n,
                                            const T* grad_out, std::int64_t vocab, std::int64_t dim,
                                            std::int64_t padding_idx, T* grad_weight) {
  for (std::int64_t i = blockIdx.x; i < n; i += gridDim.x) {
    const Id id = sorted_ids[i];
    if (i > 0 && sorted_ids[i - 1] == id) continue;  // not the start of a run
    const std::int64_t v = static_cast<std::int64_t>(id);
    if (v < 0 || v >= vocab || v == padding_idx) continue;
    for (std::int64_t c = threadIdx.x; c < dim; c += blockDim.x) {
      T acc = 0;
      for (std::int64_t j = i; j < n && sorted_ids[j] == id; ++j) acc += grad_out[positions[j] * dim + c];
      grad_weight[v * dim + c] = acc;
    }
  }
}

template <class T>
__global__ void embedding_atomic_kernel(const void* ids_raw, bool ids64, std::int64_t n, const T* grad_out,
                                        std::int64_t vocab, std::int64_t dim, std::int64_t padding_idx,
                                        T* grad_weight) {
  for (std::int64_t i = blockIdx.x; i < n; i += gridDim.x) {
    const std::int64_t v = ids64 ? static_cast<const std::int64_t*>(ids_raw)[i]
                                 : static_cast<const std::int32_t*>(ids_raw)[i];
    if (v < 0 || v >= vocab || v == padding_idx) continue;
    for (std::int64_t c = threadIdx.x; c < dim; c += blockDim.x) atomicAdd(&grad_weight[v * dim + c], grad_out[i * dim + c]);
  }
}

__global__ inline void iota_kernel(std::int64_t* p, std::int64_t n) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) p[i] = i;
}

/// Threads per row for the row-wise embedding kernels: the dimension rounded up to a warp, at most 256.
inline int embedding_block(std::int64_t dim) { return static_cast<int>(std::min<std::int64_t>(256, (dim + 31) / 32 * 32)); }

/// The embedding_forward_slot CUDA implementation: returns the first invalid position or -1 (waits for the GPU).
template <class Id, class T>
std::int64_t embedding_forward(const Id* ids, std::int64_t n, const T* weight, std::int64_t vocab, std::int64_t dim,
                               T* out) {
  if (n <= 0) return -1;
  const cudaStream_t s = current_stream();
  DeviceScratch bad(sizeof(unsigned long long));
  const unsigned long long none = static_cast<unsigned long long>(n);
  RECSYS_CUDA_CHECK(cudaMemcpyAsync(bad.as<void>(), &none, sizeof(none), cudaMemcpyHostToDevice, s), "embedding");
  if (dim > 0)
    embedding_gather_kernel<Id, T><<<static_cast<unsigned>(std::min<std::int64_t>(n, 65535)), embedding_block(dim), 0, s>>>(
        ids, n, weight, vocab, dim, out, bad.as<unsigned long long>());
  check_launch("embedding");
  unsigned long long first = none;
  RECSYS_CUDA_CHECK(cudaMemcpyAsync(&first, bad.as<void>(), sizeof(first), cudaMemcpyDeviceToHost, s), "embedding");
  RECSYS_CUDA_CHECK(cudaStreamSynchronize(s), "embedding");
  return first == none ? -1 : static_cast<std::int64_t>(first);
}

/// The embedding_backward_slot CUDA implementation.
template <class Id, class T>
void embedding_backward(const Id* ids, std::int64_t n, const T* grad_out, std::int64_t vocab, std::int64_t dim,
                        std::int64_t padding_idx, T* grad_weight) {
  const cudaStream_t s = current_stream();
  if (vocab * dim > 0)
    RECSYS_CUDA_CHECK(cudaMemsetAsync(grad_weight, 0, static_cast<std::size_t>(vocab * dim) * sizeof(T), s),
                      "embedding_backward");
  if (n <= 0 || dim <= 0) return;
  const unsigned grid = static_cast<unsigned>(std::min<std::int64_t>(n, 65535));
  if (embedding_backward_mode() == EmbeddingBackward::atomic) {
    embedding_atomic_kernel<T><<<grid, embedding_block(dim), 0, s>>>(ids, sizeof(Id) == 8, n, grad_out, vocab, dim,
                                                                    padding_idx, grad_weight);
    check_launch("embedding_backward");
    return;
  }
  // Sort (id, position) pairs by id with CUB's stable radix sort, then sum each run.
  DeviceScratch keys(static_cast<std::size_t>(n) * sizeof(Id)), pos_in(static_cast<std::size_t>(n) * 8),
      pos_out(static_cast<std::size_t>(n) * 8);
  iota_kernel<<<grid_for(n), kBlock, 0, s>>>(pos_in.as<std::int64_t>(), n);
  std::size_t temp_bytes = 0;
  RECSYS_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, ids, keys.as<Id>(), pos_in.as<std::int64_t>(),
                                                    pos_out.as<std::int64_t>(), static_cast<int>(n), 0,
                                                    static_cast<int>(sizeof(Id) * 8), s),
                    "embedding_backward (sort)");
  DeviceScratch temp(temp_bytes);
  RECSYS_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp.as<void>(), temp_bytes, ids, keys.as<Id>(),
                                                    pos_in.as<std::int64_t>(), pos_out.as<std::int64_t>(),
                                                    static_cast<int>(n), 0, static_cast<int>(sizeof(Id) * 8), s),
                    "embedding_backward (sort)");
  embedding_sorted_sum_kernel<Id, T><<<grid, embedding_block(dim), 0, s>>>(keys.as<Id>(), pos_out.as<std::int64_t>(), n,
                                                                          grad_out, vocab, dim, padding_idx, grad_weight);
  check_launch("embedding_backward");
}

}  // namespace recsys::cuda
