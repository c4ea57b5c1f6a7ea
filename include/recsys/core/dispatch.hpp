// recsys/core/dispatch.hpp — KernelSlot: one {cpu, cuda} pair of function pointers per device-specific kernel.
#pragma once

#include "recsys/core/device.hpp"
#include "recsys/core/error.hpp"
#include "recsys/core/profiler.hpp"

namespace recsys {

template <class Signature>
struct KernelSlot;

/// A kernel with a CPU implementation (always set) and an optional CUDA one. Ops call
/// `slot(device, args...)`; recsys::cuda::enable() fills `cuda`. Declare slots as inline variable
/// templates next to the op, e.g. `template <class T> inline KernelSlot<void(const T*, T*, std::int64_t)> relu_slot{...};`
template <class R, class... Args>
struct KernelSlot<R(Args...)> {
  using Fn = R (*)(Args...);
  const char* name;
  Fn cpu;
  Fn cuda = nullptr;

  R operator()(Device device, Args... args) const {
    const profiler::SlotTimer timer(name, device);
    if (device.is_cpu()) return cpu(args...);
    RECSYS_CHECK(cuda != nullptr, name, ": no CUDA kernel registered for device ", device,
                 " (compile a .cu file that calls recsys::cuda::enable() and link recsys::cuda)");
    return cuda(args...);
  }
};

}  // namespace recsys
