// What the [cpu_level] tests share. CTest runs them once per level, with TAPEGRAD_CPU set
// (tests/CMakeLists.txt); each compares the kernels at the level in use with the baseline's.
#pragma once

#include "kernels/cpu_level.hpp"

#include <cstdlib>
#include <iostream>
#include <string>

namespace tg::testing {

/// False, after printing "cpu level … skipped" (CTest then reports the test as skipped), when
/// TAPEGRAD_CPU asks for a level this CPU lacks: the level in use is then a lower one, which
/// its own run covers.
inline bool requested_cpu_level_runs() {
  const char* wanted = std::getenv("TAPEGRAD_CPU");
  const std::string in_use = detail::cpu_level_name(detail::cpu_level_in_use());
  if (wanted != nullptr && *wanted != '\0' && in_use != wanted) {
    std::cout << "cpu level " << wanted << " skipped: this CPU supports up to " << in_use << "\n";
    return false;
  }
  return true;
}

/// f() computed at the baseline level, for comparison with f() at the level in use.
template <class F>
auto at_baseline(const F& f) {
  const detail::ScopedCpuLevel baseline(detail::CpuLevel::Baseline);
  return f();
}

}  // namespace tg::testing
