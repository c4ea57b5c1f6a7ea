// recsys/nn/serialize.hpp — a module's weights in a safetensors file: save_weights and load_weights.
#pragma once

#include <algorithm>
#include <string>

#include "recsys/core/finite.hpp"

#include "recsys/io/safetensors.hpp"
#include "recsys/nn/module.hpp"

namespace recsys::nn {

/// Writes every parameter of `module` under its dotted name ("3.recurrent_kernel") to a safetensors
/// file, atomically: a crash while writing leaves the previous file in place. A parameter holding a
/// NaN or an infinity is refused (the error names it) and nothing is written.
inline void save_weights(Module& module, const std::string& path, const io::Metadata& metadata = {}) {
  const NamedTensors params = module.named_parameters();
  check_finite_tensors(params, "save_weights: not saving '" + path + "'");
  io::save_safetensors(path, params, metadata);
}

/// Copies the weights in `path` into `module`, matched by name (dtypes and shapes must be equal).
/// All or nothing: a missing, unexpected or mis-shaped tensor, a tensor holding a NaN or an
/// infinity, or a damaged file, throws and leaves the module unchanged. Returns the names skipped
/// under `options` and the file's metadata.
inline io::LoadResult load_weights(Module& module, const std::string& path, const io::LoadOptions& options = {}) {
  const NamedTensors params = module.named_parameters();
  NamedTensors staged;  // read into copies first, so a non-finite file changes nothing
  staged.reserve(params.size());
  for (const auto& [name, t] : params) staged.emplace_back(name, Tensor::empty(t.shape(), {t.dtype(), t.device()}));
  io::LoadResult result = io::load_into(path, staged, options);
  NamedTensors loaded;
  for (const auto& entry : staged)
    if (std::find(result.missing.begin(), result.missing.end(), entry.first) == result.missing.end())
      loaded.push_back(entry);
  check_finite_tensors(loaded, "load_weights: '" + path + "'");
  NoGradGuard no_grad;
  for (std::size_t i = 0; i < params.size(); ++i)
    if (std::find(result.missing.begin(), result.missing.end(), params[i].first) == result.missing.end())
      params[i].second.copy_(staged[i].second);
  return result;
}

}  // namespace recsys::nn
