// recsys/nn/serialize.hpp — a module's weights in a safetensors file: save_weights and load_weights, in our names and layouts or in a PyTorch state_dict's.
#pragma once

#include <algorithm>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "recsys/core/factory.hpp"
#include "recsys/core/finite.hpp"
#include "recsys/ops/binary.hpp"
#include "recsys/ops/view.hpp"

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

/// The names and layouts of a weights file.
enum class WeightLayout {
  recsys,   ///< our parameter names ("3.recurrent_kernel") and layouts (Keras's: kernels [in, out])
  pytorch,  ///< the state_dict of the same network built from torch.nn layers (see WeightOptions)
};

/// How save_weights / load_weights name, lay out and convert tensors (the overloads taking this).
///
/// WeightLayout::pytorch maps each layer to the torch.nn module a PyTorch model of the same network holds,
/// under a submodule name (`torch_names`, by our layer's path; by default its kind's name: embedding, conv,
/// lstm, fc, and fc2, fc3, ... for a second and third of a kind):
///   Embedding  embeddings [V, D]              <->  NAME.weight [V, D]                     (nn.Embedding)
///   Conv1D     kernel [K, C, F], bias [F]     <->  NAME.weight [F, C, K], NAME.bias      (nn.Conv1d)
///   LSTM       kernel [I, 4H]                 <->  NAME.weight_ih_l0 [4H, I]             (nn.LSTM, one layer,
///              recurrent_kernel [H, 4H]       <->  NAME.weight_hh_l0 [4H, H]              batch_first or not;
///              bias [4H]                      <->  NAME.bias_ih_l0 + NAME.bias_hh_l0      gates i, f, g, o)
///   Dense      kernel [in, out], bias [out]   <->  NAME.weight [out, in], NAME.bias      (nn.Linear)
/// PyTorch's LSTM has two biases where we have one: saving writes ours as bias_ih_l0 and zeros as
/// bias_hh_l0; loading adds them. Layers without weights (MaxPool1D, Dropout) need no name. A file
/// written by `safetensors.torch.save_file(model.state_dict(), path)` loads in one call.
struct WeightOptions {
  WeightLayout layout = WeightLayout::recsys;
  /// pytorch: the PyTorch submodule name of our layer at each path ("0" -> "embedding"); paths not
  /// listed get the default name of their kind.
  std::map<std::string, std::string> torch_names = {};
  /// load: a floating-point tensor of another dtype (float64 in the file, float32 in the module) is
  /// converted to the module's dtype instead of refused.
  bool convert_dtype = false;
  /// load: what may be missing from or extra in the file (names as the file spells them).
  io::LoadOptions load = {};
};

