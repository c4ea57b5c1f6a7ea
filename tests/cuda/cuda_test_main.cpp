// tests/cuda/cuda_test_main.cpp — doctest main for the CUDA tests: enables the backend, or exits 77 (ctest SKIP) when there is no GPU.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>

#include "cuda_enable.hpp"
#include "recsys/cuda/runtime.cuh"

namespace {
/// Listing the tests (ctest discovery at build time, --help) needs no GPU.
bool only_lists(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (std::strncmp(a, "--list", 6) == 0 || std::strncmp(a, "-lt", 3) == 0 || std::strncmp(a, "-ltc", 4) == 0 ||
        std::strcmp(a, "--help") == 0 || std::strcmp(a, "-h") == 0 || std::strcmp(a, "--version") == 0)
      return true;
  }
  return false;
}
}  // namespace

int main(int argc, char** argv) {
  if (!only_lists(argc, argv)) {
    if (!recsys::cuda::is_available()) {
      int n = 0;
      const cudaError_t err = cudaGetDeviceCount(&n);
      std::printf("recsys_cuda_tests: SKIPPED: no CUDA GPU available (cudaGetDeviceCount: %s)\n",
                  err == cudaSuccess ? "0 devices" : cudaGetErrorString(err));
      return 77;
    }
    recsys::cuda::testing::enable_backend();
  }
  doctest::Context context(argc, argv);
  return context.run();
}
