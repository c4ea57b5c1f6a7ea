// tests/test_util.hpp — small helpers shared by the test files: closeness checks and gradcheck assertions.
#pragma once

#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <recsys/recsys.hpp>

namespace recsys::testing {

/// A fresh, empty directory under the system temp dir, removed with its contents at scope exit. Its
/// name holds `name`, the process id and a per-process counter, so no two ever share one.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name = "tmp") {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("recsys_test_" + name + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;  // never throw from a destructor
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string str() const { return path.string(); }
  /// The path of `leaf` inside the directory, as a string.
  std::string file(const std::string& leaf) const { return (path / leaf).string(); }
};

/// float64 options, for gradchecks.
inline const TensorOptions f64{DType::float64};

/// Every element of `t` within atol + rtol*|expected| of `expected` (row-major order).
inline void check_close(const Tensor& t, const std::vector<double>& expected, double rtol = 1e-6,
                        double atol = 1e-6) {
  const std::vector<double> got = t.to_vector<double>();
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("element ", i, ": got ", got[i], ", expected ", expected[i]);
    CHECK(std::fabs(got[i] - expected[i]) <= atol + rtol * std::fabs(expected[i]));
  }
}

/// Same shape and every element close.
inline void check_close(const Tensor& a, const Tensor& b, double rtol = 1e-6, double atol = 1e-6) {
  REQUIRE(a.shape() == b.shape());
  check_close(a, b.to_vector<double>(), rtol, atol);
}

/// Bitwise equality of two float tensors.
/// How many times `what` occurs in `text` (overlapping occurrences included).
inline std::size_t count_occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

inline bool bitwise_equal(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  const Tensor x = a.contiguous(), y = b.contiguous();
  return std::memcmp(x.raw_data(), y.raw_data(), x.nbytes()) == 0;
}

/// A float64 leaf with standard-normal values that requires grad.
inline Tensor param(const Shape& shape, Generator& gen) {
  Tensor t = randn(shape, gen, f64);
  t.set_requires_grad();
  return t;
}

/// Lets host memory pose as cuda:0 for one scope, so device checks can be tested without a GPU.
/// Declare it before the tensors it creates: they must be freed while it is still installed. Never use it
/// in a test program that enables the real CUDA backend.
struct FakeCudaDevice {
  MemoryBackend saved = memory_backend(DeviceType::cuda);
  FakeCudaDevice() { memory_backend(DeviceType::cuda) = memory_backend(DeviceType::cpu); }
  ~FakeCudaDevice() { memory_backend(DeviceType::cuda) = saved; }
};

/// A golden fixture under tests/golden/fixtures/ (written by a tests/golden/*_fixtures.py script):
/// tensors by name, settings from the safetensors metadata. `path` is relative, without the extension.
struct GoldenFixture {
  io::SafetensorsFile file;
  explicit GoldenFixture(const std::string& path)
      : file(io::read_safetensors(std::string(RECSYS_TEST_FIXTURES) + "/" + path + ".safetensors")) {}
  /// The tensor called `key` (undefined if absent).
  Tensor operator[](const std::string& key) const {
    for (const auto& [k, v] : file.tensors)
      if (k == key) return v;
    return {};
  }
  std::int64_t setting(const std::string& key) const { return std::stoll(file.metadata.at(key)); }
};

/// Runs gradcheck and fails the test with its message (worst element) when it does not pass.
#define RECSYS_CHECK_GRADCHECK(fn, ...)                                        \
  do {                                                                         \
    const auto recsys_gc = ::recsys::gradcheck(fn, __VA_ARGS__);               \
    INFO(recsys_gc.message);                                                   \
    CHECK(recsys_gc.ok);                                                       \
  } while (0)

}  // namespace recsys::testing
