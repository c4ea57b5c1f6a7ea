// recsys/cuda/optim.cuh — fused optimizer updates (Adam/AdamW with AMSGrad, SGD with momentum) and the gradient-norm helpers.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "recsys/cuda/common.cuh"
#include "recsys/cuda/memory.cuh"
#include "recsys/optim/kernels.hpp"

namespace recsys::cuda {

/// One read and one write of param, m and v per element: the whole update in one pass. The
/// arithmetic and its order are cpu::adam_loop's, so both devices agree to rounding.
template <class T, bool L2, bool Decoupled, bool Amsgrad>
__global__ void adam_kernel(T* param, const T* grad, T* m, T* v, T* vmax, std::int64_t n, AdamUpdate u) {
  const T beta1 = static_cast<T>(u.beta1), beta2 = static_cast<T>(u.beta2);
  const T one_minus_beta1 = static_cast<T>(1 - u.beta1), one_minus_beta2 = static_cast<T>(1 - u.beta2);
  const T wd = static_cast<T>(u.weight_decay), eps = static_cast<T>(u.eps);
  const T decay = static_cast<T>(1 - u.lr * u.weight_decay);
  const T step_size = static_cast<T>(u.step_size), bc2_sqrt = static_cast<T>(u.bias_correction2_sqrt);
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    T g = grad[i], p = param[i];
    if constexpr (L2) g += wd * p;
    const T mi = m[i] * beta1 + one_minus_beta1 * g;
    const T vi = v[i] * beta2 + one_minus_beta2 * g * g;
    m[i] = mi;
    v[i] = vi;
    T second = vi;
    if constexpr (Amsgrad) {
      second = vmax[i] > vi ? vmax[i] : vi;
      vmax[i] = second;
    }
    if constexpr (Decoupled) p *= decay;
    param[i] = p - step_size * (mi / (std::sqrt(second) / bc2_sqrt + eps));
  }
}

template <class T>
__global__ void sgd_kernel(T* param, const T* grad, T* buf, std::int64_t n, SgdUpdate u) {
  const T lr = static_cast<T>(u.lr), momentum = static_cast<T>(u.momentum);
  const T keep = static_cast<T>(1 - u.dampening), wd = static_cast<T>(u.weight_decay);
  const bool use_momentum = u.momentum != 0, l2 = u.weight_decay != 0;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    T d = grad[i];
    if (l2) d += wd * param[i];
    if (use_momentum) {
      const T b = u.first_step ? d : buf[i] * momentum + keep * d;
      buf[i] = b;
      d = u.nesterov ? d + momentum * b : b;
    }
    param[i] -= lr * d;
  }
}

/// Σ x² in double over fixed blocks of cpu::cpu::kSumSquaresBlock elements: one partial per block.
template <class T>
__global__ void sum_squares_kernel(const T* x, std::int64_t n, double* partial) {
  __shared__ double scratch[32];
  const std::int64_t blocks = (n + cpu::kSumSquaresBlock - 1) / cpu::kSumSquaresBlock;
  for (std::int64_t b = blockIdx.x; b < blocks; b += gridDim.x) {
    const std::int64_t begin = b * cpu::kSumSquaresBlock, end = std::min(n, begin + cpu::kSumSquaresBlock);
    double acc = 0;
    for (std::int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) acc += static_cast<double>(x[i]) * x[i];
    acc = block_sum(acc, scratch);
    if (threadIdx.x == 0) partial[b] = acc;
  }
}

template <class T>
__global__ void scale_kernel(T* x, std::int64_t n, T s) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) x[i] *= s;
}

/// The adam_update_slot CUDA implementation.
template <class T>
void adam_update(T* param, const T* grad, T* m, T* v, T* vmax, std::int64_t n, AdamUpdate u) {
  if (n <= 0) return;
  const unsigned grid = grid_for(n);
  const cudaStream_t s = current_stream();
  const bool decay = u.weight_decay != 0;
  auto run = [&]<bool L2, bool Decoupled>() {
    if (u.amsgrad)
      adam_kernel<T, L2, Decoupled, true><<<grid, kBlock, 0, s>>>(param, grad, m, v, vmax, n, u);
    else
      adam_kernel<T, L2, Decoupled, false><<<grid, kBlock, 0, s>>>(param, grad, m, v, vmax, n, u);
  };
  if (decay && u.decoupled) run.template operator()<false, true>();
  else if (decay) run.template operator()<true, false>();
  else run.template operator()<false, false>();
  check_launch("adam_update");
}

/// The sgd_update_slot CUDA implementation.
template <class T>
void sgd_update(T* param, const T* grad, T* buf, std::int64_t n, SgdUpdate u) {
  if (n <= 0) return;
  sgd_kernel<T><<<grid_for(n), kBlock, 0, current_stream()>>>(param, grad, buf, n, u);
  check_launch("sgd_update");
}

/// The sum_squares_slot CUDA implementation: block partials on the GPU, added in block order on the host.
template <class T>
double sum_squares(const T* x, std::int64_t n) {
  if (n <= 0) return 0.0;
  const cudaStream_t s = current_stream();
  const std::int64_t blocks = (n + cpu::kSumSquaresBlock - 1) / cpu::kSumSquaresBlock;
  DeviceScratch partial(static_cast<std::size_t>(blocks) * sizeof(double));
  sum_squares_kernel<T><<<static_cast<unsigned>(std::min<std::int64_t>(blocks, 65535)), 256, 0, s>>>(x, n, partial.as<double>());
  check_launch("sum_squares");
  std::vector<double> host(static_cast<std::size_t>(blocks));
  RECSYS_CUDA_CHECK(cudaMemcpyAsync(host.data(), partial.as<void>(), host.size() * sizeof(double), cudaMemcpyDeviceToHost, s),
                    "sum_squares");
  RECSYS_CUDA_CHECK(cudaStreamSynchronize(s), "sum_squares");
  double total = 0;
  for (double p : host) total += p;
  return total;
}

/// The scale_inplace_slot CUDA implementation.
template <class T>
void scale_inplace(T* x, std::int64_t n, T s) {
  if (n <= 0) return;
  scale_kernel<T><<<grid_for(n), kBlock, 0, current_stream()>>>(x, n, s);
  check_launch("scale_inplace");
}

}  // namespace recsys::cuda
