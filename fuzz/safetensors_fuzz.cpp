// fuzz/safetensors_fuzz.cpp — libFuzzer harness for the safetensors reader: no crash, no leak, errors only as recsys::Error,
// what it accepts survives a write/read round trip, and a failed load_into leaves the destination unchanged.
#include <recsys/io/safetensors.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace {

bool same(const recsys::Tensor& a, const recsys::Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace recsys;
  const std::span<const unsigned char> bytes(data, size);
  try {
    const io::SafetensorsFile f = io::read_safetensors_bytes(bytes);
    // Anything the reader accepts, the writer writes and the reader reads back identically.
    const std::string again = io::safetensors_bytes(f.tensors, f.metadata);
    const io::SafetensorsFile g =
        io::read_safetensors_bytes({reinterpret_cast<const unsigned char*>(again.data()), again.size()});
    if (g.tensors.size() != f.tensors.size() || g.metadata != f.metadata) std::abort();
    for (std::size_t i = 0; i < f.tensors.size(); ++i)
      if (g.tensors[i].first != f.tensors[i].first || !same(g.tensors[i].second, f.tensors[i].second)) std::abort();
  } catch (const Error&) {
  }

  // All or nothing: a load that throws must not have written any destination tensor.
  const NamedTensors dst = {{"a", full({2}, 7.0)}, {"b", full({2, 2}, 7.0, DType::float64)}};
  try {
    io::load_into_bytes(bytes, dst, {.allow_missing = true, .allow_unexpected = true});
  } catch (const Error&) {
    for (const auto& [name, t] : dst)
      for (double v : t.to_vector<double>())
        if (v != 7.0) std::abort();
  }
  return 0;
}
