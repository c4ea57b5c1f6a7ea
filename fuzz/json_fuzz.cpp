// fuzz/json_fuzz.cpp — libFuzzer harness for the JSON parser: no crash or stack exhaustion, errors only as recsys::Error,
// and every accepted document survives dump/parse unchanged.
#include <recsys/io/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace recsys;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  json::Value v;
  try {
    v = json::parse(text);
  } catch (const Error&) {
    return 0;
  }
  for (int indent : {-1, 2}) {
    const std::string out = json::dump(v, indent);  // parsed values are always writable
    if (!(json::parse(out) == v)) std::abort();
  }
  return 0;
}
