#include "kernels/cpu_level.hpp"

#include <tapegrad/cpu.hpp>
#include <tapegrad/error.hpp>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <string_view>

namespace tg {
namespace detail {
namespace {

constexpr std::array<const char*, 3> kLevelNames = {"baseline", "avx2", "avx512"};

}  // namespace

std::atomic<int> cpu_level_set{-1};

CpuLevel supported_cpu_level() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return CpuLevel::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return CpuLevel::Avx2;
  return CpuLevel::Baseline;
}

CpuLevel read_cpu_level() {
  const int supported = static_cast<int>(supported_cpu_level());
  int level = supported;
  if (const char* wanted = std::getenv("TAPEGRAD_CPU"); wanted != nullptr && *wanted != '\0') {
    level = -1;
    for (size_t i = 0; i < kLevelNames.size(); ++i) {
      if (std::string_view(wanted) == kLevelNames[i]) level = static_cast<int>(i);
    }
    if (level < 0) {
      fail("TAPEGRAD_CPU: unknown level \"{}\"; expected baseline, avx2 or avx512", wanted);
    }
    level = std::min(level, supported);  // never above what the CPU has
  }
  cpu_level_set.store(level, std::memory_order_relaxed);
  return static_cast<CpuLevel>(level);
}

const char* cpu_level_name(CpuLevel level) { return kLevelNames[static_cast<size_t>(level)]; }

ScopedCpuLevel::ScopedCpuLevel(CpuLevel level) : previous_(cpu_level_in_use()) {
  if (level > supported_cpu_level()) {
    fail("ScopedCpuLevel: this CPU has no {} (it supports up to {})", cpu_level_name(level),
         cpu_level_name(supported_cpu_level()));
  }
  cpu_level_set.store(static_cast<int>(level), std::memory_order_relaxed);
}

ScopedCpuLevel::~ScopedCpuLevel() {
  cpu_level_set.store(static_cast<int>(previous_), std::memory_order_relaxed);
}

}  // namespace detail

std::string cpu_level() { return detail::cpu_level_name(detail::cpu_level_in_use()); }

}  // namespace tg
