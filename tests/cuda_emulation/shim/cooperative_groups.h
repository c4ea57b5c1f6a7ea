// tests/cuda_emulation/shim/cooperative_groups.h — the grid barrier of cooperative groups for emulated kernels (see ../emulation.hpp).
#pragma once

#include "../emulation.hpp"

namespace cooperative_groups {
struct grid_group {
  void sync() const { recsys::cuda_emulation::grid_barrier->arrive_and_wait(); }
};
inline grid_group this_grid() { return {}; }
}  // namespace cooperative_groups
