// tests/cuda/cuda_test_util.hpp — comparing the CUDA backend with the CPU path: twin tensors on both devices, tolerance checks, forward+backward runs.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace recsys::cuda_testing {

using autograd::TensorList;

inline const Device kGpu = Device::cuda(0);

/// Sizes every op is checked at: one, odd, just past a warp, past a tile, and not a power of two.
inline const std::vector<std::int64_t> kSizes = {1, 7, 33, 129, 1000};

/// Elementwise |gpu - cpu| <= rtol * (|cpu| + rms(cpu)): relative per element, with the tensor's own
/// scale as the floor, so an element that cancels to nearly zero is judged against the magnitude
/// of the numbers that produced it. One CHECK per tensor, naming the worst element.
inline void check_matches(const Tensor& gpu, const Tensor& cpu, double rtol, const std::string& what) {
  INFO(what);
  REQUIRE(gpu.defined());
  REQUIRE(cpu.defined());
  CHECK(gpu.device().is_cuda());
  REQUIRE(gpu.shape() == cpu.shape());
  REQUIRE(gpu.dtype() == cpu.dtype());
  const std::vector<double> g = gpu.to_vector<double>(), c = cpu.to_vector<double>();
  double sq = 0;
  for (double v : c) sq += v * v;
  const double rms = c.empty() ? 0.0 : std::sqrt(sq / static_cast<double>(c.size()));
  double worst = 0;
  std::size_t worst_i = 0;
  bool nan_mismatch = false;
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (std::isnan(c[i]) || std::isnan(g[i])) {
      nan_mismatch = nan_mismatch || std::isnan(c[i]) != std::isnan(g[i]);
      continue;
    }
    if (c[i] == g[i]) continue;  // equal infinities too
    const double err = std::fabs(g[i] - c[i]) / (std::fabs(c[i]) + rms + 1e-300);
    if (err > worst) {
      worst = err;
      worst_i = i;
    }
  }
  INFO("worst element ", worst_i, ": gpu ", g.empty() ? 0.0 : g[worst_i], ", cpu ", c.empty() ? 0.0 : c[worst_i],
       ", relative error ", worst, " (tolerance ", rtol, ")");
  CHECK_FALSE(nan_mismatch);
  CHECK(worst <= rtol);
}

/// Default tolerance by dtype: 1e-5 for float32 (the bar), 1e-12 for float64.
inline double tolerance(DType t) { return t == DType::float64 ? 1e-12 : 1e-5; }

/// The same values as a CPU leaf and a GPU leaf, and the views ops are applied to: the leaf itself,
/// or (noncontiguous) every second element of a leaf twice as wide in its last dimension.
struct Twin {
  Tensor cpu_leaf, gpu_leaf, cpu, gpu;
};

inline Twin twin(const Tensor& values, bool noncontiguous, bool requires_grad) {
  Twin t;
  NoGradGuard no_grad;
  if (noncontiguous && values.dim() >= 1) {
    Shape wide = values.shape();
    wide[wide.size() - 1] *= 2;
    Tensor base = zeros(wide, values.dtype());
    base.slice(-1, 0, wide[wide.size() - 1], 2).copy_(values);
    base.slice(-1, 1, wide[wide.size() - 1], 2).fill_(12345.0);  // poison: a kernel that ignores strides shows it
    t.cpu_leaf = base;
  } else {
    t.cpu_leaf = values.contiguous().clone();
  }
  t.gpu_leaf = t.cpu_leaf.to(kGpu);
  if (requires_grad && values.is_floating_point()) {
    t.cpu_leaf.set_requires_grad();
    t.gpu_leaf.set_requires_grad();
  }
  return t;
}

inline Tensor view_of(const Tensor& leaf, const Tensor& values, bool noncontiguous) {
  if (noncontiguous && values.dim() >= 1) return leaf.slice(-1, 0, leaf.size(-1), 2);
  return leaf;
}

/// Runs f on CPU inputs and on GPU copies; checks the outputs and, when the output is floating and
/// some input needs grad, the gradients of every floating input for one random upstream gradient.
inline void compare_with_cpu(const std::string& name, const std::function<Tensor(const TensorList&)>& f,
                             const TensorList& values, bool noncontiguous = false, double rtol = -1,
                             std::uint64_t seed = 99) {
  std::vector<Twin> twins;
  TensorList cpu_in, gpu_in;
  for (const Tensor& v : values) {
    twins.push_back(twin(v, noncontiguous, true));
    cpu_in.push_back(view_of(twins.back().cpu_leaf, v, noncontiguous));
    gpu_in.push_back(view_of(twins.back().gpu_leaf, v, noncontiguous));
  }
  const Tensor out_c = f(cpu_in), out_g = f(gpu_in);
  const double tol = rtol > 0 ? rtol : tolerance(out_c.dtype());
  check_matches(out_g, out_c, tol, name + " forward");
  if (!out_c.is_floating_point() || !out_c.requires_grad()) return;
  Generator gen(seed);
  const Tensor up = randn(out_c.shape(), gen, out_c.dtype());
  out_c.backward(up);
  out_g.backward(up.to(kGpu));
  for (std::size_t i = 0; i < twins.size(); ++i) {
    if (!twins[i].cpu_leaf.requires_grad() || !twins[i].cpu_leaf.grad().defined()) continue;
    REQUIRE(twins[i].gpu_leaf.grad().defined());
    check_matches(twins[i].gpu_leaf.grad(), twins[i].cpu_leaf.grad(), tol,
                  name + " gradient of input " + std::to_string(i));
  }
}

}  // namespace recsys::cuda_testing
