#pragma once
// One exception type for every user-facing failure in the engine. The CLI prints what() as a
// single line and exits non-zero, so messages must be complete sentences that name the input.
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace moescope {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace moescope
