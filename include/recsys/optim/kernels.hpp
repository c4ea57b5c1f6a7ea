// recsys/optim/kernels.hpp — the fused CPU optimizer kernels (Adam/AdamW, SGD) and the gradient-norm helpers, on raw pointers.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "recsys/core/config.hpp"
#include "recsys/core/parallel.hpp"

namespace recsys {

/// Everything one Adam/AdamW update of one parameter tensor needs, with the per-step scalars
/// (bias corrections) already worked out on the host. Plain data, so a CUDA launcher can take it by value.
struct AdamUpdate {
  double lr = 0;
  double beta1 = 0;
  double beta2 = 0;
  double eps = 0;
  double weight_decay = 0;
  double step_size = 0;              // lr / (1 - beta1^step)
  double bias_correction2_sqrt = 0;  // sqrt(1 - beta2^step)
  bool amsgrad = false;
  bool decoupled = false;  // AdamW: decay the weights directly instead of adding weight_decay * param to the gradient
};

/// One SGD update of one parameter tensor.
struct SgdUpdate {
  double lr = 0;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
  bool first_step = false;  // the momentum buffer starts as the first gradient (PyTorch's rule)
};

namespace cpu {

/// Square roots of n values in place. A loop that calls std::sqrt does not vectorize: to honour
/// errno, compilers put a branch to the library call (taken for negative inputs) inside the loop.
/// The SSE2 instructions have no such branch; the inputs here are never negative anyway.
template <class T>
inline void sqrt_inplace(T* x, int n) {
  int i = 0;
#if defined(__SSE2__)
  if constexpr (std::is_same_v<T, float>) {
    for (; i + 4 <= n; i += 4) _mm_storeu_ps(x + i, _mm_sqrt_ps(_mm_loadu_ps(x + i)));
  } else {
    for (; i + 2 <= n; i += 2) _mm_storeu_pd(x + i, _mm_sqrt_pd(_mm_loadu_pd(x + i)));
  }
#endif
  for (; i < n; ++i) x[i] = std::sqrt(x[i]);
}

/// Elements per chunk of the Adam loop: small enough that the chunk's data stays in L1 between passes.
inline constexpr std::int64_t kAdamChunk = 256;

/// The Adam loop with the optional features fixed at compile time. Each chunk takes three passes:
/// moments (vectorized), square roots (sqrt_inplace), parameter update (vectorized). The arithmetic
/// and its order are those of a single per-element loop, so the split changes no bits.
template <bool L2, bool Decoupled, bool Amsgrad, class T>
void adam_loop(T* param, const T* grad, T* m, T* v, T* vmax, std::int64_t n, const AdamUpdate& u) {
  const T beta1 = static_cast<T>(u.beta1), beta2 = static_cast<T>(u.beta2);
  const T one_minus_beta1 = static_cast<T>(1 - u.beta1), one_minus_beta2 = static_cast<T>(1 - u.beta2);
  const T wd = static_cast<T>(u.weight_decay), eps = static_cast<T>(u.eps);
  const T decay = static_cast<T>(1 - u.lr * u.weight_decay);
  const T step_size = static_cast<T>(u.step_size), bc2_sqrt = static_cast<T>(u.bias_correction2_sqrt);
  const std::int64_t chunks = (n + kAdamChunk - 1) / kAdamChunk;
#pragma omp parallel for schedule(static) if (n >= kParallelGrain)
  for (std::int64_t c = 0; c < chunks; ++c) {
    const std::int64_t begin = c * kAdamChunk;
    const int len = static_cast<int>(std::min(kAdamChunk, n - begin));
    T* p = param + begin;
    const T* g = grad + begin;
    T* mc = m + begin;
    T* vc = v + begin;
    T* vmaxc = Amsgrad ? vmax + begin : nullptr;
    T root[kAdamChunk];
#pragma omp simd
    for (int j = 0; j < len; ++j) {
      T gj = g[j];
      if constexpr (L2) gj += wd * p[j];
      const T mj = mc[j] * beta1 + one_minus_beta1 * gj;
      const T vj = vc[j] * beta2 + one_minus_beta2 * gj * gj;
      mc[j] = mj;
      vc[j] = vj;
      T second = vj;
      if constexpr (Amsgrad) {
        second = vmaxc[j] > vj ? vmaxc[j] : vj;
        vmaxc[j] = second;
      }
      root[j] = second;
    }
    sqrt_inplace(root, len);
#pragma omp simd
    for (int j = 0; j < len; ++j) {
      T pj = p[j];
      if constexpr (Decoupled) pj *= decay;
      const T denom = root[j] / bc2_sqrt + eps;
      p[j] = pj - step_size * (mc[j] / denom);
    }
  }
}

/// Adam over n elements, in the order of PyTorch's single-tensor Adam so results agree to rounding.
/// param, m (first moment) and v (second moment) are updated in place; vmax (the running maximum of v)
/// only when u.amsgrad. Each element is independent: any thread count gives identical bits.
template <class T>
void adam_update(T* param, const T* grad, T* m, T* v, T* vmax, std::int64_t n, AdamUpdate u) {
  const bool decay = u.weight_decay != 0;
  const auto run = [&]<bool L2, bool Decoupled>() {
    if (u.amsgrad) adam_loop<L2, Decoupled, true>(param, grad, m, v, vmax, n, u);
    else adam_loop<L2, Decoupled, false>(param, grad, m, v, vmax, n, u);
  };
  if (decay && u.decoupled) run.template operator()<false, true>();
  else if (decay) run.template operator()<true, false>();
  else run.template operator()<false, false>();
}

/// SGD with optional momentum (dampening, Nesterov) and L2 weight decay over n elements, as PyTorch's
/// single-tensor SGD. buf is the momentum buffer (unused, may be null, when momentum == 0).
template <class T>
void sgd_update(T* param, const T* grad, T* buf, std::int64_t n, SgdUpdate u) {
  const T lr = static_cast<T>(u.lr), momentum = static_cast<T>(u.momentum);
  const T keep = static_cast<T>(1 - u.dampening), wd = static_cast<T>(u.weight_decay);
  const bool use_momentum = u.momentum != 0, first = u.first_step, nesterov = u.nesterov, l2 = u.weight_decay != 0;
#pragma omp parallel for simd schedule(static) if (n >= kParallelGrain)
  for (std::int64_t i = 0; i < n; ++i) {
    T d = grad[i];
    if (l2) d += wd * param[i];
    if (use_momentum) {
      const T b = first ? d : buf[i] * momentum + keep * d;
      buf[i] = b;
      d = nesterov ? d + momentum * b : b;
    }
    param[i] -= lr * d;
  }
}

/// Elements per block of sum_squares: blocks are summed independently and combined in block order,
/// so the result depends on the data only, never on the thread count.
inline constexpr std::int64_t kSumSquaresBlock = 4096;

/// sum(x[i]^2) accumulated in double (deterministic; parallel over blocks for large n).
template <class T>
double sum_squares(const T* x, std::int64_t n) {
  const std::int64_t blocks = (n + kSumSquaresBlock - 1) / kSumSquaresBlock;
  std::vector<double> partial(static_cast<std::size_t>(std::max<std::int64_t>(blocks, 1)), 0.0);
#pragma omp parallel for schedule(static) if (n >= kParallelGrain)
  for (std::int64_t b = 0; b < blocks; ++b) {
    const T* p = x + b * kSumSquaresBlock;
    const std::int64_t len = std::min(kSumSquaresBlock, n - b * kSumSquaresBlock);
    double acc[8] = {};
    std::int64_t i = 0;
    for (; i + 8 <= len; i += 8)
      for (int l = 0; l < 8; ++l) acc[l] += static_cast<double>(p[i + l]) * static_cast<double>(p[i + l]);
    for (int l = 0; i < len; ++i, ++l) acc[l] += static_cast<double>(p[i]) * static_cast<double>(p[i]);
    partial[static_cast<std::size_t>(b)] = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  }
  double total = 0;
  for (double s : partial) total += s;
  return total;
}

/// x[i] *= s.
template <class T>
void scale_inplace(T* x, std::int64_t n, T s) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelGrain)
  for (std::int64_t i = 0; i < n; ++i) x[i] *= s;
}

}  // namespace cpu
}  // namespace recsys
