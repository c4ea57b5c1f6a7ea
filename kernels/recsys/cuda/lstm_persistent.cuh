// recsys/cuda/lstm_persistent.cuh — the whole LSTM recurrence (all T steps, forward or backward) in one cooperative kernel that keeps each block's slice of w_hh in shared memory.
#pragma once

#include <cooperative_groups.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "recsys/cpu/lstm.hpp"
#include "recsys/cuda/lstm_cell.cuh"

namespace recsys::cuda {

// Why: stepwise, every step is two launches (recurrent GEMM, cell) forward and two backward, and the
// recurrent GEMM is skinny (B × 4H × H) so it fills few SMs; at the reference shapes the launches and
// the idle SMs cost more than the arithmetic. Here one launch covers all steps: block (x, y) owns
// hidden units [8x, 8x + 8) and batch rows in passes of 32 (y, y + gridDim.y, ...), loads its units'
// columns of w_hh into shared memory once, and between steps the grid synchronises so every block
// sees the whole h_{t-1} (forward) or dgates_{t+1} (backward). Thread (r, u) of a pass owns one
// (row, unit): the four gate dot products of that unit (forward) or one dot product over 4H (backward),
// then the cell. A (row, unit) is always handled by the same thread, so c and dL/dc never cross threads.
//
// Each dot product runs in plain k order from zero, one FMA chain, and is then added to the input
// projection, exactly as the tiled GEMM does it: the two recurrences round the same way.
//
// Only kernels here, no runtime calls (lstm.cuh launches them): tests/cuda_emulation/ compiles this
// file for the CPU, with one thread per CUDA thread, to check the indexing and the synchronisation.

namespace lstm_persistent {

#if !defined(RECSYS_CUDA_EMULATION)
/// The block's dynamic shared memory (the emulation supplies its own).
__device__ inline unsigned char* block_shared_memory() {
  extern __shared__ __align__(16) unsigned char smem[];
  return smem;
}
#endif

inline constexpr int kUnits = 8;                 // hidden units per block
inline constexpr int kRows = 32;                 // batch rows per pass
inline constexpr int kThreads = kUnits * kRows;  // one thread per (row, unit) of a pass
inline constexpr int kChunk = 128;               // dgates columns staged at a time (backward)
inline constexpr int kPad = 4;                   // elements of padding per staged row: rows start in different banks

/// Four consecutive elements, read from shared memory in one (float) or two (double) 128-bit loads.
template <class T>
struct alignas(16) Quad {
  T v[4];
};
template <class T>
__device__ inline Quad<T> quad_at(const T* p) {
  return *reinterpret_cast<const Quad<T>*>(p);
}

constexpr std::int64_t round_up4(std::int64_t n) { return (n + 3) / 4 * 4; }

/// Element (k, n) of w_hh read as an (H, 4H) operand.
template <class T>
__device__ inline T weight_at(const T* w, std::int64_t ld, bool trans, std::int64_t k, std::int64_t n) {
  return trans ? w[n * ld + k] : w[k * ld + n];
}

/// Forward shared memory: w[k][unit][gate] for k < round_up4(H) (zero past H), then the pass's h_{t-1}
/// rows [row][k] with kPad extra columns.
template <class T>
std::size_t forward_smem_bytes(std::int64_t hidden) {
  const std::int64_t k4 = round_up4(hidden);
  return static_cast<std::size_t>(k4 * kUnits * 4 + kRows * (k4 + kPad)) * sizeof(T);
}

/// Backward shared memory: w[unit][n] for n < 4H (rows kPad longer), then a chunk of the pass's
/// dgates_{t+1} rows [row][n].
template <class T>
std::size_t backward_smem_bytes(std::int64_t hidden) {
  return static_cast<std::size_t>(kUnits * (4 * hidden + kPad) + kRows * (kChunk + kPad)) * sizeof(T);
}

/// 16 bytes of T as one of CUDA's vector types (one 128-bit load).
template <class T>
struct Vector16;
template <>
struct Vector16<float> {
  using type = float4;
};
template <>
struct Vector16<double> {
  using type = double2;
};

/// stage_rows with V elements per load: V = 1, or a whole 16-byte vector when the caller checked alignment.
template <class T, int V>
__device__ inline void stage_rows_by(T* dst, std::int64_t ld_dst, const T* src, std::int64_t ld_src, std::int64_t rows,
                                     int cols, int tid) {
  using Load = std::conditional_t<V == 1, T, typename Vector16<T>::type>;
  constexpr int kBatch = 8;
  const int groups = cols / V, n = kRows * groups;  // 32-bit: 64-bit division costs several times more on the GPU
  for (int e0 = tid; e0 < n; e0 += kThreads * kBatch) {
    Load v[kBatch];
#pragma unroll
    for (int i = 0; i < kBatch; ++i) {
      const int e = e0 + i * kThreads, r = e / groups, c = e % groups * V;
      v[i] = e < n && r < rows ? __ldcg(reinterpret_cast<const Load*>(src + r * ld_src + c)) : Load{};
    }
#pragma unroll
    for (int i = 0; i < kBatch; ++i) {
      const int e = e0 + i * kThreads;
      if (e >= n) continue;
      const T* x = reinterpret_cast<const T*>(&v[i]);
      T* d = dst + e / groups * ld_dst + e % groups * V;
#pragma unroll
      for (int j = 0; j < V; ++j) d[j] = x[j];
    }
  }
}

/// Copies the pass's rows (kRows of them, `rows` < kRows valid, the rest zero) × `cols` columns of a
/// matrix in global memory (row stride ld_src) to shared memory (row stride ld_dst). Other blocks wrote
/// the data before the last grid sync, so it is read through L2 (__ldcg), never from a stale L1 line.
/// Each thread issues 8 loads, 128-bit ones where the rows allow, before it stores any: a pass then
/// waits about one L2 round trip per 8 loads per thread instead of one per element.
template <class T>
__device__ inline void stage_rows(T* dst, std::int64_t ld_dst, const T* src, std::int64_t ld_src, std::int64_t rows,
                                  int cols, int tid) {
  constexpr int V = 16 / static_cast<int>(sizeof(T));
  if (cols % V == 0 && ld_src % V == 0 && reinterpret_cast<std::uintptr_t>(src) % 16 == 0)
    stage_rows_by<T, V>(dst, ld_dst, src, ld_src, rows, cols, tid);
  else
    stage_rows_by<T, 1>(dst, ld_dst, src, ld_src, rows, cols, tid);
}

template <class T>
__global__ void __launch_bounds__(kThreads) forward_kernel(LstmSequenceForwardArgs<T> p) {
  const std::int64_t B = p.batch, H = p.hidden, k4 = round_up4(H), ldh = k4 + kPad;
  T* ws = reinterpret_cast<T*>(block_shared_memory());  // [k4][kUnits][4]
  T* hs = ws + k4 * kUnits * 4;                          // [kRows][ldh]
  const int tid = static_cast<int>(threadIdx.x), lu = tid % kUnits, lr = tid / kUnits;
  const std::int64_t u0 = static_cast<std::int64_t>(blockIdx.x) * kUnits, u = u0 + lu;
  for (std::int64_t e = tid; e < k4 * kUnits * 4; e += kThreads) {
    const std::int64_t k = e / (kUnits * 4), uu = u0 + e / 4 % kUnits, gate = e % 4;
    ws[e] = k < H && uu < H ? weight_at(p.w_rec, p.ld_w_rec, p.trans_w_rec, k, gate * H + uu) : T(0);
  }
  for (std::int64_t e = tid; e < kRows * ldh; e += kThreads) hs[e] = T(0);  // columns past H stay zero
  __syncthreads();

  const std::int64_t passes = (B + kRows - 1) / kRows;
  cooperative_groups::grid_group grid = cooperative_groups::this_grid();
  for (std::int64_t t = 0; t < p.steps; ++t) {
    const T* prev = t > 0 ? p.h + (t - 1) * p.step_state : p.h0;
    const std::int64_t ld_prev = t > 0 ? p.ld_state : H;
    for (std::int64_t pass = blockIdx.y; pass < passes; pass += gridDim.y) {
      const std::int64_t r0 = pass * kRows, r = r0 + lr;
      if (prev) {  // h_{t-1} of the pass's rows; columns H..k4 of hs stay zero
        stage_rows(hs, ldh, prev + r0 * ld_prev, ld_prev, B - r0, static_cast<int>(H), tid);
        __syncthreads();
      }
      if (r < B && u < H) {
        T acc[4] = {T(0), T(0), T(0), T(0)};
        if (prev) {
          const T* hrow = hs + lr * ldh;
          for (std::int64_t k = 0; k < k4; k += 4) {
            const Quad<T> hv = quad_at(hrow + k);
#pragma unroll
            for (int q = 0; q < 4; ++q) {
              const Quad<T> w = quad_at(ws + ((k + q) * kUnits + lu) * 4);
#pragma unroll
              for (int gate = 0; gate < 4; ++gate) acc[gate] = fma(hv.v[q], w.v[gate], acc[gate]);
            }
          }
        }
        T* g = p.gates + r * p.ld_gates + t * p.step_gates + u;
        T pre[4];
#pragma unroll
        for (int gate = 0; gate < 4; ++gate) {
          const T x = g[gate * H];
          pre[gate] = (prev ? acc[gate] + x : x) + p.bias[gate * H + u];
        }
        const T c_prev = t > 0 ? p.c[r * p.ld_state + (t - 1) * p.step_state + u] : p.c0[r * H + u];
        const CellForward<T> cell = cell_forward(pre[0], pre[1], pre[2], pre[3], c_prev);
        g[0] = cell.i;
        g[H] = cell.f;
        g[2 * H] = cell.g;
        g[3 * H] = cell.o;
        const std::int64_t s = r * p.ld_state + t * p.step_state + u;
        p.c[s] = cell.c;
        p.tanh_c[s] = cell.tanh_c;
        p.h[s] = cell.h();
        if (p.h_copy && t + 1 < p.steps) p.h_copy[r * p.ld_h_copy + t * p.step_h_copy + u] = cell.h();
      }
      if (prev) __syncthreads();  // the next pass restages hs
    }
    grid.sync();
  }
}

/// Σ_n dgates[r, n] · w_hh[u, n] over n < 4H for the pass's rows, staging dgates kChunk columns at a
/// time (every thread of the block must call it: it synchronises the block).
template <class T>
__device__ inline T dgates_times_w(const T* dg, std::int64_t ld, std::int64_t B, std::int64_t r0, std::int64_t G,
                                   const T* wrow, T* ds, int tid, int lr) {
  constexpr std::int64_t ldd = kChunk + kPad;
  T acc = T(0);
  for (std::int64_t n0 = 0; n0 < G; n0 += kChunk) {
    const int width = static_cast<int>(std::min<std::int64_t>(kChunk, G - n0));  // a multiple of 4, as G is
    __syncthreads();  // the previous chunk has been read
    stage_rows(ds, ldd, dg + r0 * ld + n0, ld, B - r0, width, tid);
    __syncthreads();
    const T* drow = ds + lr * ldd;
    for (int n = 0; n < width; n += 4) {
      const Quad<T> d = quad_at(drow + n), w = quad_at(wrow + n0 + n);
#pragma unroll
      for (int q = 0; q < 4; ++q) acc = fma(d.v[q], w.v[q], acc);
    }
  }
  return acc;
}

template <class T>
__global__ void __launch_bounds__(kThreads) backward_kernel(LstmSequenceBackwardArgs<T> p) {
  const std::int64_t B = p.batch, H = p.hidden, G = 4 * H, ldw = G + kPad;
  T* ws = reinterpret_cast<T*>(block_shared_memory());  // [kUnits][ldw]
  T* ds = ws + kUnits * ldw;                             // [kRows][kChunk + kPad]
  const int tid = static_cast<int>(threadIdx.x), lu = tid % kUnits, lr = tid / kUnits;
  const std::int64_t u0 = static_cast<std::int64_t>(blockIdx.x) * kUnits, u = u0 + lu;
  for (std::int64_t e = tid; e < kUnits * G; e += kThreads) {
    const std::int64_t uu = u0 + e / G, n = e % G;
    ws[e / G * ldw + n] = uu < H ? weight_at(p.w_rec, p.ld_w_rec, p.trans_w_rec, uu, n) : T(0);
  }
  __syncthreads();
  const T* wrow = ws + lu * ldw;

  const std::int64_t passes = (B + kRows - 1) / kRows;
  cooperative_groups::grid_group grid = cooperative_groups::this_grid();
  for (std::int64_t t = p.steps - 1; t >= 0; --t) {
    const bool last = t == p.steps - 1;
    for (std::int64_t pass = blockIdx.y; pass < passes; pass += gridDim.y) {
      const std::int64_t r0 = pass * kRows, r = r0 + lr;
      const bool mine = r < B && u < H;
      // dL/dh_t through the recurrence: dgates_{t+1}·w_hhᵀ (other blocks wrote it), or the caller's at T-1.
      T dh = last ? (mine ? p.grad_h[r * H + u] : T(0))
                  : dgates_times_w(p.grad_gates + (t + 1) * p.step_grad_gates, p.ld_grad_gates, B, r0, G, wrow, ds,
                                   tid, lr);
      if (mine) {
        if (p.grad_out) dh += p.grad_out[r * p.ld_grad_out + t * p.step_grad_out + u];
        const T* a = p.gates + r * p.ld_gates + t * p.step_gates + u;
        const std::int64_t s = r * p.ld_state + t * p.step_state + u;
        const T c_prev = t > 0 ? p.c[s - p.step_state] : p.c0[r * H + u];
        const CellBackward<T> cell =
            cell_backward(dh, p.grad_c[r * H + u], a[0], a[H], a[2 * H], a[3 * H], p.tanh_c[s], c_prev);
        T* d = p.grad_gates + r * p.ld_grad_gates + t * p.step_grad_gates + u;
        d[0] = cell.di;
        d[H] = cell.df;
        d[2 * H] = cell.dg;
        d[3 * H] = cell.do_;
        p.grad_c[r * H + u] = cell.dc_prev;
      }
    }
    grid.sync();
  }
  if (!p.need_grad_h0) return;  // uniform over the grid, so no block waits for one that left
  for (std::int64_t pass = blockIdx.y; pass < passes; pass += gridDim.y) {
    const std::int64_t r0 = pass * kRows, r = r0 + lr;
    const T dh0 = dgates_times_w(p.grad_gates, p.ld_grad_gates, B, r0, G, wrow, ds, tid, lr);
    if (r < B && u < H) p.grad_h[r * H + u] = dh0;
  }
}

}  // namespace lstm_persistent
}  // namespace recsys::cuda
