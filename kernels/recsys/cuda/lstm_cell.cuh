// recsys/cuda/lstm_cell.cuh — the LSTM cell of one (row, unit) as device functions, shared by the step kernels (lstm.cuh) and the persistent ones (lstm_persistent.cuh).
#pragma once

#include <cmath>

#include "recsys/cpu/unary.hpp"

namespace recsys::cuda {

// Needs nothing from the CUDA runtime, so tests/cuda_emulation/ can compile it for the CPU.

/// One (row, unit) of the cell forward, from the four bias-shifted pre-activations. Both LSTM
/// recurrences (stepwise and persistent) call it, so both do the same maths.
template <class T>
struct CellForward {
  T i, f, g, o, c, tanh_c;
  __device__ T h() const { return o * tanh_c; }
};
template <class T>
__device__ inline CellForward<T> cell_forward(T pre_i, T pre_f, T pre_g, T pre_o, T c_prev) {
  CellForward<T> r;
  r.i = stable_sigmoid(pre_i);
  r.f = stable_sigmoid(pre_f);
  r.g = std::tanh(pre_g);
  r.o = stable_sigmoid(pre_o);
  r.c = r.f * c_prev + r.i * r.g;
  r.tanh_c = std::tanh(r.c);
  return r;
}

/// One (row, unit) of the cell backward (the CPU's formulas, cpu/lstm.hpp backward_rows_impl): the four
/// gate gradients from dL/dh_t (both paths summed), dL/dc_t and the saved activations; dc_prev is dL/dc_{t-1}.
template <class T>
struct CellBackward {
  T di, df, dg, do_, dc_prev;
};
template <class T>
__device__ inline CellBackward<T> cell_backward(T dh, T dc_next, T i, T f, T g, T o, T tanh_c, T c_prev) {
  const T dc = dc_next + dh * o * (T(1) - tanh_c * tanh_c);
  return {dc * g * i * (T(1) - i), dc * c_prev * f * (T(1) - f), dc * i * (T(1) - g * g),
          dh * tanh_c * o * (T(1) - o), dc * f};
}

}  // namespace recsys::cuda
