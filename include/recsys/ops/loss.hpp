// recsys/ops/loss.hpp — losses: binary cross-entropy (probabilities or logits), mean squared error, cross-entropy.
#pragma once

#include <cstdint>

#include "recsys/autograd/function.hpp"
#include "recsys/core/dispatch.hpp"
#include "recsys/core/tensor.hpp"
#include "recsys/cpu/loss.hpp"
#include "recsys/ops/binary.hpp"
#include "recsys/ops/checks.hpp"
#include "recsys/ops/reduce.hpp"
#include "recsys/ops/softmax.hpp"
#include "recsys/ops/unary.hpp"

namespace recsys {

/// How per-element losses combine: kept as they are, averaged, or summed.
enum class Reduction : std::uint8_t { none, mean, sum };

/// Keras's epsilon: probabilities are clipped to [eps, 1 - eps] before the logarithm.
inline constexpr double kBceEpsilon = 1e-7;

template <class T>
inline KernelSlot<void(LossOp, const T*, const T*, T*, std::int64_t, T)> loss_slot{"loss", &cpu::loss<T>};
template <class T>
inline KernelSlot<void(LossOp, const T*, const T*, const T*, T*, std::int64_t, T)> loss_backward_slot{
    "loss_backward", &cpu::loss_backward<T>};
template <class T, class I>
inline KernelSlot<void(const T*, const I*, T*, std::int64_t, std::int64_t)> nll_slot{"nll", &cpu::nll<T, I>};
template <class T, class I>
inline KernelSlot<void(const T*, const I*, T*, std::int64_t, std::int64_t)> nll_backward_slot{
    "nll_backward", &cpu::nll_backward<T, I>};

template <class T, class I>
inline KernelSlot<void(const T*, const I*, T*, T*, std::int64_t, std::int64_t)> cross_entropy_slot{
    "cross_entropy", &cpu::cross_entropy<T, I>};  // CUDA: composed from log_softmax + nll (see cross_entropy)
template <class T, class I>
inline KernelSlot<void(const T*, const I*, const T*, const T*, T*, std::int64_t, std::int64_t)>
    cross_entropy_backward_slot{"cross_entropy_backward", &cpu::cross_entropy_backward<T, I>};

namespace detail {

/// The checked, contiguous class targets (N) of scores (N, C) named `what`: every id in [0, C).
/// Validated on the host: kernels never throw, and an out-of-range class would read out of bounds.
inline Tensor class_targets(const char* name, const char* what, const Tensor& scores, const Tensor& target) {
  check_dim(name, what, scores, 2, "(N, C)");
  check_floating(name, what, scores);
  check_dim(name, "target", target, 1, "(N)");
  check_same(name, {{what, &scores}, {"target", &target}}, false);
  const std::int64_t rows = scores.size(0), classes = scores.size(1);
  RECSYS_CHECK(target.size(0) == rows, name, ": ", what, " has ", rows, " rows but target has ", target.size(0),
               " entries");
  const Tensor t = target.contiguous();
  const std::vector<std::int64_t> ids = t.to_vector<std::int64_t>();
  for (std::size_t r = 0; r < ids.size(); ++r)
    RECSYS_CHECK(ids[r] >= 0 && ids[r] < classes, name, ": target[", r, "] = ", ids[r],
                 " is not a class index in [0, ", classes, ")");
  return t;
}

inline Tensor reduce_loss(const Tensor& elementwise, Reduction reduction) {
  switch (reduction) {
    case Reduction::none: return elementwise;
    case Reduction::sum: return sum(elementwise);
    case Reduction::mean: return mean(elementwise);
  }
  return elementwise;
}

/// ∂l/∂target · g for the elementwise losses, composed from ops (device-generic; PyTorch's rules):
/// mse: -2 (a - b) = -(∂l/∂a); bce: -log(p / (1 - p)) with p = a clipped like the forward;
/// bce_logits: -a. `ga` is g · ∂l/∂a, already computed for the input.
inline Tensor loss_target_grad(LossOp op, const Tensor& a, const Tensor& g, const Tensor& ga, double eps) {
  switch (op) {
    case LossOp::mse: return recsys::neg(ga);
    case LossOp::bce: {
      const Tensor p = recsys::clamp(a, eps, 1.0 - eps);
      return recsys::neg(recsys::mul(g, recsys::sub(recsys::log(p), recsys::log(recsys::sub(scalar_like(1.0, p), p)))));
    }
    case LossOp::bce_logits: return recsys::neg(recsys::mul(g, a));
  }
  return recsys::neg(ga);
}

/// Elementwise loss l(input, target) with gradients for input and, when it requires one, the target.
inline Tensor elementwise_loss(LossOp op, const char* name, const Tensor& input, const Tensor& target, double eps,
                               Reduction reduction) {
  check_floating(name, "input", input);
  check_floating(name, "target", target);
  check_same(name, {{"input", &input}, {"target", &target}});
  RECSYS_CHECK(input.shape() == target.shape(), name, ": input has shape ", input.shape(), " but target has shape ",
               target.shape(), " (reshape one of them; a (N, 1) vs (N) mismatch is the usual cause)");
  const Tensor a = input.contiguous(), b = target.contiguous();
  Tensor out = Tensor::empty(input.shape(), {input.dtype(), input.device()});
  visit_floating(input.dtype(), name, [&]<class T>() {
    loss_slot<T>(input.device(), op, a.data<T>(), b.data<T>(), out.data<T>(), input.numel(), static_cast<T>(eps));
  });
  if (autograd::should_record({&input, &target})) {
    const autograd::SavedTensor sa(a), sb(b);
    const bool want_target = target.requires_grad();
    autograd::record(name, {input, target}, {out}, [=](const autograd::TensorList& g) -> autograd::TensorList {
      const Tensor& av = sa.get(name);
      const Tensor& bv = sb.get(name);
      const Tensor gc = g[0].contiguous();
      Tensor ga = Tensor::empty(av.shape(), {av.dtype(), av.device()});
      visit_floating(av.dtype(), name, [&]<class T>() {
        loss_backward_slot<T>(av.device(), op, av.data<T>(), bv.data<T>(), gc.data<T>(), ga.data<T>(), av.numel(),
                              static_cast<T>(eps));
      });
      if (!want_target) return {ga, Tensor()};
      return {ga, loss_target_grad(op, av, gc, ga, eps)};
    });
  }
  return reduce_loss(out, reduction);
}

}  // namespace detail

/// Binary cross-entropy of probabilities (e.g. a sigmoid output) against 0/1 targets, with the
/// probabilities clipped to [eps, 1 - eps] as Keras's binary_crossentropy does.
inline Tensor binary_cross_entropy(const Tensor& probs, const Tensor& target, Reduction reduction = Reduction::mean,
                                   double eps = kBceEpsilon) {
  RECSYS_CHECK(eps > 0 && eps < 0.5, "binary_cross_entropy: eps must be in (0, 0.5), got ", eps);
  return detail::elementwise_loss(LossOp::bce, "binary_cross_entropy", probs, target, eps, reduction);
}

/// Binary cross-entropy on logits: sigmoid and logarithm fused, exact for any logit magnitude.
inline Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                               Reduction reduction = Reduction::mean) {
  return detail::elementwise_loss(LossOp::bce_logits, "binary_cross_entropy_with_logits", logits, target, 0.0,
                                  reduction);
}

