// recsys/cpu/copy.hpp — strided copy with element-type conversion, and strided fill.
#pragma once

#include <cstdint>

#include "recsys/cpu/strided.hpp"

namespace recsys::cpu {

/// dst[i] = Dst(src[i]) for every index i of `shape`; both sides strided (src strides may be 0 to broadcast).
template <class Src, class Dst>
void copy_strided(const Src* src, Shape src_strides, Dst* dst, Shape dst_strides, Shape shape) {
  for_each_row<2>(shape, {dst_strides, src_strides},
                  [&](const std::array<std::int64_t, 2>& off, std::int64_t n, const std::array<std::int64_t, 2>& st) {
                    Dst* d = dst + off[0];
                    const Src* s = src + off[1];
                    if (st[0] == 1 && st[1] == 1) {
                      for (std::int64_t i = 0; i < n; ++i) d[i] = static_cast<Dst>(s[i]);
                    } else {
                      for (std::int64_t i = 0; i < n; ++i) d[i * st[0]] = static_cast<Dst>(s[i * st[1]]);
                    }
                  });
}

/// dst[i] = value for every index i of `shape`.
template <class T>
void fill_strided(T* dst, Shape strides, Shape shape, T value) {
  for_each_row<1>(shape, {strides},
                  [&](const std::array<std::int64_t, 1>& off, std::int64_t n, const std::array<std::int64_t, 1>& st) {
                    T* d = dst + off[0];
                    if (st[0] == 1) {
                      for (std::int64_t i = 0; i < n; ++i) d[i] = value;
                    } else {
                      for (std::int64_t i = 0; i < n; ++i) d[i * st[0]] = value;
                    }
                  });
}

}  // namespace recsys::cpu
