// recsys/cuda/lstm.cuh — the fused LSTM cell of one time step (forward: gates → c, h; backward: → gate gradients, dL/dc_{t-1}).
#pragma once

#include <cmath>
#include <cstdint>

#include "recsys/cpu/lstm.hpp"
#include "recsys/cuda/common.cuh"

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
    const T i = stable_sigmoid(g[0] + p.bias[j]), f = stable_sigmoid(g[H] + p.bias[H + j]);
    const T gg = std::tanh(g[2 * H] + p.bias[2 * H + j]), o = stable_sigmoid(g[3 * H] + p.bias[3 * H + j]);
    const T c = f * p.c_prev[b * p.ld_c_prev + j] + i * gg;
    const T t = std::tanh(c);
    g[0] = i;
    g[H] = f;
    g[2 * H] = gg;
    g[3 * H] = o;
    const std::int64_t s = b * p.ld_state + j;
    p.c[s] = c;
    p.tanh_c[s] = t;
    p.h[s] = o * t;
    if (p.h_copy) p.h_copy[b * p.ld_h_copy + j] = o * t;
  }
}

/// The CPU's formulas (cpu/lstm.hpp backward_rows_impl), one element per thread.
template <class T>
__global__ void lstm_cell_backward_kernel(LstmCellBackwardArgs<T> p) {
  const std::int64_t H = p.hidden, total = p.batch * H;
  const std::int64_t step = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t e = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += step) {
    const std::int64_t b = e / H, j = e % H;
    T dh = p.grad_h[b * H + j];
    if (p.grad_out) dh += p.grad_out[b * p.ld_grad_out + j];
    const T* a = p.gates + b * p.ld_gates + j;
    const T i = a[0], f = a[H], g = a[2 * H], o = a[3 * H], t = p.tanh_c[b * p.ld_tanh_c + j];
    const T dc = p.grad_c[b * H + j] + dh * o * (T(1) - t * t);
    T* d = p.grad_gates + b * p.ld_grad_gates + j;
    d[0] = dc * g * i * (T(1) - i);
    d[H] = dc * p.c_prev[b * p.ld_c_prev + j] * f * (T(1) - f);
    d[2 * H] = dc * i * (T(1) - g * g);
    d[3 * H] = dh * t * o * (T(1) - o);
    p.grad_c[b * H + j] = dc * f;
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

}  // namespace recsys::cuda
