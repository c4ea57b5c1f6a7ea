// recsys/core/finite.hpp — numerical guards: a training loss that stopped being finite, and tensors with NaN or infinity refused when saved or loaded.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "recsys/core/error.hpp"
#include "recsys/core/tensor.hpp"

namespace recsys {

/// Stops training when a batch loss is NaN or infinite: every later step would only spread it
/// through the weights, and a model of NaNs scores nothing. `who` names the model ("mf.fit"); epoch
/// and step count from 1, as the progress bar shows them. Every training loop calls this one
/// function, so the message (and its advice) is the same everywhere.
inline void check_finite_loss(double loss, const std::string& who, int epoch, std::int64_t step, double lr) {
  if (std::isfinite(loss)) return;
  std::ostringstream os;
  os << who << ": the training loss became " << loss << " at epoch " << epoch << ", step " << step
     << ": training diverged; lower the learning rate (--lr, now " << lr
     << "), or check the data for extreme values";
  throw Error(os.str());
}

/// Where `t` first holds a NaN or an infinity ("nan at [3, 1]"), or nullopt when every element is
/// finite (and for integer tensors, which cannot hold either). Reads a host copy for device tensors.
inline std::optional<std::string> first_non_finite(const Tensor& t) {
  if (!t.defined() || !t.is_floating_point() || t.numel() == 0) return std::nullopt;
  const Tensor host = t.to(Device::cpu()).contiguous();
  std::int64_t bad = -1;
  double value = 0;
  const auto scan = [&](const auto* p) {
    for (std::int64_t i = 0; i < host.numel(); ++i)
      if (!std::isfinite(static_cast<double>(p[i]))) {
        bad = i;
        value = static_cast<double>(p[i]);
        return;
      }
  };
  if (host.dtype() == DType::float32) scan(host.data<float>());
  else if (host.dtype() == DType::float64) scan(host.data<double>());
  else return std::nullopt;
  if (bad < 0) return std::nullopt;
  std::ostringstream os;
  os << value << " at [";
  std::int64_t rest = bad;
  std::vector<std::int64_t> index(static_cast<std::size_t>(host.dim()));
  for (std::int64_t d = host.dim() - 1; d >= 0; --d) {
    index[static_cast<std::size_t>(d)] = rest % host.size(d);
    rest /= host.size(d);
  }
  for (std::size_t d = 0; d < index.size(); ++d) os << (d ? ", " : "") << index[d];
  os << "]";
  return os.str();
}

/// Throws naming the first tensor of `tensors` that holds a NaN or an infinity, where, and why it
/// matters: `what` says what was being done ("mf.save: not saving 'runs/mf'").
inline void check_finite_tensors(const NamedTensors& tensors, const std::string& what) {
  for (const auto& [name, t] : tensors)
    if (const std::optional<std::string> where = first_non_finite(t))
      RECSYS_FAIL(what, ": tensor '", name, "' holds a non-finite value (", *where,
                  "); a model with NaN or infinite weights scores nothing");
}

}  // namespace recsys
