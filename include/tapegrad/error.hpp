#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace tg {

/// The one exception tapegrad throws for misuse: bad shapes, dtypes, options, files.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Throws a tg::Error whose message is formatted like fmt::format ("op: problem: values").
template <class... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace tg
