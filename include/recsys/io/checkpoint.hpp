// recsys/io/checkpoint.hpp — training checkpoints: weights, optimizer and scheduler state, epoch/step and RNG state in one safetensors file.
#pragma once

// A checkpoint is an ordinary safetensors file (any safetensors reader can open it):
//   tensors   "model.<parameter name>"      the weights
//             "optim.<index>.<buffer>"      the optimizer's buffers (see optim::OptimizerState)
//   metadata  format = "recsys.checkpoint", format_version = "1", epoch, step, rng_seed, rng_offset,
//             optimizer = JSON (type, lr, hyper-parameters, step counts), scheduler = JSON (if any),
//             "user.<key>" = the caller's own strings

#include <charconv>
#include <cstdint>
#include <string>

#include "recsys/core/random.hpp"
#include "recsys/io/json.hpp"
#include "recsys/io/safetensors.hpp"
#include "recsys/optim/lr_scheduler.hpp"
#include "recsys/optim/optimizer.hpp"

namespace recsys::io {

/// Where training stands: saved beside the weights so that a resumed run continues exactly as an
/// uninterrupted one would.
struct CheckpointInfo {
  std::int64_t epoch = 0;       // completed epochs
  std::int64_t step = 0;        // completed optimizer steps
  std::uint64_t rng_seed = 0;   // the training Generator's state (shuffling, dropout)
  std::uint64_t rng_offset = 0;
  Metadata user;                // the caller's own strings

  /// Records a Generator's state.
  void save_rng(const Generator& gen) {
    rng_seed = gen.seed();
    rng_offset = gen.offset();
  }
  /// Puts a Generator back in the recorded state.
  void restore_rng(Generator& gen) const { gen.set_state(rng_seed, rng_offset); }
};

inline constexpr const char* kCheckpointFormat = "recsys.checkpoint";
inline constexpr const char* kCheckpointVersion = "1";

/// Writes model weights, optimizer (and optional scheduler) state and `info` to `path`, atomically
/// (a crash leaves the previous checkpoint in place). `model` is e.g. module.named_parameters().
inline void save_checkpoint(const std::string& path, const NamedTensors& model, const optim::Optimizer& optimizer,
                            const CheckpointInfo& info, const optim::LRScheduler* scheduler = nullptr) {
  NamedTensors tensors;
  tensors.reserve(model.size());
  for (const auto& [name, t] : model) tensors.emplace_back("model." + name, t);
  const optim::OptimizerState state = optimizer.state();
  for (const auto& [name, t] : state.tensors) tensors.emplace_back("optim." + name, t);

  Metadata meta;
  for (const auto& [k, v] : info.user) meta["user." + k] = v;
  meta["format"] = kCheckpointFormat;
  meta["format_version"] = kCheckpointVersion;
  meta["epoch"] = std::to_string(info.epoch);
  meta["step"] = std::to_string(info.step);
  meta["rng_seed"] = std::to_string(info.rng_seed);
  meta["rng_offset"] = std::to_string(info.rng_offset);
  meta["optimizer"] = json::dump(state.scalars);
  if (scheduler) meta["scheduler"] = json::dump(scheduler->state());
  save_safetensors(path, tensors, meta);
}

namespace detail {

template <class Int>
Int checkpoint_integer(const std::string& src, const Metadata& meta, const char* key) {
  const auto it = meta.find(key);
  RECSYS_CHECK(it != meta.end(), "checkpoint: ", src, ": metadata has no '", key, "'");
  Int v{};
  const std::string& s = it->second;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  RECSYS_CHECK(ec == std::errc() && end == s.data() + s.size() && !s.empty(), "checkpoint: ", src, ": metadata '", key,
               "' must be an integer, got '", s, "'");
  return v;
}

inline json::Value checkpoint_json(const std::string& src, const Metadata& meta, const char* key) {
  const auto it = meta.find(key);
  RECSYS_CHECK(it != meta.end(), "checkpoint: ", src, ": metadata has no '", key, "'");
  try {
    return json::parse(it->second);
  } catch (const Error& e) {
    RECSYS_FAIL("checkpoint: ", src, ": metadata '", key, "' is not valid JSON: ", e.what());
  }
}

}  // namespace detail

/// Restores a checkpoint written by save_checkpoint into `model` (names, dtypes and shapes must match
/// exactly), `optimizer` (same type and hyper-parameters) and, if given, `scheduler`, and returns the
/// recorded CheckpointInfo (call info.restore_rng(gen) to resume the random stream). Everything is
/// validated and read before anything is written: a failed load leaves model and optimizer unchanged.
inline CheckpointInfo load_checkpoint(const std::string& path, const NamedTensors& model, optim::Optimizer& optimizer,
                                      optim::LRScheduler* scheduler = nullptr) {
  const detail::FileSource in(path);
  const std::string& src = in.name();
  const SafetensorsHeader h = detail::read_header(in);
  const Metadata& meta = h.metadata;

  const auto format = meta.find("format");
  RECSYS_CHECK(format != meta.end() && format->second == kCheckpointFormat, "checkpoint: ", src,
               " is not a recsys checkpoint (its metadata has no format = \"", kCheckpointFormat,
               "\"; plain weight files load with load_into)");
  const auto version = meta.find("format_version");
  RECSYS_CHECK(version != meta.end() && version->second == kCheckpointVersion, "checkpoint: ", src,
               ": unsupported format_version '", version == meta.end() ? "" : version->second, "' (expected ",
               kCheckpointVersion, ")");
  CheckpointInfo info;
  info.epoch = detail::checkpoint_integer<std::int64_t>(src, meta, "epoch");
  info.step = detail::checkpoint_integer<std::int64_t>(src, meta, "step");
  info.rng_seed = detail::checkpoint_integer<std::uint64_t>(src, meta, "rng_seed");
  info.rng_offset = detail::checkpoint_integer<std::uint64_t>(src, meta, "rng_offset");
  for (const auto& [k, v] : meta)
    if (k.rfind("user.", 0) == 0) info.user[k.substr(5)] = v;

  // Weights: every model tensor must be present; the only other tensors allowed are the optimizer's.
  NamedTensors destination;
  destination.reserve(model.size());
  for (const auto& [name, t] : model) destination.emplace_back("model." + name, t);
  const detail::LoadPlan plan = detail::prepare_load(in, h, destination, {.allow_unexpected = true});
  optim::OptimizerState state;
  state.scalars = detail::checkpoint_json(src, meta, "optimizer");
  for (const std::string& name : plan.result.unexpected)
    RECSYS_CHECK(name.rfind("optim.", 0) == 0, "checkpoint: ", src, ": unexpected tensor '", name,
                 "' (neither a model parameter nor optimizer state)");
  for (const SafetensorsEntry& e : h.entries)
    if (e.name.rfind("optim.", 0) == 0) state.tensors.emplace_back(e.name.substr(6), detail::read_entry(in, h, e));
  try {
    optimizer.check_state(state);
  } catch (const Error& e) {
    RECSYS_FAIL("checkpoint: ", src, ": ", e.what());
  }
  json::Value scheduler_state;
  if (scheduler) {
    scheduler_state = detail::checkpoint_json(src, meta, "scheduler");
    try {
      scheduler->check_state(scheduler_state);
    } catch (const Error& e) {
      RECSYS_FAIL("checkpoint: ", src, ": ", e.what());
    }
  }

  // Everything checked: now write.
  plan.commit();
  optimizer.load_state(state);
  if (scheduler) scheduler->load_state(scheduler_state);
  return info;
}

}  // namespace recsys::io
