// recsys/cpu/binary.hpp — elementwise a (op) b with broadcasting strides, into a contiguous output.
#pragma once

#include <cstdint>

#include "recsys/cpu/strided.hpp"

namespace recsys {

/// The broadcasting binary ops; one kernel slot serves them all.
enum class BinaryOp : std::uint8_t { add, sub, mul, div };

namespace cpu {

template <BinaryOp Op, class T>
inline T apply_binary(T a, T b) {
  if constexpr (Op == BinaryOp::add) return a + b;
  if constexpr (Op == BinaryOp::sub) return a - b;
  if constexpr (Op == BinaryOp::mul) return a * b;
  if constexpr (Op == BinaryOp::div) return a / b;
}

template <BinaryOp Op, class T>
void binary_rows(const T* a, const Shape& a_strides, const T* b, const Shape& b_strides, T* out,
                 const Shape& out_strides, const Shape& shape) {
  for_each_row<3>(shape, {out_strides, a_strides, b_strides},
                  [&](const std::array<std::int64_t, 3>& off, std::int64_t n, const std::array<std::int64_t, 3>& st) {
                    T* o = out + off[0];
                    const T* x = a + off[1];
                    const T* y = b + off[2];
                    // The common layouts get their own loops so the compiler vectorizes them.
                    if (st[0] == 1 && st[1] == 1 && st[2] == 1) {
                      for (std::int64_t i = 0; i < n; ++i) o[i] = apply_binary<Op>(x[i], y[i]);
                    } else if (st[0] == 1 && st[1] == 1 && st[2] == 0) {
                      const T s = *y;
                      for (std::int64_t i = 0; i < n; ++i) o[i] = apply_binary<Op>(x[i], s);
                    } else if (st[0] == 1 && st[1] == 0 && st[2] == 1) {
                      const T s = *x;
                      for (std::int64_t i = 0; i < n; ++i) o[i] = apply_binary<Op>(s, y[i]);
                    } else {
                      for (std::int64_t i = 0; i < n; ++i)
                        o[i * st[0]] = apply_binary<Op>(x[i * st[1]], y[i * st[2]]);
                    }
                  });
}

/// out = a (op) b over `shape`; any operand may be strided, and a or b may alias out.
template <class T>
void binary(BinaryOp op, const T* a, Shape a_strides, const T* b, Shape b_strides, T* out, Shape out_strides,
            Shape shape) {
  switch (op) {
    case BinaryOp::add: return binary_rows<BinaryOp::add>(a, a_strides, b, b_strides, out, out_strides, shape);
    case BinaryOp::sub: return binary_rows<BinaryOp::sub>(a, a_strides, b, b_strides, out, out_strides, shape);
    case BinaryOp::mul: return binary_rows<BinaryOp::mul>(a, a_strides, b, b_strides, out, out_strides, shape);
    case BinaryOp::div: return binary_rows<BinaryOp::div>(a, a_strides, b, b_strides, out, out_strides, shape);
  }
}

}  // namespace cpu
}  // namespace recsys
