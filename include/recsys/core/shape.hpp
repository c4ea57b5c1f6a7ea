// recsys/core/shape.hpp — Shape: a small inline array of dimension sizes (or strides), rank <= 8.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <span>

#include "recsys/core/error.hpp"

namespace recsys {

/// Dimension sizes or strides. Inline storage: creating a Shape never touches the heap.
class Shape {
 public:
  static constexpr int kMaxDims = 8;

  Shape() = default;
  Shape(std::initializer_list<std::int64_t> dims) { assign(dims.begin(), dims.size()); }
  explicit Shape(std::span<const std::int64_t> dims) { assign(dims.data(), dims.size()); }
  /// A shape of `rank` dimensions, each equal to `value`.
  static Shape filled(int rank, std::int64_t value) {
    Shape s;
    s.resize(rank, value);
    return s;
  }

  int size() const { return n_; }
  bool empty() const { return n_ == 0; }
  std::int64_t& operator[](int i) { return d_[static_cast<std::size_t>(i)]; }
  std::int64_t operator[](int i) const { return d_[static_cast<std::size_t>(i)]; }
  std::int64_t back() const { return d_[static_cast<std::size_t>(n_ - 1)]; }
  const std::int64_t* begin() const { return d_.data(); }
  const std::int64_t* end() const { return d_.data() + n_; }
  std::int64_t* begin() { return d_.data(); }
  std::int64_t* end() { return d_.data() + n_; }
  std::span<const std::int64_t> span() const { return {d_.data(), static_cast<std::size_t>(n_)}; }

  void push_back(std::int64_t v) {
    RECSYS_CHECK(n_ < kMaxDims, "Shape: at most ", kMaxDims, " dimensions are supported");
    d_[static_cast<std::size_t>(n_++)] = v;
  }
  void insert(int pos, std::int64_t v) {
    push_back(0);
    for (int i = n_ - 1; i > pos; --i) d_[static_cast<std::size_t>(i)] = d_[static_cast<std::size_t>(i - 1)];
    d_[static_cast<std::size_t>(pos)] = v;
  }
  void erase(int pos) {
    for (int i = pos; i + 1 < n_; ++i) d_[static_cast<std::size_t>(i)] = d_[static_cast<std::size_t>(i + 1)];
    --n_;
  }
  void resize(int n, std::int64_t fill = 0) {
    RECSYS_CHECK(n >= 0 && n <= kMaxDims, "Shape: at most ", kMaxDims, " dimensions are supported, got ", n);
    for (int i = n_; i < n; ++i) d_[static_cast<std::size_t>(i)] = fill;
    n_ = n;
  }

  /// Product of the sizes (1 for a scalar).
  std::int64_t numel() const {
    std::int64_t p = 1;
    for (int i = 0; i < n_; ++i) p *= d_[static_cast<std::size_t>(i)];
    return p;
  }

  friend bool operator==(const Shape& a, const Shape& b) {
    return a.n_ == b.n_ && std::equal(a.begin(), a.end(), b.begin());
  }

 private:
  void assign(const std::int64_t* p, std::size_t n) {
    RECSYS_CHECK(n <= static_cast<std::size_t>(kMaxDims), "Shape: at most ", kMaxDims,
                 " dimensions are supported, got ", n);
    std::copy(p, p + n, d_.begin());
    n_ = static_cast<int>(n);
  }

  std::array<std::int64_t, kMaxDims> d_{};
  int n_ = 0;
};

/// Prints [2, 3, 4].
inline std::ostream& operator<<(std::ostream& os, const Shape& s) {
  os << '[';
  for (int i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  return os << ']';
}

/// Row-major (C order) strides of a contiguous tensor of shape `s`.
inline Shape contiguous_strides(const Shape& s) {
  Shape st = Shape::filled(s.size(), 1);
  for (int i = s.size() - 2; i >= 0; --i) st[i] = st[i + 1] * std::max<std::int64_t>(s[i + 1], 1);
  return st;
}

/// Wraps a possibly negative dimension index into [0, rank); `op` names the caller in the error.
inline int wrap_dim(std::int64_t dim, int rank, const char* op) {
  const int r = std::max(rank, 1);
  RECSYS_CHECK(dim >= -r && dim < r, op, ": dimension ", dim, " is out of range for a tensor of rank ", rank);
  return static_cast<int>(dim < 0 ? dim + r : dim);
}

}  // namespace recsys

namespace recsys {

/// NumPy broadcasting: aligns trailing dimensions; each pair must be equal or contain a 1.
inline Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const int rank = std::max(a.size(), b.size());
  Shape out = Shape::filled(rank, 1);
  for (int i = 0; i < rank; ++i) {
    const std::int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const std::int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    RECSYS_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", a, " and ", b,
                 " cannot be broadcast together (dimension ", i, ": ", da, " vs ", db, ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

/// Strides that make a tensor of `shape`/`strides` read as `target` (0 where it is broadcast).
inline Shape broadcast_strides(const Shape& shape, const Shape& strides, const Shape& target) {
  Shape out = Shape::filled(target.size(), 0);
  const int lead = target.size() - shape.size();
  for (int i = 0; i < shape.size(); ++i) out[lead + i] = shape[i] == 1 ? 0 : strides[i];
  return out;
}

}  // namespace recsys
