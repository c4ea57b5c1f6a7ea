// recsys/ops/matmul.hpp — matrix products: matmul (1-D, 2-D and batched with broadcasting) and the gemm kernel slot.
#pragma once

#include <cstdint>

#include "recsys/autograd/function.hpp"
#include "recsys/core/dispatch.hpp"
#include "recsys/core/tensor.hpp"
#include "recsys/cpu/gemm.hpp"
#include "recsys/cpu/strided.hpp"
#include "recsys/ops/checks.hpp"
#include "recsys/ops/reduce.hpp"

namespace recsys {

/// The one GEMM slot every matrix product goes through (matmul, linear, conv1d, lstm).
template <class T>
inline KernelSlot<void(const GemmArgs<T>&)> gemm_slot{"gemm", &cpu::gemm<T>};

namespace detail {

/// How a matrix view (the last two dims of t) reads as a GEMM operand without copying.
struct MatrixOperand {
  bool transposed = false;
  std::int64_t ld = 0;
};

/// Row-major (stride 1 along columns) or column-major (stride 1 along rows) views work as they are;
/// anything else needs a copy, which the caller makes when this returns false.
inline bool matrix_operand(const Tensor& t, MatrixOperand& out) {
  const int r = t.dim() - 2, c = t.dim() - 1;
  const std::int64_t rows = t.size(r), cols = t.size(c), sr = t.stride(r), sc = t.stride(c);
  if (cols == 1 || sc == 1) {
    out = {false, rows == 1 ? cols : sr};
    return out.ld >= cols || rows == 1;
  }
  if (rows == 1 || sr == 1) {
    out = {true, cols == 1 ? rows : sc};
    return out.ld >= rows || cols == 1;
  }
  return false;
}

/// out = alpha * a·b + beta * out for a (..., m, k), b (..., k, n) whose batch dims already match
/// out's (..., m, n) batch dims after broadcasting (stride 0 where broadcast).
template <class T>
void batched_gemm(const Tensor& a, const Shape& a_batch_strides, const Tensor& b, const Shape& b_batch_strides,
                  const Tensor& out, T alpha, T beta) {
  MatrixOperand oa, ob;
  const bool ok_a = matrix_operand(a, oa), ok_b = matrix_operand(b, ob);
  RECSYS_CHECK(ok_a && ok_b, "matmul: internal error: operands must be matrix views");
  const int nb = out.dim() - 2;
  Shape batch, c_strides;
  for (int i = 0; i < nb; ++i) {
    batch.push_back(out.size(i));
    c_strides.push_back(out.stride(i));
  }
  GemmArgs<T> p;
  p.trans_a = oa.transposed;
  p.trans_b = ob.transposed;
  p.m = out.size(-2);
  p.n = out.size(-1);
  p.k = a.size(-1);
  p.alpha = alpha;
  p.beta = beta;
  p.lda = oa.ld;
  p.ldb = ob.ld;
  p.ldc = out.stride(-2);
  // Collapse the batch dims; the innermost collapsed dim becomes GemmArgs::batch, any outer ones loop here.
  const cpu::StridedLoop<3> loop = cpu::collapse<3>(batch, {a_batch_strides, b_batch_strides, c_strides});
  const int rank = loop.shape.size();
  p.batch = loop.shape[rank - 1];
  p.stride_a = loop.strides[0][rank - 1];
  p.stride_b = loop.strides[1][rank - 1];
  p.stride_c = loop.strides[2][rank - 1];
  const std::int64_t outer = loop.shape.numel() / p.batch;
  for (std::int64_t o = 0; o < outer; ++o) {
    std::int64_t rem = o, off_a = 0, off_b = 0, off_c = 0;
    for (int d = rank - 2; d >= 0; --d) {
      const std::int64_t i = rem % loop.shape[d];
      rem /= loop.shape[d];
      off_a += i * loop.strides[0][d];
      off_b += i * loop.strides[1][d];
      off_c += i * loop.strides[2][d];
    }
    GemmArgs<T> q = p;
    q.a = a.data<T>() + off_a;
    q.b = b.data<T>() + off_b;
    q.c = out.data<T>() + off_c;
    gemm_slot<T>(out.device(), q);
  }
}

/// A view that GEMM can read directly: the tensor itself when possible, else a contiguous copy.
inline Tensor as_matrix_operand(const Tensor& t) {
  MatrixOperand unused;
  return matrix_operand(t, unused) ? t : t.contiguous();
}

/// matmul for operands with at least 2 dims.
inline Tensor matmul_nd(const Tensor& a_in, const Tensor& b_in) {
  const Tensor a = as_matrix_operand(a_in), b = as_matrix_operand(b_in);
  const std::int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  RECSYS_CHECK(b.size(-2) == k, "matmul: a has shape ", a.shape(), " and b has shape ", b.shape(),
               "; the inner dimensions ", k, " and ", b.size(-2), " differ");
  Shape a_batch, b_batch, a_bstr, b_bstr;
  for (int i = 0; i < a.dim() - 2; ++i) {
    a_batch.push_back(a.size(i));
    a_bstr.push_back(a.stride(i));
  }
  for (int i = 0; i < b.dim() - 2; ++i) {
    b_batch.push_back(b.size(i));
    b_bstr.push_back(b.stride(i));
  }
  const Shape batch = broadcast_shapes(a_batch, b_batch, "matmul");
  Shape out_shape = batch;
  out_shape.push_back(m);
  out_shape.push_back(n);
  Tensor out = Tensor::empty(out_shape, {a.dtype(), a.device()});
  visit_floating(a.dtype(), "matmul", [&]<class T>() {
    batched_gemm<T>(a, broadcast_strides(a_batch, a_bstr, batch), b, broadcast_strides(b_batch, b_bstr, batch), out,
                    T(1), T(0));
  });
  if (!autograd::should_record(a_in, b_in)) return out;
  const bool need_a = a_in.requires_grad(), need_b = b_in.requires_grad();
  const autograd::SavedTensor sa(need_b ? a : Tensor()), sb(need_a ? b : Tensor());
  const Shape as = a_in.shape(), bs = b_in.shape();
  autograd::record("matmul", {a_in, b_in}, {out}, [=](const autograd::TensorList& g) -> autograd::TensorList {
    Tensor ga, gb;
    if (need_a) ga = sum_to_shape(matmul_nd(g[0], sb.get("matmul").transpose(-1, -2)), as);
    if (need_b) gb = sum_to_shape(matmul_nd(sa.get("matmul").transpose(-1, -2), g[0]), bs);
    return {ga, gb};
  });
  return out;
}

}  // namespace detail

/// Matrix product with NumPy semantics: 1-D operands are promoted to a row (a) or column (b)
/// vector and the added dim removed again; batch dims broadcast. Transposed views need no copy.
inline Tensor matmul(const Tensor& a, const Tensor& b) {
  detail::check_floating("matmul", "a", a);
  detail::check_floating("matmul", "b", b);
  detail::check_same("matmul", {{"a", &a}, {"b", &b}});
  RECSYS_CHECK(a.dim() >= 1 && b.dim() >= 1, "matmul: operands must have at least 1 dimension, got shapes ",
               a.shape(), " and ", b.shape());
  const bool a_vec = a.dim() == 1, b_vec = b.dim() == 1;
  Tensor out = detail::matmul_nd(a_vec ? a.unsqueeze(0) : a, b_vec ? b.unsqueeze(1) : b);
  if (a_vec) out = out.squeeze(-2);
  if (b_vec) out = out.squeeze(-1);
  return out;
}

}  // namespace recsys
