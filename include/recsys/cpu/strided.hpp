// recsys/cpu/strided.hpp — walks N strided operands over a common shape, one contiguous-ish row at a time.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

#include "recsys/core/parallel.hpp"
#include "recsys/core/shape.hpp"

namespace recsys::cpu {

/// The geometry of an elementwise loop: a shape and, for each of N operands, its strides (0 = broadcast).
template <int N>
struct StridedLoop {
  Shape shape;
  std::array<Shape, N> strides;
};

/// Drops size-1 dimensions and merges neighbours that are contiguous with each other in every
/// operand, so a contiguous tensor of any rank becomes a single row.
template <int N>
StridedLoop<N> collapse(const Shape& shape, const std::array<Shape, N>& strides) {
  StridedLoop<N> out;
  for (int d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    const int last = out.shape.size() - 1;
    bool mergeable = last >= 0;
    for (int k = 0; k < N && mergeable; ++k) mergeable = out.strides[k][last] == strides[k][d] * shape[d];
    if (mergeable) {
      out.shape[last] *= shape[d];
      for (int k = 0; k < N; ++k) out.strides[k][last] = strides[k][d];
    } else {
      out.shape.push_back(shape[d]);
      for (int k = 0; k < N; ++k) out.strides[k].push_back(strides[k][d]);
    }
  }
  if (out.shape.empty()) {  // a scalar, or all dims of size 1
    out.shape.push_back(1);
    for (int k = 0; k < N; ++k) out.strides[k].push_back(0);
  }
  return out;
}

/// Calls row(offsets, n, inner_strides) for every innermost row of the loop: offsets[k] is the
/// element offset of the row's first element in operand k. Rows are split across threads when the
/// loop is large; each row is handled by exactly one thread, so results never depend on thread count.
template <int N, class RowFn>
void for_each_row(const Shape& shape, const std::array<Shape, N>& strides, RowFn&& row) {
  const StridedLoop<N> loop = collapse<N>(shape, strides);
  const int rank = loop.shape.size();
  const std::int64_t inner = loop.shape[rank - 1];
  const std::int64_t rows = loop.shape.numel() / (inner ? inner : 1);
  if (inner == 0 || rows == 0) return;
  std::array<std::int64_t, N> inner_strides;
  for (int k = 0; k < N; ++k) inner_strides[k] = loop.strides[k][rank - 1];

  auto run_rows = [&](std::int64_t begin, std::int64_t end) {
    // Decompose `begin` into a multi-index over the outer dims once, then step like an odometer.
    std::array<std::int64_t, Shape::kMaxDims> index{};
    std::array<std::int64_t, N> offsets{};
    std::int64_t rem = begin;
    for (int d = rank - 2; d >= 0; --d) {
      index[static_cast<std::size_t>(d)] = rem % loop.shape[d];
      rem /= loop.shape[d];
    }
    for (int k = 0; k < N; ++k)
      for (int d = 0; d < rank - 1; ++d) offsets[k] += index[static_cast<std::size_t>(d)] * loop.strides[k][d];
    for (std::int64_t r = begin; r < end; ++r) {
      row(offsets, inner, inner_strides);
      for (int d = rank - 2; d >= 0; --d) {
        auto& i = index[static_cast<std::size_t>(d)];
        for (int k = 0; k < N; ++k) offsets[k] += loop.strides[k][d];
        if (++i < loop.shape[d]) break;
        for (int k = 0; k < N; ++k) offsets[k] -= loop.strides[k][d] * i;
        i = 0;
      }
    }
  };

  const std::int64_t total = rows * inner;
  if (total < kParallelGrain || rows == 1) {
    if (rows == 1 && total >= kParallelGrain) {
      // One long row: split it into chunks instead.
      std::array<std::int64_t, N> base{};
      for (int k = 0; k < N; ++k) base[k] = 0;
#pragma omp parallel for schedule(static)
      for (std::int64_t c = 0; c < (inner + 4095) / 4096; ++c) {
        std::array<std::int64_t, N> off;
        for (int k = 0; k < N; ++k) off[k] = base[k] + c * 4096 * inner_strides[k];
        const std::int64_t n = std::min<std::int64_t>(4096, inner - c * 4096);
        row(off, n, inner_strides);
      }
      return;
    }
    run_rows(0, rows);
    return;
  }
#pragma omp parallel
  {
#if defined(_OPENMP)
    const std::int64_t nt = omp_get_num_threads(), tid = omp_get_thread_num();
#else
    const std::int64_t nt = 1, tid = 0;
#endif
    const std::int64_t chunk = (rows + nt - 1) / nt;
    const std::int64_t begin = std::min(rows, tid * chunk), end = std::min(rows, begin + chunk);
    if (begin < end) run_rows(begin, end);
  }
}

}  // namespace recsys::cpu
