// recsys/ops/softmax.hpp — softmax and log_softmax along one dimension, numerically stable.
#pragma once

#include <cstdint>

#include "recsys/autograd/function.hpp"
#include "recsys/core/dispatch.hpp"
#include "recsys/core/tensor.hpp"
#include "recsys/cpu/softmax.hpp"
#include "recsys/ops/checks.hpp"
#include "recsys/ops/reduce.hpp"

namespace recsys {

/// (log-)softmax over n of a contiguous (outer, n, inner) block.
template <class T>
inline KernelSlot<void(bool, const T*, T*, std::int64_t, std::int64_t, std::int64_t)> softmax_slot{
    "softmax", &cpu::softmax<T>};
/// Its gradient, from the forward output.
template <class T>
inline KernelSlot<void(bool, const T*, const T*, T*, std::int64_t, std::int64_t, std::int64_t)>
    softmax_backward_slot{"softmax_backward", &cpu::softmax_backward<T>};

namespace detail {

inline Tensor softmax_impl(bool log, const Tensor& x, std::int64_t dim) {
  const char* name = log ? "log_softmax" : "softmax";
  check_floating(name, "input", x);
  const ReduceGeometry geo = reduce_geometry(x.shape(), &dim, name);
  const Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(x.shape(), {x.dtype(), x.device()});
  if (x.numel() > 0) {
    visit_floating(x.dtype(), name, [&]<class T>() {
      softmax_slot<T>(x.device(), log, xc.data<T>(), y.data<T>(), geo.outer, geo.n, geo.inner);
    });
  }
  if (!autograd::should_record(x)) return y;
  const autograd::SavedTensor sy(y);
  autograd::record(name, {x}, {y}, [=](const autograd::TensorList& g) -> autograd::TensorList {
    const Tensor& yv = sy.get(name);
    const Tensor gy = g[0].contiguous();
    Tensor gx = Tensor::empty(yv.shape(), {yv.dtype(), yv.device()});
    if (yv.numel() > 0) {
      visit_floating(yv.dtype(), name, [&]<class T>() {
        softmax_backward_slot<T>(yv.device(), log, yv.data<T>(), gy.data<T>(), gx.data<T>(), geo.outer, geo.n,
                                 geo.inner);
      });
    }
    return {gx};
  });
  return y;
}

}  // namespace detail

/// exp(x) / Σ exp(x) along `dim` (default: the last).
inline Tensor softmax(const Tensor& x, std::int64_t dim = -1) { return detail::softmax_impl(false, x, dim); }
/// x - log Σ exp(x) along `dim`, without forming exp(x) for large x.
inline Tensor log_softmax(const Tensor& x, std::int64_t dim = -1) { return detail::softmax_impl(true, x, dim); }

}  // namespace recsys
