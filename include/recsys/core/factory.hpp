// recsys/core/factory.hpp — creating tensors: zeros, ones, full, arange, from values, and seeded random draws.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "recsys/core/random.hpp"
#include "recsys/core/tensor.hpp"

namespace recsys {

/// Uninitialized tensor.
inline Tensor empty(const Shape& shape, TensorOptions opts = {}) { return Tensor::empty(shape, opts); }
/// Tensor of `value`.
inline Tensor full(const Shape& shape, double value, TensorOptions opts = {}) {
  Tensor t = Tensor::empty(shape, opts);
  NoGradGuard no_grad;
  t.fill_(value);
  return t;
}
inline Tensor zeros(const Shape& shape, TensorOptions opts = {}) { return full(shape, 0.0, opts); }
inline Tensor ones(const Shape& shape, TensorOptions opts = {}) { return full(shape, 1.0, opts); }
inline Tensor empty_like(const Tensor& t) { return Tensor::empty(t.shape(), {t.dtype(), t.device()}); }
inline Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), {t.dtype(), t.device()}); }
inline Tensor ones_like(const Tensor& t) { return ones(t.shape(), {t.dtype(), t.device()}); }
inline Tensor full_like(const Tensor& t, double value) { return full(t.shape(), value, {t.dtype(), t.device()}); }

/// A tensor holding a copy of `values`, with `shape` (default: 1-D). The dtype follows T.
template <class T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape, Device device = Device::cpu()) {
  RECSYS_CHECK(shape.numel() == static_cast<std::int64_t>(values.size()), "from_vector: ", values.size(),
               " values do not fill shape ", shape);
  Tensor t = Tensor::empty(shape, {dtype_of<T>, Device::cpu()});
  std::copy(values.begin(), values.end(), t.data<T>());
  return t.to(device);
}
template <class T>
Tensor from_vector(const std::vector<T>& values) {
  return from_vector(values, Shape{static_cast<std::int64_t>(values.size())});
}

/// `tensor({1.f, 2.f, 3.f, 4.f}, {2, 2})`: float → float32, double → float64, int32_t/int64_t as such.
template <class T>
Tensor tensor(std::initializer_list<T> values, const Shape& shape) {
  return from_vector(std::vector<T>(values), shape);
}
template <class T>
Tensor tensor(std::initializer_list<T> values) {
  return from_vector(std::vector<T>(values));
}

/// 0, 1, ..., n-1 (int64 by default).
inline Tensor arange(std::int64_t n, TensorOptions opts = DType::int64) {
  RECSYS_CHECK(n >= 0, "arange: length must be non-negative, got ", n);
  Tensor t = Tensor::empty({n}, {opts.dtype, Device::cpu()});
  visit_dtype(opts.dtype, [&]<class T>() {
    T* p = t.data<T>();
    for (std::int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(i);
  });
  return t.to(opts.device);
}

namespace detail {
/// Fills a new CPU tensor with value(i) for each flat index i (in parallel: values depend on i only), then moves it.
template <class F>
Tensor generate(const Shape& shape, TensorOptions opts, const char* op, bool floating_only, F&& value) {
  RECSYS_CHECK(!floating_only || is_floating(opts.dtype), op, ": dtype must be float32 or float64, got ",
               opts.dtype);
  Tensor t = Tensor::empty(shape, {opts.dtype, Device::cpu()});
  const std::int64_t n = t.numel();
  visit_dtype(opts.dtype, [&]<class T>() {
    T* p = t.data<T>();
#pragma omp parallel for schedule(static) if (n >= kParallelGrain)
    for (std::int64_t i = 0; i < n; ++i) p[i] = value.template operator()<T>(static_cast<std::uint64_t>(i));
  });
  return t.to(opts.device);
}
}  // namespace detail

/// Uniform in [low, high).
inline Tensor uniform(const Shape& shape, double low, double high, Generator& gen, TensorOptions opts = {}) {
  const std::uint64_t seed = gen.seed();
  const std::uint64_t first = gen.reserve(is_floating(opts.dtype) && itemsize(opts.dtype) == 4
                                              ? philox_blocks<float>(static_cast<std::uint64_t>(shape.numel()))
                                              : philox_blocks<double>(static_cast<std::uint64_t>(shape.numel())));
  const bool single = itemsize(opts.dtype) == 4;
  return detail::generate(shape, opts, "uniform", true, [=]<class T>(std::uint64_t i) -> T {
    const double u = single ? static_cast<double>(philox_uniform<float>(seed, first, i))
                            : philox_uniform<double>(seed, first, i);
    return static_cast<T>(low + (high - low) * u);
  });
}
/// Uniform in [0, 1).
inline Tensor rand(const Shape& shape, Generator& gen, TensorOptions opts = {}) {
  return uniform(shape, 0.0, 1.0, gen, opts);
}
/// Normal with the given mean and standard deviation.
inline Tensor normal(const Shape& shape, double mean, double stddev, Generator& gen, TensorOptions opts = {}) {
  const std::uint64_t seed = gen.seed();
  const bool single = itemsize(opts.dtype) == 4;
  // Box–Muller takes two uniforms per value: reserve for 2n (rounded up to a pair).
  const std::uint64_t count = 2 * ((static_cast<std::uint64_t>(shape.numel()) + 1) / 2);
  const std::uint64_t first = gen.reserve(single ? philox_blocks<float>(count) : philox_blocks<double>(count));
  return detail::generate(shape, opts, "normal", true, [=]<class T>(std::uint64_t i) -> T {
    const double z = single ? static_cast<double>(philox_normal<float>(seed, first, i))
                            : philox_normal<double>(seed, first, i);
    return static_cast<T>(mean + stddev * z);
  });
}
/// Standard normal.
inline Tensor randn(const Shape& shape, Generator& gen, TensorOptions opts = {}) {
  return normal(shape, 0.0, 1.0, gen, opts);
}
/// Integers uniform in [low, high) (int64 by default).
inline Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape, Generator& gen,
                      TensorOptions opts = DType::int64) {
  RECSYS_CHECK(low < high, "randint: low (", low, ") must be below high (", high, ")");
  const std::uint64_t seed = gen.seed();
  const std::uint64_t first = gen.reserve(philox_blocks<double>(static_cast<std::uint64_t>(shape.numel())));
  const std::uint64_t range = static_cast<std::uint64_t>(high - low);
  return detail::generate(shape, opts, "randint", false, [=]<class T>(std::uint64_t i) -> T {
    const Philox4 b = philox_block(seed, first + i / 2);
    const std::uint32_t* w = b.v + 2 * (i % 2);
    const std::uint64_t bits = (static_cast<std::uint64_t>(w[0]) << 32) | w[1];
    // 64 random bits modulo a range far below 2^64: the bias is below 2^-32 for any realistic range.
    return static_cast<T>(low + static_cast<std::int64_t>(bits % range));
  });
}

}  // namespace recsys