namespace serialize_detail {

inline std::string shape_text(const Shape& s) {
  std::ostringstream os;
  os << s;
  return os.str();
}

/// One of our layers that owns parameters: its path ("3"), kind ("LSTM") and parameters by local name.
struct Layer {
  std::string path, kind;
  std::vector<std::pair<std::string, Tensor>> params;
  Tensor* find(const std::string& local) {
    for (auto& [n, t] : params)
      if (n == local) return &t;
    return nullptr;
  }
};

inline void collect(Module& m, const std::string& path, std::vector<Layer>& out) {
  Layer layer{path, m.name(), {}};
  m.visit_parameters([&](const std::string& name, Tensor& t) { layer.params.emplace_back(name, t); });
  if (!layer.params.empty()) out.push_back(std::move(layer));
  m.visit_children([&](const std::string& name, Module& child) { collect(child, path.empty() ? name : path + "." + name, out); });
}

/// The layers of `module` with their PyTorch submodule names.
inline std::vector<std::pair<Layer, std::string>> torch_layers(Module& module, const WeightOptions& o,
                                                               const char* op) {
  std::vector<Layer> layers;
  collect(module, "", layers);
  std::map<std::string, int> seen;
  std::vector<std::pair<Layer, std::string>> out;
  for (Layer& l : layers) {
    std::string base;
    if (l.kind == "Embedding") base = "embedding";
    else if (l.kind == "Conv1D") base = "conv";
    else if (l.kind == "LSTM") base = "lstm";
    else if (l.kind == "Dense") base = "fc";
    else RECSYS_FAIL(op, ": no PyTorch layout for the ", l.kind, " layer at '", l.path,
                     "' (Embedding, Conv1D, LSTM and Dense have one)");
    const int k = ++seen[base];
    std::string name = k == 1 ? base : base + std::to_string(k);
    if (auto it = o.torch_names.find(l.path); it != o.torch_names.end()) name = it->second;
    out.emplace_back(std::move(l), std::move(name));
  }
  for (const auto& [path, name] : o.torch_names) {
    const std::string& wanted = path;  // a named reference: clang before 16 cannot capture a structured binding
    const bool known = std::any_of(out.begin(), out.end(), [&](const auto& e) { return e.first.path == wanted; });
    RECSYS_CHECK(known, op, ": torch_names names '", path, "' (as '", name, "'), which is no layer with weights");
  }
  return out;
}

/// Our parameters of one layer as PyTorch tensors (contiguous, in PyTorch's layouts).
inline NamedTensors to_torch(Layer& l, const std::string& name) {
  NamedTensors out;
  const auto add = [&](const std::string& local, const Tensor& t) { out.emplace_back(name + "." + local, t.contiguous()); };
  if (l.kind == "Embedding") {
    add("weight", *l.find("embeddings"));
  } else if (l.kind == "Conv1D") {
    add("weight", l.find("kernel")->permute({2, 1, 0}));  // [K, C, F] -> [F, C, K]
    if (Tensor* b = l.find("bias")) add("bias", *b);
  } else if (l.kind == "LSTM") {
    add("weight_ih_l0", l.find("kernel")->t());
    add("weight_hh_l0", l.find("recurrent_kernel")->t());
    const Tensor& b = *l.find("bias");
    add("bias_ih_l0", b);
    add("bias_hh_l0", zeros(b.shape(), {b.dtype(), b.device()}));
  } else {  // Dense
    add("weight", l.find("kernel")->t());
    if (Tensor* b = l.find("bias")) add("bias", *b);
  }
  return out;
}

}  // namespace serialize_detail

/// save_weights with a layout: WeightLayout::pytorch writes the state_dict PyTorch's version of the same
/// network holds (see WeightOptions), so `model.load_state_dict(safetensors.torch.load_file(path))` reads
/// it. Atomic, and refusing non-finite parameters, as the plain save_weights.
inline void save_weights(Module& module, const std::string& path, const WeightOptions& options,
                         const io::Metadata& metadata = {}) {
  if (options.layout == WeightLayout::recsys) return save_weights(module, path, metadata);
  check_finite_tensors(module.named_parameters(), "save_weights: not saving '" + path + "'");
  NamedTensors out;
  for (auto& [layer, name] : serialize_detail::torch_layers(module, options, "save_weights"))
    for (auto& entry : serialize_detail::to_torch(layer, name)) out.push_back(std::move(entry));
  io::Metadata meta = metadata;
  meta.emplace("format", "pt");  // what safetensors.torch.save_file writes
  io::save_safetensors(path, out, meta);
}

