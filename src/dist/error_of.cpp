#include "dist/world.hpp"

#include <exception>

namespace tg::dist::detail {

std::string error_of(const std::function<void()>& local) {
  try {
    local();
  } catch (const std::exception& e) {
    // agree() reads an empty message as success.
    return *e.what() != '\0' ? e.what() : "an exception without a message";
  } catch (...) {
    return "an exception that is not a std::exception";
  }
  return "";
}

}  // namespace tg::dist::detail
