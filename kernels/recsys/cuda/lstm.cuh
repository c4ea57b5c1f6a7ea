// recsys/cuda/lstm.cuh — the LSTM slots on the GPU: the fused cell of one time step (forward and backward), and the launcher of the persistent whole-sequence kernels.
#pragma once

#include <cmath>
#include <cstdint>
#include <map>
#include <mutex>
#include <tuple>

#include "recsys/cpu/lstm.hpp"
#include "recsys/cuda/common.cuh"
#include "recsys/cuda/lstm_cell.cuh"
#include "recsys/cuda/lstm_persistent.cuh"

namespace recsys::cuda {

// ops/lstm.hpp does the GEMMs (the input projection for all steps at once, then one recurrent GEMM
// per step) through gemm_slot; these kernels are the element-wise part between them, fused so a
// step reads its gates once and writes c, tanh(c) and h in the same pass.

/// One thread per (row b, unit j); the four gates of a unit are H apart in the row.
template <class T>
__global__ void lstm_cell_forward_kernel(LstmCellForwardArgs<T> p) {
  const std::int64_t H = p.hidden, total = p.batch * H;
  const std::int64_t step = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t e = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += step) {
    const std::int64_t b = e / H, j = e % H;
    T* g = p.gates + b * p.ld_gates + j;
    const CellForward<T> r = cell_forward(g[0] + p.bias[j], g[H] + p.bias[H + j], g[2 * H] + p.bias[2 * H + j],
                                          g[3 * H] + p.bias[3 * H + j], p.c_prev[b * p.ld_c_prev + j]);
    g[0] = r.i;
    g[H] = r.f;
    g[2 * H] = r.g;
    g[3 * H] = r.o;
    const std::int64_t s = b * p.ld_state + j;
    p.c[s] = r.c;
    p.tanh_c[s] = r.tanh_c;
    p.h[s] = r.h();
    if (p.h_copy) p.h_copy[b * p.ld_h_copy + j] = r.h();
  }
}

/// One thread per (row b, unit j).
template <class T>
__global__ void lstm_cell_backward_kernel(LstmCellBackwardArgs<T> p) {
  const std::int64_t H = p.hidden, total = p.batch * H;
  const std::int64_t step = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t e = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += step) {
    const std::int64_t b = e / H, j = e % H;
    T dh = p.grad_h[b * H + j];
    if (p.grad_out) dh += p.grad_out[b * p.ld_grad_out + j];
    const T* a = p.gates + b * p.ld_gates + j;
    const CellBackward<T> r = cell_backward(dh, p.grad_c[b * H + j], a[0], a[H], a[2 * H], a[3 * H],
                                            p.tanh_c[b * p.ld_tanh_c + j], p.c_prev[b * p.ld_c_prev + j]);
    T* d = p.grad_gates + b * p.ld_grad_gates + j;
    d[0] = r.di;
    d[H] = r.df;
    d[2 * H] = r.dg;
    d[3 * H] = r.do_;
    p.grad_c[b * H + j] = r.dc_prev;
  }
}

/// The lstm_cell_forward_slot CUDA implementation.
template <class T>
void lstm_cell_forward(const LstmCellForwardArgs<T>& p) {
  if (p.batch * p.hidden <= 0) return;
  lstm_cell_forward_kernel<T><<<grid_for(p.batch * p.hidden), kBlock, 0, current_stream()>>>(p);
  check_launch("lstm_cell_forward");
}

/// The lstm_cell_backward_slot CUDA implementation.
template <class T>
void lstm_cell_backward(const LstmCellBackwardArgs<T>& p) {
  if (p.batch * p.hidden <= 0) return;
  lstm_cell_backward_kernel<T><<<grid_for(p.batch * p.hidden), kBlock, 0, current_stream()>>>(p);
  check_launch("lstm_cell_backward");
}

namespace lstm_persistent {

/// How many blocks of `kernel` with `smem` bytes of shared memory can be resident at once on `device`
/// (0: it cannot be launched cooperatively there). Asked once per (kernel, size, device), since the
/// driver queries cost microseconds and training asks once per layer, direction and step.
inline std::int64_t resident_blocks(const void* kernel, std::size_t smem, int device, const char* op) {
  static std::mutex mutex;
  static std::map<std::tuple<const void*, std::size_t, int>, std::int64_t> cache;
  const std::lock_guard lock(mutex);
  const auto key = std::make_tuple(kernel, smem, device);
  if (const auto it = cache.find(key); it != cache.end()) return it->second;
  int cooperative = 0, smem_optin = 0;
  RECSYS_CUDA_CHECK(cudaDeviceGetAttribute(&cooperative, cudaDevAttrCooperativeLaunch, device), op);
  RECSYS_CUDA_CHECK(cudaDeviceGetAttribute(&smem_optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device), op);
  std::int64_t resident = 0;
  if (cooperative && smem <= static_cast<std::size_t>(smem_optin)) {
    if (smem > 48 * 1024)  // above the default a kernel must ask for it
      RECSYS_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)),
                        op);
    int per_sm = 0;
    RECSYS_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, kThreads, smem), op);
    resident = static_cast<std::int64_t>(per_sm) * multiprocessor_count();
  }
  cache.emplace(key, resident);
  return resident;
}

/// Launches `kernel` cooperatively over (ceil(H / kUnits), passes) blocks, fewer passes in parallel if
/// not all fit at once. Returns false, launching nothing, where the device cannot: no cooperative
/// launch, the shared memory exceeds a block's, or the unit groups alone outnumber resident blocks.
template <class Args>
bool launch(void (*kernel)(Args), const Args& p, std::size_t smem, const char* op) {
  const std::int64_t resident = resident_blocks(reinterpret_cast<const void*>(kernel), smem, current_device(), op);
  const std::int64_t unit_groups = (p.hidden + kUnits - 1) / kUnits, passes = (p.batch + kRows - 1) / kRows;
  if (unit_groups > resident || unit_groups > 65535) return false;
  const dim3 grid(static_cast<unsigned>(unit_groups),
                  static_cast<unsigned>(std::min<std::int64_t>({passes, resident / unit_groups, 65535})));
  Args copy = p;
  void* args[] = {&copy};
  RECSYS_CUDA_CHECK(cudaLaunchCooperativeKernel(reinterpret_cast<const void*>(kernel), grid, dim3(kThreads), args,
                                                smem, current_stream()),
                    op);
  ++lstm_persistent_launches();
  return true;
}

}  // namespace lstm_persistent

/// The lstm_sequence_forward_slot CUDA implementation: the persistent kernel when chosen and it fits.
template <class T>
bool lstm_sequence_forward(const LstmSequenceForwardArgs<T>& p) {
  if (lstm_recurrence() != LstmRecurrence::persistent || p.batch <= 0 || p.steps <= 0) return false;
  return lstm_persistent::launch(&lstm_persistent::forward_kernel<T>, p,
                                 lstm_persistent::forward_smem_bytes<T>(p.hidden), "lstm_sequence_forward");
}

/// The lstm_sequence_backward_slot CUDA implementation.
template <class T>
bool lstm_sequence_backward(const LstmSequenceBackwardArgs<T>& p) {
  if (lstm_recurrence() != LstmRecurrence::persistent || p.batch <= 0 || p.steps <= 0) return false;
  return lstm_persistent::launch(&lstm_persistent::backward_kernel<T>, p,
                                 lstm_persistent::backward_smem_bytes<T>(p.hidden), "lstm_sequence_backward");
}

}  // namespace recsys::cuda
