// recsys/core/parallel.hpp — the thread count used by the OpenMP kernels, and the grain size below which they stay serial.
#pragma once

#include <cstdint>

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace recsys {

/// Loops shorter than this many elements run on one thread: forking costs more than it saves.
inline constexpr std::int64_t kParallelGrain = 32768;

/// Number of threads OpenMP kernels use (1 when built without OpenMP).
inline int num_threads() {
#if defined(_OPENMP)
  return omp_get_max_threads();
#else
  return 1;
#endif
}

/// Sets the number of threads for subsequent kernels (OMP_NUM_THREADS sets the start value).
inline void set_num_threads(int n) {
#if defined(_OPENMP)
  omp_set_num_threads(n < 1 ? 1 : n);
#else
  (void)n;
#endif
}

}  // namespace recsys
