// recsys/cpu/lstm.hpp — the fused LSTM cell of one time step on the CPU: forward (gates → c, h) and backward (→ gate gradients).
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "recsys/core/parallel.hpp"
#include "recsys/cpu/lstm_math.hpp"

namespace recsys {

/// One time step of the fused cell forward over `batch` rows. Row b of an operand starts at
/// ptr + b * ld, so the buffers can be the step's slice of a (B, T, ·) sequence. A row of `gates`
/// is four blocks of `hidden` columns in the order i, f, g, o.
template <class T>
struct LstmCellForwardArgs {
  std::int64_t batch = 0, hidden = 0;
  T* gates = nullptr;  // (B, 4H) in: pre-activations less the bias; out: σ(i), σ(f), tanh(g), σ(o) for backward
  std::int64_t ld_gates = 0;
  const T* bias = nullptr;  // (4H) added to every row's pre-activations
  const T* c_prev = nullptr;  // (B, H) c_{t-1}
  std::int64_t ld_c_prev = 0;
  T* c = nullptr;       // (B, H) out: c_t = f * c_{t-1} + i * g
  T* tanh_c = nullptr;  // (B, H) out: tanh(c_t), which backward needs
  T* h = nullptr;       // (B, H) out: h_t = o * tanh(c_t)
  std::int64_t ld_state = 0;  // row stride of c, tanh_c and h
  T* h_copy = nullptr;        // optional second destination for h_t
  std::int64_t ld_h_copy = 0;
};

/// One time step of the fused cell backward: the four gate gradients and the c recurrence.
template <class T>
struct LstmCellBackwardArgs {
  std::int64_t batch = 0, hidden = 0;
  const T* gates = nullptr;  // (B, 4H) activations saved by the forward step
  std::int64_t ld_gates = 0;
  const T* c_prev = nullptr;  // (B, H) c_{t-1}
  std::int64_t ld_c_prev = 0;
  const T* tanh_c = nullptr;  // (B, H) tanh(c_t)
  std::int64_t ld_tanh_c = 0;
  const T* grad_out = nullptr;  // optional (B, H): dL/dh_t arriving from the output sequence
  std::int64_t ld_grad_out = 0;
  const T* grad_h = nullptr;  // (B, H) contiguous: dL/dh_t arriving through the recurrence
  T* grad_c = nullptr;        // (B, H) contiguous: in dL/dc_t, out dL/dc_{t-1}
  T* grad_gates = nullptr;    // (B, 4H) out: dL/d(pre-activations)
  std::int64_t ld_grad_gates = 0;
};

/// One time step of the inference cell: the same maths as LstmCellForwardArgs, but nothing is kept
/// for backward, so c and h are running states updated in place and the gates are scratch.
template <class T>
struct LstmCellInferArgs {
  std::int64_t batch = 0, hidden = 0;
  T* gates = nullptr;  // (B, 4H) in: pre-activations less the bias, blocks i, f, g, o; out: clobbered
  std::int64_t ld_gates = 0;
  const T* bias = nullptr;  // (4H)
  T* c = nullptr;           // (B, H) contiguous: in c_{t-1}, out c_t
  T* h = nullptr;           // (B, H) contiguous: out h_t
  T* h_copy = nullptr;      // optional second destination for h_t (the output sequence)
  std::int64_t ld_h_copy = 0;
};

// The whole recurrence of a layer in one call: every step's recurrent GEMM and cell, forward or
// backward. A backend that keeps w_hh on chip between steps takes these (the CUDA persistent kernels);
// the CPU does not need to, since each thread already carries its band of rows through all steps.
// Element (b, t) of a sequence operand is at ptr + b * ld + t * step.

/// Forward over all T steps. On entry `gates` holds x_t·w_ih (the input projection, no bias); on exit
/// the activations, and c, tanh(c), h are filled: the same as T LstmCellForwardArgs steps, each after
/// gates_t += h_{t-1}·w_hh.
template <class T>
struct LstmSequenceForwardArgs {
  std::int64_t batch = 0, steps = 0, hidden = 0;
  T* gates = nullptr;  // (B, T, 4H)
  std::int64_t ld_gates = 0, step_gates = 0;
  const T* bias = nullptr;   // (4H)
  const T* w_rec = nullptr;  // w_hh as an (H, 4H) operand: element (k, n) at [k * ld + n], or [n * ld + k] if transposed
  std::int64_t ld_w_rec = 0;
  bool trans_w_rec = false;
  const T* h0 = nullptr;  // (B, H) contiguous, or null for zeros
  const T* c0 = nullptr;  // (B, H) contiguous
  T* c = nullptr;         // (B, T, H) out: c_t
  T* tanh_c = nullptr;    // (B, T, H) out: tanh(c_t)
  T* h = nullptr;         // (B, T, H) out: h_t
  std::int64_t ld_state = 0, step_state = 0;
  T* h_copy = nullptr;  // optional: h_t again at element (b, t) for t < T - 1
  std::int64_t ld_h_copy = 0, step_h_copy = 0;
};

/// Backward over all T steps, last to first: the same as T LstmCellBackwardArgs steps, each followed
/// by dL/dh_{t-1} = dgates_t·w_hhᵀ.
template <class T>
struct LstmSequenceBackwardArgs {
  std::int64_t batch = 0, steps = 0, hidden = 0;
  const T* gates = nullptr;  // (B, T, 4H) the activations the forward saved
  std::int64_t ld_gates = 0, step_gates = 0;
  const T* c = nullptr;       // (B, T, H) c_t
  const T* tanh_c = nullptr;  // (B, T, H) tanh(c_t)
  std::int64_t ld_state = 0, step_state = 0;
  const T* c0 = nullptr;        // (B, H) contiguous
  const T* grad_out = nullptr;  // optional (B, T, H): dL/dh_t from the output sequence
  std::int64_t ld_grad_out = 0, step_grad_out = 0;
  const T* w_rec = nullptr;  // w_hh as the forward read it (LstmSequenceForwardArgs::w_rec)
  std::int64_t ld_w_rec = 0;
  bool trans_w_rec = false;
  T* grad_h = nullptr;  // (B, H) contiguous: in dL/dh_{T-1}; out dL/dh0 when need_grad_h0, else clobbered
  T* grad_c = nullptr;  // (B, H) contiguous: in dL/dc_{T-1}; out dL/dc0
  T* grad_gates = nullptr;  // (B, T, 4H) out: dL/d(pre-activations)
  std::int64_t ld_grad_gates = 0, step_grad_gates = 0;
  bool need_grad_h0 = false;
};

namespace cpu {

/// Below this many cell elements (batch * hidden) one step stays on one thread: forking costs more.
inline constexpr std::int64_t kLstmCellGrain = 4096;

namespace lstm_detail {

using vmath::act_sigmoid;
using vmath::act_tanh;

/// Pass 1 of a step, over one row's 4H gates in place: σ on the i, f and o blocks and tanh on g,
/// each of the bias-shifted pre-activation. Every element is independent and the loop body short, so
/// the CPU overlaps many iterations; one loop doing all five activations of a unit in a row instead
/// waits on a chain of two exp-and-divide sequences per unit (about twice as slow).
template <class T>
[[gnu::always_inline]] inline void activate_gates(T* __restrict g, const T* __restrict bias, std::int64_t H) {
  if constexpr (std::is_same_v<T, float>) {
#pragma omp simd
    for (std::int64_t j = 0; j < 2 * H; ++j) g[j] = act_sigmoid(g[j] + bias[j]);
#pragma omp simd
    for (std::int64_t j = 2 * H; j < 3 * H; ++j) g[j] = act_tanh(g[j] + bias[j]);
#pragma omp simd
    for (std::int64_t j = 3 * H; j < 4 * H; ++j) g[j] = act_sigmoid(g[j] + bias[j]);
  } else {  // std::exp and std::tanh do not vectorize
    for (std::int64_t j = 0; j < 2 * H; ++j) g[j] = act_sigmoid(g[j] + bias[j]);
    for (std::int64_t j = 2 * H; j < 3 * H; ++j) g[j] = act_tanh(g[j] + bias[j]);
    for (std::int64_t j = 3 * H; j < 4 * H; ++j) g[j] = act_sigmoid(g[j] + bias[j]);
  }
}

/// Pass 2 for hidden unit j, from the activated gates: c_t and tanh(c_t). One function for training
/// and inference, so both contract the same multiply-adds and give the same bits.
template <class T>
[[gnu::always_inline]] inline T cell_state(const T* g, std::int64_t H, T c_prev, std::int64_t j) {
  return g[H + j] * c_prev + g[j] * g[2 * H + j];
}

template <class T>
[[gnu::always_inline]] inline void forward_rows(const LstmCellForwardArgs<T>& p, std::int64_t b0, std::int64_t b1) {
  const std::int64_t H = p.hidden;
  for (std::int64_t b = b0; b < b1; ++b) {
    T* __restrict g = p.gates + b * p.ld_gates;
    activate_gates(g, p.bias, H);
    const T* __restrict c_prev = p.c_prev + b * p.ld_c_prev;
    T* __restrict c = p.c + b * p.ld_state;
    T* __restrict tanh_c = p.tanh_c + b * p.ld_state;
    T* __restrict h = p.h + b * p.ld_state;
#pragma omp simd
    for (std::int64_t j = 0; j < H; ++j) {
      const T cj = cell_state(g, H, c_prev[j], j);
      const T t = act_tanh(cj);
      c[j] = cj;
      tanh_c[j] = t;
      h[j] = g[3 * H + j] * t;
    }
    if (p.h_copy) std::copy(h, h + H, p.h_copy + b * p.ld_h_copy);
  }
}

template <class T>
[[gnu::always_inline]] inline void infer_rows(const LstmCellInferArgs<T>& p, std::int64_t b0, std::int64_t b1) {
  const std::int64_t H = p.hidden;
  for (std::int64_t b = b0; b < b1; ++b) {
    T* __restrict g = p.gates + b * p.ld_gates;
    activate_gates(g, p.bias, H);
    T* __restrict c = p.c + b * H;
    T* __restrict h = p.h + b * H;
    // The same expressions as forward_rows, so inference and training give the same bits.
#pragma omp simd
    for (std::int64_t j = 0; j < H; ++j) {
      const T cj = cell_state(g, H, c[j], j);
      c[j] = cj;
      h[j] = g[3 * H + j] * act_tanh(cj);
    }
    if (p.h_copy) std::copy(h, h + H, p.h_copy + b * p.ld_h_copy);
  }
}

template <class T, bool kGradOut>
[[gnu::always_inline]] inline void backward_rows_impl(const LstmCellBackwardArgs<T>& p, std::int64_t b0,
                                                      std::int64_t b1) {
  const std::int64_t H = p.hidden;
  for (std::int64_t b = b0; b < b1; ++b) {
    const T* ai = p.gates + b * p.ld_gates;
    const T* af = ai + H;
    const T* ag = af + H;
    const T* ao = ag + H;
    const T* cp = p.c_prev + b * p.ld_c_prev;
    const T* tc = p.tanh_c + b * p.ld_tanh_c;
    const T* dout = kGradOut ? p.grad_out + b * p.ld_grad_out : nullptr;
    const T* dh = p.grad_h + b * H;
    T* dc = p.grad_c + b * H;
    T* di = p.grad_gates + b * p.ld_grad_gates;
    T* df = di + H;
    T* dg = df + H;
    T* d_o = dg + H;
#pragma omp simd
    for (std::int64_t j = 0; j < H; ++j) {
      T dhj = dh[j];
      if constexpr (kGradOut) dhj += dout[j];
      const T i = ai[j], f = af[j], g = ag[j], o = ao[j], t = tc[j];
      // h = o * tanh(c) and c = f * c_prev + i * g; σ' = σ(1 - σ), tanh' = 1 - tanh².
      const T dcj = dc[j] + dhj * o * (T(1) - t * t);
      di[j] = dcj * g * i * (T(1) - i);
      df[j] = dcj * cp[j] * f * (T(1) - f);
      dg[j] = dcj * i * (T(1) - g * g);
      d_o[j] = dhj * t * o * (T(1) - o);
      dc[j] = dcj * f;
    }
  }
}

template <class T>
[[gnu::always_inline]] inline void backward_rows(const LstmCellBackwardArgs<T>& p, std::int64_t b0, std::int64_t b1) {
  if (p.grad_out) backward_rows_impl<T, true>(p, b0, b1);
  else backward_rows_impl<T, false>(p, b0, b1);
}

template <class T>
using ForwardRowsFn = void (*)(const LstmCellForwardArgs<T>&, std::int64_t, std::int64_t);
template <class T>
using BackwardRowsFn = void (*)(const LstmCellBackwardArgs<T>&, std::int64_t, std::int64_t);
template <class T>
using InferRowsFn = void (*)(const LstmCellInferArgs<T>&, std::int64_t, std::int64_t);

// The same row loops compiled three times: for the baseline ISA the build targets and, on x86,
// for AVX2 and AVX-512, chosen once at run time. The library needs no -march flag, yet the float
// activations run 8 or 16 lanes wide where the CPU allows.
template <class T>
void forward_rows_base(const LstmCellForwardArgs<T>& p, std::int64_t b0, std::int64_t b1) {
  forward_rows(p, b0, b1);
}
template <class T>
void backward_rows_base(const LstmCellBackwardArgs<T>& p, std::int64_t b0, std::int64_t b1) {
  backward_rows(p, b0, b1);
}
template <class T>
void infer_rows_base(const LstmCellInferArgs<T>& p, std::int64_t b0, std::int64_t b1) {
  infer_rows(p, b0, b1);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define RECSYS_LSTM_X86_DISPATCH 1
[[gnu::target("avx2,fma")]] inline void forward_rows_avx2(const LstmCellForwardArgs<float>& p, std::int64_t b0,
                                                          std::int64_t b1) {
  forward_rows(p, b0, b1);
}
[[gnu::target("avx2,fma")]] inline void backward_rows_avx2(const LstmCellBackwardArgs<float>& p, std::int64_t b0,
                                                           std::int64_t b1) {
  backward_rows(p, b0, b1);
}
[[gnu::target("avx2,fma")]] inline void infer_rows_avx2(const LstmCellInferArgs<float>& p, std::int64_t b0,
                                                        std::int64_t b1) {
  infer_rows(p, b0, b1);
}
[[gnu::target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")]] inline void infer_rows_avx512(
    const LstmCellInferArgs<float>& p, std::int64_t b0, std::int64_t b1) {
  infer_rows(p, b0, b1);
}
[[gnu::target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")]] inline void forward_rows_avx512(
    const LstmCellForwardArgs<float>& p, std::int64_t b0, std::int64_t b1) {
  forward_rows(p, b0, b1);
}
[[gnu::target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")]] inline void backward_rows_avx512(
    const LstmCellBackwardArgs<float>& p, std::int64_t b0, std::int64_t b1) {
  backward_rows(p, b0, b1);
}
#else
#define RECSYS_LSTM_X86_DISPATCH 0
#endif

/// Instruction sets the float cell kernels are compiled for.
enum class CellIsa { base, avx2, avx512 };

/// The widest instruction set this CPU runs (base off x86).
inline CellIsa best_cell_isa() {
#if RECSYS_LSTM_X86_DISPATCH
  static const CellIsa isa = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw"))
      return CellIsa::avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return CellIsa::avx2;
    return CellIsa::base;
  }();
  return isa;
#else
  return CellIsa::base;
#endif
}

/// The forward row kernel compiled for `isa` (which the CPU must support); double always uses base.
template <class T>
ForwardRowsFn<T> forward_kernel(CellIsa isa) {
#if RECSYS_LSTM_X86_DISPATCH
  if constexpr (std::is_same_v<T, float>) {
    if (isa == CellIsa::avx512) return &forward_rows_avx512;
    if (isa == CellIsa::avx2) return &forward_rows_avx2;
  }
#endif
  (void)isa;
  return &forward_rows_base<T>;
}
template <class T>
InferRowsFn<T> infer_kernel(CellIsa isa) {
#if RECSYS_LSTM_X86_DISPATCH
  if constexpr (std::is_same_v<T, float>) {
    if (isa == CellIsa::avx512) return &infer_rows_avx512;
    if (isa == CellIsa::avx2) return &infer_rows_avx2;
  }
#endif
  (void)isa;
  return &infer_rows_base<T>;
}
template <class T>
BackwardRowsFn<T> backward_kernel(CellIsa isa) {
#if RECSYS_LSTM_X86_DISPATCH
  if constexpr (std::is_same_v<T, float>) {
    if (isa == CellIsa::avx512) return &backward_rows_avx512;
    if (isa == CellIsa::avx2) return &backward_rows_avx2;
  }
#endif
  (void)isa;
  return &backward_rows_base<T>;
}

}  // namespace lstm_detail

/// Name of the instruction set the float LSTM cell uses on this CPU ("avx512", "avx2" or "base").
inline const char* lstm_cell_isa_name() {
  switch (lstm_detail::best_cell_isa()) {
    case lstm_detail::CellIsa::avx512: return "avx512";
    case lstm_detail::CellIsa::avx2: return "avx2";
    case lstm_detail::CellIsa::base: break;
  }
  return "base";
}

/// Whether a step kernel over rows·hidden elements forks: only when it is big enough to pay for the
/// fork and not already running inside a parallel band (where num_threads() is 1).
inline bool lstm_cell_parallel(std::int64_t rows, std::int64_t hidden) {
  return rows > 1 && rows * hidden >= kLstmCellGrain && num_threads() > 1;
}

/// The fused cell forward for one step; rows are independent, so any thread split gives the same bits.
template <class T>
void lstm_cell_forward(const LstmCellForwardArgs<T>& p) {
  const lstm_detail::ForwardRowsFn<T> rows = lstm_detail::forward_kernel<T>(lstm_detail::best_cell_isa());
  if (!lstm_cell_parallel(p.batch, p.hidden)) return rows(p, 0, p.batch);
#pragma omp parallel for schedule(static)
  for (std::int64_t b = 0; b < p.batch; ++b) rows(p, b, b + 1);
}

/// The inference cell for one step (running c and h updated in place); rows are independent.
template <class T>
void lstm_cell_infer(const LstmCellInferArgs<T>& p) {
  const lstm_detail::InferRowsFn<T> rows = lstm_detail::infer_kernel<T>(lstm_detail::best_cell_isa());
  if (!lstm_cell_parallel(p.batch, p.hidden)) return rows(p, 0, p.batch);
#pragma omp parallel for schedule(static)
  for (std::int64_t b = 0; b < p.batch; ++b) rows(p, b, b + 1);
}

/// The fused cell backward for one step; rows are independent here too.
template <class T>
void lstm_cell_backward(const LstmCellBackwardArgs<T>& p) {
  const lstm_detail::BackwardRowsFn<T> rows = lstm_detail::backward_kernel<T>(lstm_detail::best_cell_isa());
  if (!lstm_cell_parallel(p.batch, p.hidden)) return rows(p, 0, p.batch);
#pragma omp parallel for schedule(static)
  for (std::int64_t b = 0; b < p.batch; ++b) rows(p, b, b + 1);
}

/// Fewest batch rows worth a band of their own in lstm_row_bands.
inline constexpr std::int64_t kLstmMinBandRows = 4;

/// How many bands lstm_row_bands cuts `rows` batch rows into (one per thread, at least kLstmMinBandRows each).
inline std::int64_t lstm_band_count(std::int64_t rows) {
  return std::max<std::int64_t>(1, std::min<std::int64_t>(num_threads(), rows / kLstmMinBandRows));
}

/// Calls fn(r0, r1) on disjoint bands of rows [0, rows) covering them all, one band per thread.
/// An LSTM's batch rows never interact (h_t[b] needs only h_{t-1}[b]), so a thread can carry its band
/// through every time step with no barrier between steps. Inside a band num_threads() is 1, so the
/// GEMMs and cells it calls run on that thread alone. Each row's arithmetic is the same in any band
/// (GEMM elements do not depend on their tile), so the results do not depend on the thread count.
template <class F>
void lstm_row_bands(std::int64_t rows, F&& fn) {
  const std::int64_t bands = lstm_band_count(rows);
  if (bands <= 1) return fn(std::int64_t{0}, rows);
#pragma omp parallel for schedule(static) num_threads(static_cast<int>(bands))
  for (std::int64_t band = 0; band < bands; ++band) {
    set_num_threads(1);  // this thread's nested ICV only; restored when the region ends
    fn(rows * band / bands, rows * (band + 1) / bands);
  }
}

}  // namespace cpu
}  // namespace recsys
