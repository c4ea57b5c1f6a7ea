// recsys/ops/checks.hpp — argument checks shared by ops; every message starts with the op's name.
#pragma once

#include <initializer_list>
#include <utility>

#include "recsys/core/tensor_decl.hpp"

namespace recsys::detail {

/// `what` is the argument's name in the op's signature ("input", "weight", ...).
inline void check_defined(const char* op, const char* what, const Tensor& t) {
  RECSYS_CHECK(t.defined(), op, ": ", what, " is an undefined tensor");
}

inline void check_floating(const char* op, const char* what, const Tensor& t) {
  check_defined(op, what, t);
  RECSYS_CHECK(t.is_floating_point(), op, ": ", what, " must be float32 or float64, got ", t.dtype());
}

inline void check_dim(const char* op, const char* what, const Tensor& t, int expected, const char* layout) {
  check_defined(op, what, t);
  RECSYS_CHECK(t.dim() == expected, op, ": ", what, " must have ", expected, " dimensions ", layout, ", got shape ",
               t.shape());
}

/// All tensors on one device and (when `same_dtype`) of one dtype; undefined tensors are skipped.
inline void check_same(const char* op, std::initializer_list<std::pair<const char*, const Tensor*>> args,
                       bool same_dtype = true) {
  const std::pair<const char*, const Tensor*>* first = nullptr;
  for (const auto& arg : args) {
    if (!arg.second->defined()) continue;
    if (!first) {
      first = &arg;
      continue;
    }
    RECSYS_CHECK(arg.second->device() == first->second->device(), op, ": ", first->first, " is on ",
                 first->second->device(), " but ", arg.first, " is on ", arg.second->device());
    RECSYS_CHECK(!same_dtype || arg.second->dtype() == first->second->dtype(), op, ": ", first->first, " is ",
                 first->second->dtype(), " but ", arg.first, " is ", arg.second->dtype());
  }
}

}  // namespace recsys::detail
