// recsys/ops/gelu.hpp — gelu(x) = x·Φ(x), the exact erf form (PyTorch's default, approximate='none').
#pragma once

#include <cstdint>

#include "recsys/autograd/function.hpp"
#include "recsys/core/dispatch.hpp"
#include "recsys/core/tensor.hpp"
#include "recsys/cpu/gelu.hpp"
#include "recsys/ops/checks.hpp"

namespace recsys {

// The CUDA kernels of these slots belong to the GPU issue; until then they are CPU-only.
/// y = gelu(x) over n contiguous elements.
template <class T>
inline KernelSlot<void(const T*, T*, std::int64_t)> gelu_slot{"gelu", &cpu::gelu<T>};
/// gx = gy · gelu'(x) over n contiguous elements.
template <class T>
inline KernelSlot<void(const T*, const T*, T*, std::int64_t)> gelu_backward_slot{"gelu_backward",
                                                                                 &cpu::gelu_backward<T>};

/// Gaussian error linear unit, x · ½ (1 + erf(x / √2)), elementwise. float runs a vectorized erf
/// accurate to a few ulps; double is exact to rounding.
inline Tensor gelu(const Tensor& x) {
  detail::check_floating("gelu", "input", x);
  const Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(x.shape(), {x.dtype(), x.device()});
  visit_floating(x.dtype(), "gelu", [&]<class T>() { gelu_slot<T>(x.device(), xc.data<T>(), y.data<T>(), x.numel()); });
  if (!autograd::should_record(x)) return y;
  const autograd::SavedTensor sx(xc);
  autograd::record("gelu", {x}, {y}, [=](const autograd::TensorList& g) -> autograd::TensorList {
    const Tensor& xv = sx.get("gelu");
    const Tensor gy = g[0].contiguous();
    Tensor gx = Tensor::empty(xv.shape(), {xv.dtype(), xv.device()});
    visit_floating(xv.dtype(), "gelu", [&]<class T>() {
      gelu_backward_slot<T>(xv.device(), xv.data<T>(), gy.data<T>(), gx.data<T>(), xv.numel());
    });
    return {gx};
  });
  return y;
}

}  // namespace recsys
