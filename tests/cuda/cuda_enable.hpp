// tests/cuda/cuda_enable.hpp — declares the hook C++ test and benchmark files call to switch the CUDA backend on.
#pragma once

namespace recsys::cuda::testing {

/// Calls recsys::cuda::enable() from cuda_enable.cu (C++ files cannot include the kernel headers).
void enable_backend();

}  // namespace recsys::cuda::testing