/// load_weights with a layout and dtype conversion. WeightLayout::pytorch reads a PyTorch state_dict of
/// the same network (see WeightOptions: tensors transposed back, the LSTM's two biases added);
/// options.convert_dtype converts floating-point tensors to the module's dtype. All or nothing, as the
/// plain load_weights: a missing, unexpected, mis-shaped or non-finite tensor throws naming it (as the
/// file names it) and changes nothing.
inline io::LoadResult load_weights(Module& module, const std::string& path, const WeightOptions& options) {
  using serialize_detail::shape_text;
  const std::string where = "load_weights: '" + path + "'";
  io::SafetensorsFile file = io::read_safetensors(path);
  std::map<std::string, Tensor> in;
  for (auto& [n, t] : file.tensors) in.emplace(n, t);
  io::LoadResult result;
  result.metadata = file.metadata;
  std::vector<std::string> used;
  // Each file tensor, checked and converted to `like`'s dtype; an undefined Tensor when it is absent.
  const auto take = [&](const std::string& name, const Tensor& like) -> Tensor {
    auto it = in.find(name);
    if (it == in.end()) {
      RECSYS_CHECK(options.load.allow_missing, where, " has no tensor '", name, "' (missing tensor)");
      result.missing.push_back(name);
      return Tensor();
    }
    used.push_back(name);
    Tensor t = it->second;
    if (t.dtype() != like.dtype()) {
      RECSYS_CHECK(options.convert_dtype && t.is_floating_point() && like.is_floating_point(), where, ": tensor '",
                   name, "' is ", dtype_name(t.dtype()), " and the module's is ", dtype_name(like.dtype()),
                   t.is_floating_point() && like.is_floating_point() ? " (set convert_dtype to convert it)" : "");
      t = t.to(like.dtype());
    }
    return t;
  };
  const auto expect_shape = [&](const std::string& name, const Tensor& t, const Shape& want) {
    RECSYS_CHECK(t.shape() == want, where, ": tensor '", name, "' has shape ", shape_text(t.shape()), ", expected ",
                 shape_text(want));
  };
  // (destination parameter, its new value) pairs, filled before anything is copied.
  std::vector<std::pair<Tensor, Tensor>> staged;
  NamedTensors check;  // the new values by file name, for the finiteness check
  const auto stage = [&](Tensor& param, Tensor value, const std::string& name) {
    if (!value.defined()) return;
    check.emplace_back(name, value);
    staged.emplace_back(param, value.to(param.device()).contiguous());
  };
  if (options.layout == WeightLayout::recsys) {
    for (auto& [name, param] : module.named_parameters()) {
      Tensor t = take(name, param);
      if (t.defined()) expect_shape(name, t, param.shape());
      stage(param, t, name);
    }
  } else {
    for (auto& [layer, prefix] : serialize_detail::torch_layers(module, options, "load_weights")) {
      const std::string& base = prefix;  // clang before 16 cannot capture a structured binding
      const auto full = [&](const char* local) { return base + "." + local; };
      if (layer.kind == "Embedding") {
        Tensor& e = *layer.find("embeddings");
        Tensor w = take(full("weight"), e);
        if (w.defined()) expect_shape(full("weight"), w, e.shape());
        stage(e, w, full("weight"));
      } else if (layer.kind == "LSTM") {
        Tensor& k = *layer.find("kernel");
        Tensor& r = *layer.find("recurrent_kernel");
        Tensor& b = *layer.find("bias");
        Tensor wih = take(full("weight_ih_l0"), k), whh = take(full("weight_hh_l0"), r);
        Tensor bih = take(full("bias_ih_l0"), b), bhh = take(full("bias_hh_l0"), b);
        if (wih.defined()) expect_shape(full("weight_ih_l0"), wih, Shape{k.size(1), k.size(0)});
        if (whh.defined()) expect_shape(full("weight_hh_l0"), whh, Shape{r.size(1), r.size(0)});
        if (bih.defined()) expect_shape(full("bias_ih_l0"), bih, b.shape());
        if (bhh.defined()) expect_shape(full("bias_hh_l0"), bhh, b.shape());
        stage(k, wih.defined() ? wih.t() : wih, full("weight_ih_l0"));
        stage(r, whh.defined() ? whh.t() : whh, full("weight_hh_l0"));
        // One bias from two: their sum is what the gates see. With one of them absent (allowed missing),
        // the other alone.
        Tensor sum = bih.defined() && bhh.defined() ? bih + bhh : bih.defined() ? bih : bhh;
        stage(b, sum, full("bias_ih_l0") + " + " + full("bias_hh_l0"));
      } else {  // Conv1D, Dense: a kernel and an optional bias
        Tensor& k = *layer.find("kernel");
        Tensor w = take(full("weight"), k);
        const bool conv = layer.kind == "Conv1D";
        if (w.defined()) {
          expect_shape(full("weight"), w, conv ? Shape{k.size(2), k.size(1), k.size(0)} : Shape{k.size(1), k.size(0)});
          w = conv ? w.permute({2, 1, 0}) : w.t();
        }
        stage(k, w, full("weight"));
        if (Tensor* b = layer.find("bias")) {
          Tensor bias = take(full("bias"), *b);
          if (bias.defined()) expect_shape(full("bias"), bias, b->shape());
          stage(*b, bias, full("bias"));
        }
      }
    }
  }
  for (const auto& [name, t] : file.tensors) {
    if (std::find(used.begin(), used.end(), name) != used.end()) continue;
    RECSYS_CHECK(options.load.allow_unexpected, where, " holds tensor '", name,
                 "', which the module has no place for (unexpected tensor)");
    result.unexpected.push_back(name);
  }
  check_finite_tensors(check, where);
  NoGradGuard no_grad;
  for (auto& [param, value] : staged) param.copy_(value);
  return result;
}

}  // namespace recsys::nn
