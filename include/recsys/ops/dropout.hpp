// recsys/ops/dropout.hpp — inverted dropout with a seeded, device-independent Philox mask.
#pragma once

#include <cstdint>

#include "recsys/autograd/function.hpp"
#include "recsys/core/dispatch.hpp"
#include "recsys/core/random.hpp"
#include "recsys/core/tensor.hpp"
#include "recsys/cpu/dropout.hpp"
#include "recsys/ops/checks.hpp"

namespace recsys {

/// y = x * mask * scale over n contiguous elements (also the gradient, with x = dy).
template <class T>
inline KernelSlot<void(const T*, T*, std::int64_t, std::uint64_t, std::uint64_t, float, T)> dropout_slot{
    "dropout", &cpu::dropout<T>};

/// Inverted dropout: in training, zeroes each element with probability `rate` and scales the kept
/// ones by 1 / (1 - rate), so eval needs no rescaling; returns x itself when !training or rate == 0
/// (no random numbers are drawn then). The mask is a pure function of (gen, element index), which
/// any backend reproduces exactly:
///   first_block = gen.reserve(philox_blocks<float>(n))          (n = x.numel(), for float and double x)
///   keep(i)     = philox_uniform<float>(gen.seed(), first_block, i) >= float(rate)
///   y[i]        = x[i] * (keep(i) ? T(1.0 / (1.0 - rate)) : 0)  (i: row-major index in x)
inline Tensor dropout(const Tensor& x, double rate, Generator& gen, bool training = true) {
  detail::check_floating("dropout", "input", x);
  RECSYS_CHECK(rate >= 0.0 && rate < 1.0, "dropout: rate must be in [0, 1), got ", rate);
  if (!training || rate == 0.0) return x;
  const std::int64_t n = x.numel();
  const std::uint64_t seed = gen.seed();
  const std::uint64_t first_block = gen.reserve(philox_blocks<float>(static_cast<std::uint64_t>(n)));
  const float threshold = static_cast<float>(rate);
  const double scale = 1.0 / (1.0 - rate);
  const Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(x.shape(), {x.dtype(), x.device()});
  visit_floating(x.dtype(), "dropout", [&]<class T>() {
    dropout_slot<T>(x.device(), xc.data<T>(), y.data<T>(), n, seed, first_block, threshold, static_cast<T>(scale));
  });
  if (!autograd::should_record(x)) return y;
  autograd::record("dropout", {x}, {y}, [=](const autograd::TensorList& g) -> autograd::TensorList {
    const Tensor gy = g[0].contiguous();
    Tensor gx = Tensor::empty(gy.shape(), {gy.dtype(), gy.device()});
    visit_floating(gy.dtype(), "dropout", [&]<class T>() {
      dropout_slot<T>(gy.device(), gy.data<T>(), gx.data<T>(), n, seed, first_block, threshold,
                      static_cast<T>(scale));
    });
    return {gx};
  });
  return y;
}

}  // namespace recsys
