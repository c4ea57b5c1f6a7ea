// recsys/metrics/regression.hpp — mean squared error, its root, and mean absolute error (as sklearn defines them).
#pragma once

#include <cmath>
#include <span>

#include "recsys/metrics/common.hpp"

namespace recsys::metrics {

namespace detail {

/// Mean of f(y_true[i] - y_pred[i]) after the checks every regression metric shares.
template <class F>
double mean_of_errors(const char* name, std::span<const double> y_true, std::span<const double> y_pred, F f) {
  check_pair(name, y_true.size(), y_pred.size(), "y_pred");
  check_finite(name, "y_true", y_true);
  check_finite(name, "y_pred", y_pred);
  double sum = 0;
  for (std::size_t i = 0; i < y_true.size(); ++i) sum += f(y_true[i] - y_pred[i]);
  return sum / static_cast<double>(y_true.size());
}

}  // namespace detail

/// Mean of squared errors.
inline double mse(std::span<const double> y_true, std::span<const double> y_pred) {
  return detail::mean_of_errors("mse", y_true, y_pred, [](double e) { return e * e; });
}
/// Square root of the mean squared error, in the target's own units.
inline double rmse(std::span<const double> y_true, std::span<const double> y_pred) {
  return std::sqrt(detail::mean_of_errors("rmse", y_true, y_pred, [](double e) { return e * e; }));
}
/// Mean of absolute errors.
inline double mae(std::span<const double> y_true, std::span<const double> y_pred) {
  return detail::mean_of_errors("mae", y_true, y_pred, [](double e) { return std::fabs(e); });
}

inline double mse(const Tensor& y_true, const Tensor& y_pred) {
  return mse(detail::values_of("mse", "y_true", y_true), detail::values_of("mse", "y_pred", y_pred));
}
inline double rmse(const Tensor& y_true, const Tensor& y_pred) {
  return rmse(detail::values_of("rmse", "y_true", y_true), detail::values_of("rmse", "y_pred", y_pred));
}
inline double mae(const Tensor& y_true, const Tensor& y_pred) {
  return mae(detail::values_of("mae", "y_true", y_true), detail::values_of("mae", "y_pred", y_pred));
}

}  // namespace recsys::metrics
