// tests/cuda_emulation/emulation.hpp — runs a CUDA kernel on the CPU, one std::thread per CUDA thread, so kernels that need no runtime calls (lstm_persistent.cuh) are checked without a GPU.
#pragma once

// What it checks: indexing, bounds, and the block (__syncthreads) and grid (cooperative_groups) barriers,
// which are real barriers here, so a missing one shows up as a data race that changes results.
// What it cannot: speed, warp-level behaviour, and the GPU memory model (here every read sees the latest
// write after a barrier, as __ldcg after a grid sync does on the GPU).
// Include it before the kernel header; tests/cuda_emulation/shim/ supplies <cooperative_groups.h>.
// Under ThreadSanitizer a missing barrier is reported as a data race even when the results happen to
// come out right: ctest's cuda_emulation_tsan (run_tsan.sh) does that in the Release run.

#include <pthread.h>

#include <barrier>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#define RECSYS_CUDA_EMULATION 1
#define __global__
#define __device__
#define __launch_bounds__(threads)

struct EmulatedDim3 {
  unsigned x = 1, y = 1, z = 1;
};
inline thread_local EmulatedDim3 threadIdx, blockIdx;
inline EmulatedDim3 gridDim, blockDim;

namespace recsys::cuda_emulation {
inline thread_local unsigned char* block_memory = nullptr;
inline thread_local std::barrier<>* block_barrier = nullptr;
inline std::barrier<>* grid_barrier = nullptr;
}  // namespace recsys::cuda_emulation

struct alignas(16) float4 {
  float x, y, z, w;
};
struct alignas(16) double2 {
  double x, y;
};

inline void __syncthreads() { recsys::cuda_emulation::block_barrier->arrive_and_wait(); }
template <class T>
inline T __ldcg(const T* p) {
  return *p;
}

namespace recsys::cuda {
using std::fma;
namespace lstm_persistent {
inline unsigned char* block_shared_memory() { return cuda_emulation::block_memory; }
}  // namespace lstm_persistent
}  // namespace recsys::cuda

namespace recsys::cuda_emulation {

/// Runs kernel(args) over a grid × block of emulated threads with `shared_bytes` of dynamic shared
/// memory per block, filled with NaN so that reading memory the kernel never wrote shows in its results.
template <class Args>
void launch(void (*kernel)(Args), const Args& args, EmulatedDim3 grid, unsigned threads, std::size_t shared_bytes) {
  gridDim = grid;
  blockDim = {threads, 1, 1};
  const unsigned blocks = grid.x * grid.y * grid.z, total = blocks * threads;
  std::barrier<> all(total);
  grid_barrier = &all;
  struct alignas(16) Bytes16 {
    unsigned char b[16];
  };
  struct Block {
    std::vector<Bytes16> memory;  // 16-byte aligned, as CUDA's dynamic shared memory
    std::unique_ptr<std::barrier<>> barrier;
  };
  std::vector<Block> block(blocks);
  Bytes16 poison;
  std::memset(poison.b, 0xff, sizeof poison.b);  // NaN as float and as double
  for (Block& b : block) {
    b.memory.assign((shared_bytes + 15) / 16, poison);
    b.barrier = std::make_unique<std::barrier<>>(threads);
  }
  struct Thread {
    void (*kernel)(Args);
    const Args* args;
    EmulatedDim3 block_index, thread_index;
    Block* block;
  };
  std::vector<Thread> ctx(total);
  std::vector<pthread_t> handles(total);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);  // thousands of threads: keep stacks small
  for (unsigned i = 0; i < total; ++i) {
    const unsigned b = i / threads;
    ctx[i] = {kernel, &args, {b % grid.x, b / grid.x % grid.y, b / (grid.x * grid.y)}, {i % threads, 0, 0}, &block[b]};
    const int rc = pthread_create(
        &handles[i], &attr,
        [](void* p) -> void* {
          const Thread& t = *static_cast<const Thread*>(p);
          threadIdx = t.thread_index;
          blockIdx = t.block_index;
          block_memory = reinterpret_cast<unsigned char*>(t.block->memory.data());
          block_barrier = t.block->barrier.get();
          t.kernel(*t.args);
          return nullptr;
        },
        &ctx[i]);
    if (rc != 0) {  // the threads already started wait at barriers that can never fill: stop here
      std::fprintf(stderr, "cuda_emulation::launch: pthread_create failed for thread %u of %u\n", i, total);
      std::abort();
    }
  }
  pthread_attr_destroy(&attr);
  for (pthread_t h : handles) pthread_join(h, nullptr);
  grid_barrier = nullptr;
}

}  // namespace recsys::cuda_emulation
