// recsys/core/print.hpp — operator<< for Tensor, PyTorch style, summarizing large tensors with "...".
#pragma once

#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

#include "recsys/core/tensor.hpp"

namespace recsys {

namespace detail {

inline constexpr std::int64_t kPrintThreshold = 1000;  // more elements than this are summarized
inline constexpr std::int64_t kPrintEdge = 3;          // elements shown at each end when summarized

inline std::string format_element(double v, bool floating) {
  char buf[64];
  if (!floating) std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  else if (std::isnan(v) || std::isinf(v)) std::snprintf(buf, sizeof buf, "%s", std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf"));
  else if (v != 0 && (std::fabs(v) >= 1e6 || std::fabs(v) < 1e-4)) std::snprintf(buf, sizeof buf, "%.4e", v);
  else std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

inline void print_dim(std::ostream& os, const std::vector<double>& values, const Shape& shape, int d,
                      std::int64_t base, bool summarize, bool floating, int indent) {
  if (shape.size() == 0) {
    os << format_element(values[0], floating);
    return;
  }
  const Shape strides = contiguous_strides(shape);
  const std::int64_t n = shape[d];
  os << '[';
  for (std::int64_t i = 0; i < n; ++i) {
    if (summarize && n > 2 * kPrintEdge && i == kPrintEdge) {
      os << (d + 1 == shape.size() ? "..., " : "...,\n" + std::string(static_cast<std::size_t>(indent + 1), ' '));
      i = n - kPrintEdge;
    }
    if (d + 1 == shape.size()) {
      os << format_element(values[static_cast<std::size_t>(base + i)], floating);
    } else {
      print_dim(os, values, shape, d + 1, base + i * strides[d], summarize, floating, indent + 1);
    }
    if (i + 1 < n) os << (d + 1 == shape.size() ? ", " : ",\n" + std::string(static_cast<std::size_t>(indent + 1), ' '));
  }
  os << ']';
}

}  // namespace detail

/// Prints e.g. `tensor([[1.0000, 2.0000], [3.0000, 4.0000]], dtype=float32)`.
inline std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  if (!t.defined()) return os << "tensor(undefined)";
  const std::vector<double> values = t.to_vector<double>();
  os << "tensor(";
  detail::print_dim(os, values, t.shape(), 0, 0, t.numel() > detail::kPrintThreshold, t.is_floating_point(), 7);
  os << ", shape=" << t.shape() << ", dtype=" << t.dtype();
  if (!t.device().is_cpu()) os << ", device=" << t.device();
  if (t.requires_grad()) os << (t.is_leaf() ? ", requires_grad" : ", grad_fn=") << (t.is_leaf() ? "" : t.grad_fn()->name);
  return os << ')';
}

}  // namespace recsys
