// tests/cuda/cuda_enable.cu — the one nvcc translation unit of the CUDA tests and benchmarks: it compiles every kernel and fills the slots.
#include "recsys/cuda/enable.cuh"

#include "cuda_enable.hpp"

namespace recsys::cuda::testing {

void enable_backend() { recsys::cuda::enable(); }

}  // namespace recsys::cuda::testing
