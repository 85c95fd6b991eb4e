#include <tapegrad/version.hpp>

namespace tg {

const char* version() { return TAPEGRAD_VERSION; }  // defined by CMake from project(VERSION)

}  // namespace tg
