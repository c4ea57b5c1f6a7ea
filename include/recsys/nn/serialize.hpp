// recsys/nn/serialize.hpp — a module's weights in a safetensors file: save_weights and load_weights.
#pragma once

#include <string>

#include "recsys/io/safetensors.hpp"
#include "recsys/nn/module.hpp"

namespace recsys::nn {

/// Writes every parameter of `module` under its dotted name ("3.recurrent_kernel") to a safetensors
/// file, atomically: a crash while writing leaves the previous file in place.
inline void save_weights(Module& module, const std::string& path, const io::Metadata& metadata = {}) {
  io::save_safetensors(path, module.named_parameters(), metadata);
}

/// Copies the weights in `path` into `module`, matched by name (dtypes and shapes must be equal).
/// All or nothing: a missing, unexpected or mis-shaped tensor, or a damaged file, throws and leaves
/// the module unchanged. Returns the names skipped under `options` and the file's metadata.
inline io::LoadResult load_weights(Module& module, const std::string& path, const io::LoadOptions& options = {}) {
  return io::load_into(path, module.named_parameters(), options);
}

}  // namespace recsys::nn
