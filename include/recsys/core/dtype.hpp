// recsys/core/dtype.hpp — runtime element types and the visitors that turn one into a template argument.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>

#include "recsys/core/error.hpp"

namespace recsys {

/// Element type of a Tensor, chosen at run time.
enum class DType : std::uint8_t { float32, float64, int32, int64 };

constexpr std::size_t itemsize(DType t) {
  return (t == DType::float32 || t == DType::int32) ? 4 : 8;
}

constexpr const char* dtype_name(DType t) {
  switch (t) {
    case DType::float32: return "float32";
    case DType::float64: return "float64";
    case DType::int32: return "int32";
    case DType::int64: return "int64";
  }
  return "?";
}

constexpr bool is_floating(DType t) { return t == DType::float32 || t == DType::float64; }

inline std::ostream& operator<<(std::ostream& os, DType t) { return os << dtype_name(t); }

/// dtype_of<float> == DType::float32, and so on for the four element types.
template <class T> inline constexpr DType dtype_of = DType::float32;
template <> inline constexpr DType dtype_of<double> = DType::float64;
template <> inline constexpr DType dtype_of<std::int32_t> = DType::int32;
template <> inline constexpr DType dtype_of<std::int64_t> = DType::int64;

/// Calls f.template operator()<T>() with T the C++ type of `t`.
template <class F>
decltype(auto) visit_dtype(DType t, F&& f) {
  switch (t) {
    case DType::float32: return f.template operator()<float>();
    case DType::float64: return f.template operator()<double>();
    case DType::int32: return f.template operator()<std::int32_t>();
    case DType::int64: return f.template operator()<std::int64_t>();
  }
  RECSYS_FAIL("visit_dtype: invalid dtype ", static_cast<int>(t));
}

/// Like visit_dtype, for ops that only work on float32/float64; names `op` in the error otherwise.
template <class F>
decltype(auto) visit_floating(DType t, const char* op, F&& f) {
  switch (t) {
    case DType::float32: return f.template operator()<float>();
    case DType::float64: return f.template operator()<double>();
    default: RECSYS_FAIL(op, ": expected a floating-point tensor (float32 or float64), got ", t);
  }
}

/// Like visit_dtype, for index tensors (int32/int64).
template <class F>
decltype(auto) visit_integer(DType t, const char* op, F&& f) {
  switch (t) {
    case DType::int32: return f.template operator()<std::int32_t>();
    case DType::int64: return f.template operator()<std::int64_t>();
    default: RECSYS_FAIL(op, ": expected an integer tensor (int32 or int64), got ", t);
  }
}

}  // namespace recsys
