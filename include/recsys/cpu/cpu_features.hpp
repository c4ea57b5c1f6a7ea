// recsys/cpu/cpu_features.hpp — which SIMD instruction sets this CPU supports, read once at run time from cpuid.
#pragma once

#include <cstdlib>
#include <cstring>

// SIMD kernels are compiled per function with target attributes, so one binary built without -march
// runs on any x86-64 and picks its path at start-up. nvcc's front end cannot parse the AVX-512
// intrinsic headers, so translation units it compiles see only the portable kernels (the choice of
// kernel is still made program-wide: see cpu/gemm.hpp).
#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__)) && !defined(__CUDACC__)
#define RECSYS_X86_SIMD 1
#define RECSYS_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define RECSYS_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")))
#else
#define RECSYS_X86_SIMD 0
#endif

namespace recsys::cpu {

/// The instruction-set levels CPU kernels have code paths for, in increasing order.
enum class SimdLevel { portable = 0, avx2 = 1, avx512 = 2 };

/// Lower-case name of a level, as RECSYS_SIMD accepts it.
inline const char* simd_level_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::avx512: return "avx512";
    case SimdLevel::avx2: return "avx2";
    default: return "portable";
  }
}

/// The best level this CPU and OS support (cpuid; the OS check on saved vector state is part of
/// __builtin_cpu_supports).
inline SimdLevel detect_simd_level() {
#if RECSYS_X86_SIMD
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512bw"))
    return SimdLevel::avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return SimdLevel::avx2;
#endif
  return SimdLevel::portable;
}

/// The level kernels use: the detected one, lowered by the environment variable
/// RECSYS_SIMD=portable|avx2|avx512 (never raised above what the CPU has). Read once.
inline SimdLevel simd_level() {
  static const SimdLevel level = [] {
    const SimdLevel detected = detect_simd_level();
    const char* env = std::getenv("RECSYS_SIMD");
    if (env == nullptr) return detected;
    SimdLevel wanted = detected;
    if (std::strcmp(env, "portable") == 0) wanted = SimdLevel::portable;
    if (std::strcmp(env, "avx2") == 0) wanted = SimdLevel::avx2;
    return static_cast<int>(wanted) < static_cast<int>(detected) ? wanted : detected;
  }();
  return level;
}

}  // namespace recsys::cpu
