// recsys/core/device.hpp — where a tensor's memory lives: the CPU or one CUDA device.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

namespace recsys {

enum class DeviceType : std::uint8_t { cpu, cuda };

/// A device: Device::cpu() or Device::cuda(index).
struct Device {
  DeviceType type = DeviceType::cpu;
  int index = 0;

  static constexpr Device cpu() { return {DeviceType::cpu, 0}; }
  static constexpr Device cuda(int index = 0) { return {DeviceType::cuda, index}; }
  constexpr bool is_cpu() const { return type == DeviceType::cpu; }
  constexpr bool is_cuda() const { return type == DeviceType::cuda; }
  friend constexpr bool operator==(Device a, Device b) {
    return a.type == b.type && (a.type == DeviceType::cpu || a.index == b.index);
  }
};

inline std::string to_string(Device d) {
  return d.is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(d.index);
}
inline std::ostream& operator<<(std::ostream& os, Device d) { return os << to_string(d); }

}  // namespace recsys
