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
  T* gates = nullptr;  // (B, 4H) in: pre-activations; out: σ(i), σ(f), tanh(g), σ(o) for backward
  std::int64_t ld_gates = 0;
  const T* c_prev = nullptr;  // (B, H) c_{t-1}
  std::int64_t ld_c_prev = 0;
  T* c = nullptr;       // (B, H) out: c_t = f * c_{t-1} + i * g
  T* tanh_c = nullptr;  // (B, H) out: tanh(c_t), which backward needs
  T* h = nullptr;       // (B, H) out: h_t = o * tanh(c_t)
  T* h_copy = nullptr;  // optional second destination for h_t
  std::int64_t ld_state = 0;  // row stride of c, tanh_c, h and h_copy
};

/// One time step of the fused cell backward: the four gate gradients and the c recurrence, plus
/// (optionally) their column sums into the bias gradient.
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
  T* grad_bias = nullptr;  // optional (4H): += sum over rows of grad_gates
};

namespace cpu {

/// Below this many cell elements (batch * hidden) one step stays on one thread: forking costs more.
inline constexpr std::int64_t kLstmCellGrain = 4096;

namespace lstm_detail {

using vmath::act_sigmoid;
using vmath::act_tanh;

template <class T>
[[gnu::always_inline]] inline void forward_rows(const LstmCellForwardArgs<T>& p, std::int64_t b0, std::int64_t b1) {
  const std::int64_t H = p.hidden;
  for (std::int64_t b = b0; b < b1; ++b) {
    T* gi = p.gates + b * p.ld_gates;
    T* gf = gi + H;
    T* gg = gf + H;
    T* go = gg + H;
    const T* cp = p.c_prev + b * p.ld_c_prev;
    T* c = p.c + b * p.ld_state;
    T* tc = p.tanh_c + b * p.ld_state;
    T* h = p.h + b * p.ld_state;
#pragma omp simd
    for (std::int64_t j = 0; j < H; ++j) {
      const T i = act_sigmoid(gi[j]), f = act_sigmoid(gf[j]), g = act_tanh(gg[j]), o = act_sigmoid(go[j]);
      const T cj = f * cp[j] + i * g;
      const T t = act_tanh(cj);
      gi[j] = i;
      gf[j] = f;
      gg[j] = g;
      go[j] = o;
      c[j] = cj;
      tc[j] = t;
      h[j] = o * t;
    }
    if (p.h_copy) std::copy(h, h + H, p.h_copy + b * p.ld_state);
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

/// The fused cell forward for one step; rows are independent, so any thread split gives the same bits.
template <class T>
void lstm_cell_forward(const LstmCellForwardArgs<T>& p) {
  const lstm_detail::ForwardRowsFn<T> rows = lstm_detail::forward_kernel<T>(lstm_detail::best_cell_isa());
#pragma omp parallel for schedule(static) if (p.batch * p.hidden >= kLstmCellGrain)
  for (std::int64_t b = 0; b < p.batch; ++b) rows(p, b, b + 1);
}

/// The fused cell backward for one step. The bias gradient is summed per column over rows in row
/// order by whichever thread owns the column, so it too is independent of the thread count.
template <class T>
void lstm_cell_backward(const LstmCellBackwardArgs<T>& p) {
  const lstm_detail::BackwardRowsFn<T> rows = lstm_detail::backward_kernel<T>(lstm_detail::best_cell_isa());
  const std::int64_t width = 4 * p.hidden;
  constexpr std::int64_t kCols = 64;
  const std::int64_t col_blocks = (width + kCols - 1) / kCols;
#pragma omp parallel if (p.batch * p.hidden >= kLstmCellGrain)
  {
#pragma omp for schedule(static)
    for (std::int64_t b = 0; b < p.batch; ++b) rows(p, b, b + 1);
    if (p.grad_bias) {
#pragma omp for schedule(static)
      for (std::int64_t cb = 0; cb < col_blocks; ++cb) {
        const std::int64_t j0 = cb * kCols, j1 = std::min(width, j0 + kCols);
        T* db = p.grad_bias;
        for (std::int64_t b = 0; b < p.batch; ++b) {
          const T* row = p.grad_gates + b * p.ld_grad_gates;
          for (std::int64_t j = j0; j < j1; ++j) db[j] += row[j];
        }
      }
    }
  }
}

}  // namespace cpu
}  // namespace recsys
