// recsys/core/error.hpp — the library's exception type and the RECSYS_CHECK / RECSYS_FAIL macros.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace recsys {

/// Every error the library reports is a recsys::Error whose message names the op and the values.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
/// Streams every argument into one string: str_cat("conv1d: got ", 3, " dims") == "conv1d: got 3 dims".
template <class... Args>
std::string str_cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

}  // namespace recsys

/// Throws recsys::Error built from the remaining arguments when `cond` is false.
#define RECSYS_CHECK(cond, ...)                                             \
  do {                                                                      \
    if (!(cond)) [[unlikely]]                                               \
      throw ::recsys::Error(::recsys::detail::str_cat(__VA_ARGS__));        \
  } while (0)

/// Throws recsys::Error built from the arguments.
#define RECSYS_FAIL(...) throw ::recsys::Error(::recsys::detail::str_cat(__VA_ARGS__))
