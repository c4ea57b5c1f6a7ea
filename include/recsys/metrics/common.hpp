// recsys/metrics/common.hpp — input checks shared by the metrics and the Tensor-to-vector conversions of their overloads.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "recsys/core/tensor.hpp"

namespace recsys::metrics::detail {

/// Every metric needs at least one sample and two inputs of one length (sklearn refuses empty input too).
inline void check_pair(const char* metric, std::size_t n_true, std::size_t n_other, const char* other) {
  RECSYS_CHECK(n_true == n_other, metric, ": y_true has ", n_true, " elements but ", other, " has ", n_other);
  RECSYS_CHECK(n_true > 0, metric, ": empty input (at least one sample is needed)");
}

/// NaN and infinity are refused, as sklearn does, rather than silently poisoning a mean or a sort.
inline void check_finite(const char* metric, const char* what, std::span<const double> v) {
  for (std::size_t i = 0; i < v.size(); ++i)
    RECSYS_CHECK(std::isfinite(v[i]), metric, ": ", what, "[", i, "] is ", v[i], " (values must be finite)");
}

/// Binary targets are 0 or 1.
inline void check_binary(const char* metric, const char* what, std::span<const int> y) {
  for (std::size_t i = 0; i < y.size(); ++i)
    RECSYS_CHECK(y[i] == 0 || y[i] == 1, metric, ": ", what, "[", i, "] is ", y[i], " (binary labels are 0 or 1)");
}

/// A vector-shaped tensor's ((n), (n, 1) or (1, n)) elements as doubles.
inline std::vector<double> values_of(const char* metric, const char* what, const Tensor& t) {
  RECSYS_CHECK(t.defined(), metric, ": ", what, " is an undefined tensor");
  int long_dims = 0;
  for (int d = 0; d < t.dim(); ++d) long_dims += t.size(d) != 1;
  RECSYS_CHECK(long_dims <= 1, metric, ": ", what, " must be one-dimensional (or (n, 1)), got shape ", t.shape());
  return t.to_vector<double>();
}

/// Class labels stored in any dtype; a float tensor must hold whole numbers (0.7 is a score, not a label).
inline std::vector<int> labels_of(const char* metric, const char* what, const Tensor& t) {
  const std::vector<double> v = values_of(metric, what, t);
  std::vector<int> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    RECSYS_CHECK(v[i] == std::floor(v[i]) && std::fabs(v[i]) < 2147483648.0, metric, ": ", what, "[", i, "] is ",
                 v[i], ", not a class label (labels are whole numbers; threshold scores first)");
    out[i] = static_cast<int>(v[i]);
  }
  return out;
}

}  // namespace recsys::metrics::detail
