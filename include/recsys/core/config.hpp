// recsys/core/config.hpp — portability macros shared by host and CUDA code; never changes a type's layout.
#pragma once

#if defined(__CUDACC__)
/// Marks functions that nvcc compiles for both host and device (Philox, small math helpers).
#define RECSYS_HOST_DEVICE __host__ __device__
#else
#define RECSYS_HOST_DEVICE
#endif

#if defined(__SANITIZE_ADDRESS__)
#define RECSYS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RECSYS_ASAN 1
#endif
#endif
#ifndef RECSYS_ASAN
#define RECSYS_ASAN 0
#endif