/// Mean squared error (with Reduction::mean), or the squared errors / their sum.
inline Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::mean) {
  return detail::elementwise_loss(LossOp::mse, "mse_loss", input, target, 0.0, reduction);
}

/// Negative log-likelihood of integer targets (N) under log-probabilities (N, C).
inline Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction reduction = Reduction::mean) {
  constexpr const char* name = "nll_loss";
  const Tensor t = detail::class_targets(name, "log_probs", log_probs, target);
  const std::int64_t rows = log_probs.size(0), classes = log_probs.size(1);
  const Tensor lp = log_probs.contiguous();
  Tensor out = Tensor::empty({rows}, {log_probs.dtype(), log_probs.device()});
  visit_floating(log_probs.dtype(), name, [&]<class T>() {
    visit_integer(t.dtype(), name, [&]<class I>() {
      nll_slot<T, I>(lp.device(), lp.data<T>(), t.data<I>(), out.data<T>(), rows, classes);
    });
  });
  if (autograd::should_record(log_probs)) {
    autograd::record(name, {log_probs}, {out}, [=](const autograd::TensorList& g) -> autograd::TensorList {
      const Tensor gc = g[0].contiguous();
      Tensor glp = Tensor::empty({rows, classes}, {gc.dtype(), gc.device()});
      visit_floating(gc.dtype(), name, [&]<class T>() {
        visit_integer(t.dtype(), name, [&]<class I>() {
          nll_backward_slot<T, I>(gc.device(), gc.data<T>(), t.data<I>(), glp.data<T>(), rows, classes);
        });
      });
      return {glp};
    });
  }
  return detail::reduce_loss(out, reduction);
}

/// Cross-entropy of logits (N, C) against integer class targets (N), as PyTorch's cross_entropy.
/// On the CPU one fused kernel (log-sum-exp per row; the backward is softmax minus the one-hot);
/// on other devices log_softmax then NLL.
inline Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction = Reduction::mean) {
  constexpr const char* name = "cross_entropy";
  detail::check_dim(name, "logits", logits, 2, "(N, C)");
  if (!logits.device().is_cpu()) return nll_loss(log_softmax(logits, 1), target, reduction);
  const Tensor t = detail::class_targets(name, "logits", logits, target);
  const std::int64_t rows = logits.size(0), classes = logits.size(1);
  const Tensor x = logits.contiguous();
  Tensor out = Tensor::empty({rows}, {logits.dtype(), logits.device()});
  Tensor lse = Tensor::empty({rows}, {logits.dtype(), logits.device()});
  visit_floating(logits.dtype(), name, [&]<class T>() {
    visit_integer(t.dtype(), name, [&]<class I>() {
      cross_entropy_slot<T, I>(x.device(), x.data<T>(), t.data<I>(), out.data<T>(), lse.data<T>(), rows, classes);
    });
  });
  if (autograd::should_record(logits)) {
    const autograd::SavedTensor saved_x(x), saved_lse(lse);
    autograd::record(name, {logits}, {out}, [=](const autograd::TensorList& g) -> autograd::TensorList {
      const Tensor& xs = saved_x.get(name);
      const Tensor& ls = saved_lse.get(name);
      const Tensor gc = g[0].contiguous();
      Tensor gx = Tensor::empty({rows, classes}, {gc.dtype(), gc.device()});
      visit_floating(gc.dtype(), name, [&]<class T>() {
        visit_integer(t.dtype(), name, [&]<class I>() {
          cross_entropy_backward_slot<T, I>(gc.device(), xs.data<T>(), t.data<I>(), ls.data<T>(), gc.data<T>(),
                                            gx.data<T>(), rows, classes);
        });
      });
      return {gx};
    });
  }
  return detail::reduce_loss(out, reduction);
}

}  // namespace recsys
