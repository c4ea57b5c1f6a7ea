// recsys/ops/attention.hpp — scaled_dot_product_attention: fused softmax(q·kᵀ/√d + masks)·v with causal and key-padding masks.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "recsys/autograd/function.hpp"
#include "recsys/core/dispatch.hpp"
#include "recsys/core/random.hpp"
#include "recsys/core/tensor.hpp"
#include "recsys/cpu/attention.hpp"
#include "recsys/ops/checks.hpp"
#include "recsys/ops/copy.hpp"

namespace recsys {

// The CUDA kernels of these slots belong to the GPU issue; until then they are CPU-only.
/// Forward: out, row_max and row_inv_sum from q, k, v and the masks (see cpu::AttentionArgs).
template <class T>
inline KernelSlot<void(const cpu::AttentionArgs<T>&)> attention_slot{"attention", &cpu::attention_forward<T>};
/// Backward: grad_q, grad_k, grad_v (those not null) from grad_out and the forward's row statistics.
template <class T>
inline KernelSlot<void(const cpu::AttentionArgs<T>&)> attention_backward_slot{"attention_backward",
                                                                              &cpu::attention_backward<T>};

namespace detail {

inline constexpr const char* kAttentionOp = "scaled_dot_product_attention";

/// t itself when the kernels can read it in place (unit stride along features, time rows that do
/// not overlap), else a contiguous copy. Head-split views of (batch, time, heads·features) qualify.
inline Tensor attention_operand(const Tensor& t) {
  const bool unit = t.size(3) <= 1 || t.stride(3) == 1;
  const bool rows = t.size(2) <= 1 || t.stride(2) >= t.size(3);
  return unit && rows ? t : t.detach().contiguous();
}

template <class P>
cpu::AttentionOperand<P> attention_view(const Tensor& t) {
  using T = std::remove_const_t<P>;
  // A single time row has no meaningful stride; give GEMM a valid leading dimension.
  return {t.data<T>(), t.stride(0), t.stride(1), t.size(2) <= 1 ? t.size(3) : t.stride(2)};
}

/// A new (B, H, T, features) tensor laid out like `like`: with heads inside time when `like` is a
/// head-split view of a (B, T, H·F) tensor, so that merging the heads back is a free view; plain
/// contiguous otherwise.
inline Tensor attention_like(const Tensor& like, std::int64_t features) {
  const std::int64_t B = like.size(0), H = like.size(1), T = like.size(2);
  const TensorOptions opts{like.dtype(), like.device()};
  if (H > 1 && T > 1 && like.stride(1) < like.stride(2)) {
    const Tensor buffer = Tensor::empty({B, T, H, features}, opts);
    return Tensor::make_view(buffer.impl()->storage, like.dtype(), {B, H, T, features},
                             {T * H * features, features, H * features, 1}, 0);
  }
  return Tensor::empty({B, H, T, features}, opts);
}

inline void check_attention_args(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                                 double dropout) {
  const char* op = kAttentionOp;
  check_dim(op, "q", q, 4, "(batch, heads, time, head_dim)");
  check_dim(op, "k", k, 4, "(batch, heads, time, head_dim)");
  check_dim(op, "v", v, 4, "(batch, heads, time, head_dim)");
  check_floating(op, "q", q);
  check_floating(op, "k", k);
  check_floating(op, "v", v);
  check_same(op, {{"q", &q}, {"k", &k}, {"v", &v}});
  RECSYS_CHECK(k.size(0) == q.size(0) && k.size(1) == q.size(1) && k.size(3) == q.size(3), op, ": q has shape ",
               q.shape(), " but k has shape ", k.shape(), "; they must agree in batch, heads and head_dim");
  RECSYS_CHECK(v.size(0) == k.size(0) && v.size(1) == k.size(1) && v.size(2) == k.size(2), op, ": k has shape ",
               k.shape(), " but v has shape ", v.shape(), "; they must agree in batch, heads and time");
  RECSYS_CHECK(q.size(3) > 0, op, ": q has shape ", q.shape(), "; head_dim must be positive");
  if (mask.defined()) {
    RECSYS_CHECK(mask.dtype() == DType::int32 || mask.dtype() == DType::int64, op,
                 ": key_padding_mask must be an integer tensor (int32 or int64; nonzero = padded key), got ",
                 mask.dtype());
    RECSYS_CHECK(mask.dim() == 2 && mask.size(0) == k.size(0) && mask.size(1) == k.size(2), op,
                 ": key_padding_mask has shape ", mask.shape(), ", expected [", k.size(0), ", ", k.size(2),
                 "] (batch, key time) for k of shape ", k.shape());
    RECSYS_CHECK(mask.device() == q.device(), op, ": q is on ", q.device(), " but key_padding_mask is on ",
                 mask.device());
  }
  RECSYS_CHECK(dropout >= 0.0 && dropout < 1.0, op, ": dropout must be in [0, 1), got ", dropout);
}

}  // namespace detail

/// Attention of q (batch, heads, Tq, d) over k (batch, heads, Tk, d) and v (batch, heads, Tk, dv):
///   out = softmax(q·kᵀ / √d + mask) · v        → (batch, heads, Tq, dv)
/// `causal`: query i sees keys j <= i only (top-left aligned when Tq != Tk, like PyTorch's is_causal).
/// `key_padding_mask` (batch, Tk), int32 or int64: nonzero marks a padded key that no query sees
/// (PyTorch's key_padding_mask convention, True = ignore). A query row left with no key outputs 0
/// and gets zero gradient (PyTorch would give NaN). `dropout` > 0 drops attention weights with a
/// Philox mask drawn from `gen` and scales the kept ones by 1 / (1 - dropout) — pass 0 outside
/// training. Inputs need unit stride along their last dim only: head-split views of a (batch, time,
/// heads·d) projection are read in place, and the output (and the gradients) then come back in that
/// layout, so merging the heads is a free view. One fused CPU kernel: per (batch, head, block of 64
/// query rows) one scores block at a time, never the whole Tq × Tk matrix.
inline Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, bool causal = false,
                                           const Tensor& key_padding_mask = {}, double dropout = 0.0,
                                           Generator& gen = default_generator()) {
  detail::check_attention_args(q, k, v, key_padding_mask, dropout);
  const Tensor qc = detail::attention_operand(q), kc = detail::attention_operand(k), vc = detail::attention_operand(v);
  const Tensor mask = key_padding_mask.defined() ? key_padding_mask.to(DType::int32).contiguous() : Tensor();
  const std::int64_t B = q.size(0), H = q.size(1), Tq = q.size(2), Tk = k.size(2), d = q.size(3), dv = v.size(3);
  std::uint64_t seed = 0, first_block = 0;
  if (dropout > 0) {
    seed = gen.seed();
    first_block = gen.reserve(philox_blocks<float>(static_cast<std::uint64_t>(B * H * Tq * Tk)));
  }
  const TensorOptions opts{q.dtype(), q.device()};
  Tensor out = detail::attention_like(qc, dv);
  Tensor row_max = Tensor::empty({B, H, Tq}, opts), row_inv_sum = Tensor::empty({B, H, Tq}, opts);
  // The arguments both passes share; the pointers are filled per dtype.
  auto args_for = [=]<class T>(const Tensor& qv, const Tensor& kv, const Tensor& vv, const Tensor& mv,
                               const Tensor& mx, const Tensor& inv) {
    cpu::AttentionArgs<T> a;
    a.batch = B;
    a.heads = H;
    a.tq = Tq;
    a.tk = Tk;
    a.d = d;
    a.dv = dv;
    a.scale = static_cast<T>(1.0 / std::sqrt(static_cast<double>(d)));
    a.causal = causal;
    a.key_padding = mv.defined() ? mv.data<std::int32_t>() : nullptr;
    a.dropout = static_cast<float>(dropout);
    a.seed = seed;
    a.first_block = first_block;
    a.q = detail::attention_view<const T>(qv);
    a.k = detail::attention_view<const T>(kv);
    a.v = detail::attention_view<const T>(vv);
    a.row_max = mx.data<T>();
    a.row_inv_sum = inv.data<T>();
    return a;
  };
  if (out.numel() > 0 || row_max.numel() > 0) {
    visit_floating(q.dtype(), detail::kAttentionOp, [&]<class T>() {
      cpu::AttentionArgs<T> a = args_for.template operator()<T>(qc, kc, vc, mask, row_max, row_inv_sum);
      a.out = detail::attention_view<T>(out);
      attention_slot<T>(q.device(), a);
    });
  }
  if (!autograd::should_record(q, k, v)) return out;
  const bool need_q = q.requires_grad(), need_k = k.requires_grad(), need_v = v.requires_grad();
  const autograd::SavedTensor sq(qc), sk(kc), sv(vc), smask(mask), smax(row_max), sinv(row_inv_sum);
  autograd::record(detail::kAttentionOp, {q, k, v}, {out}, [=](const autograd::TensorList& g) -> autograd::TensorList {
    const char* op = detail::kAttentionOp;
    const Tensor &qv = sq.get(op), &kv = sk.get(op), &vv = sv.get(op);
    const Tensor gout = detail::attention_operand(g[0]);
    Tensor gq = need_q ? detail::attention_like(qv, d) : Tensor();
    Tensor gk = need_k ? detail::attention_like(kv, d) : Tensor();
    Tensor gv = need_v ? detail::attention_like(vv, dv) : Tensor();
    if (qv.numel() > 0 || kv.numel() > 0) {
      visit_floating(qv.dtype(), op, [&]<class T>() {
        cpu::AttentionArgs<T> a = args_for.template operator()<T>(qv, kv, vv, smask.get(op), smax.get(op), sinv.get(op));
        a.grad_out = detail::attention_view<const T>(gout);
        if (need_q) a.grad_q = detail::attention_view<T>(gq);
        if (need_k) a.grad_k = detail::attention_view<T>(gk);
        if (need_v) a.grad_v = detail::attention_view<T>(gv);
        attention_backward_slot<T>(qv.device(), a);
      });
    }
    return {gq, gk, gv};
  });
  return out;
}

}  // namespace recsys
