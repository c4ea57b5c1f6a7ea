// recsys/ops/maxpool1d.hpp — maxpool1d over time on channels-last input; the gradient follows the saved argmax.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>

#include "recsys/autograd/function.hpp"
#include "recsys/core/dispatch.hpp"
#include "recsys/core/tensor.hpp"
#include "recsys/cpu/maxpool1d.hpp"
#include "recsys/ops/checks.hpp"

namespace recsys {

/// x (B, T, C) contiguous → out, argmax (B, T_out, C).
template <class T>
inline KernelSlot<void(const T*, std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t,
                       T*, std::int32_t*)>
    maxpool1d_forward_slot{"maxpool1d_forward", &cpu::maxpool1d_forward<T>};
/// gy (B, T_out, C), argmax → gx (B, T, C).
template <class T>
inline KernelSlot<void(const T*, const std::int32_t*, std::int64_t, std::int64_t, std::int64_t, std::int64_t,
                       std::int64_t, std::int64_t, T*)>
    maxpool1d_backward_slot{"maxpool1d_backward", &cpu::maxpool1d_backward<T>};

/// Max over windows of `pool_size` time steps, `stride` apart (default: pool_size, as in Keras),
/// padding "valid". x: (batch, time, channels) → (batch, (time - pool_size) / stride + 1, channels).
/// The gradient goes to the first maximum of each window (int32 argmax saved in the forward pass).
inline Tensor maxpool1d(const Tensor& x, std::int64_t pool_size, std::optional<std::int64_t> stride = std::nullopt) {
  detail::check_floating("maxpool1d", "input", x);
  detail::check_dim("maxpool1d", "input", x, 3, "(batch, time, channels)");
  RECSYS_CHECK(pool_size >= 1, "maxpool1d: pool_size must be at least 1, got ", pool_size);
  const std::int64_t s = stride.value_or(pool_size);
  RECSYS_CHECK(s >= 1, "maxpool1d: stride must be at least 1, got ", s);
  const std::int64_t batch = x.size(0), t_in = x.size(1), channels = x.size(2);
  RECSYS_CHECK(t_in >= pool_size, "maxpool1d: input has shape ", x.shape(), ", whose length ", t_in,
               " is shorter than pool_size ", pool_size);
  RECSYS_CHECK(t_in <= std::numeric_limits<std::int32_t>::max(), "maxpool1d: input length ", t_in,
               " does not fit the int32 argmax");
  const std::int64_t t_out = (t_in - pool_size) / s + 1;
  const Tensor xc = x.contiguous();
  Tensor out = Tensor::empty({batch, t_out, channels}, {x.dtype(), x.device()});
  Tensor argmax = Tensor::empty({batch, t_out, channels}, {DType::int32, x.device()});
  visit_floating(x.dtype(), "maxpool1d", [&]<class T>() {
    maxpool1d_forward_slot<T>(x.device(), xc.data<T>(), batch, t_in, channels, pool_size, s, t_out, out.data<T>(),
                              argmax.data<std::int32_t>());
  });
  if (!autograd::should_record(x)) return out;
  const autograd::SavedTensor sarg(argmax);
  autograd::record("maxpool1d", {x}, {out}, [=](const autograd::TensorList& g) -> autograd::TensorList {
    const Tensor gy = g[0].contiguous();
    const Tensor& arg = sarg.get("maxpool1d");
    Tensor gx = Tensor::empty({batch, t_in, channels}, {gy.dtype(), gy.device()});
    visit_floating(gy.dtype(), "maxpool1d", [&]<class T>() {
      maxpool1d_backward_slot<T>(gy.device(), gy.data<T>(), arg.data<std::int32_t>(), batch, t_in, channels, pool_size, s,
                                 t_out, gx.data<T>());
    });
    return {gx};
  });
  return out;
}

}  // namespace recsys
