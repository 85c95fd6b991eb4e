// tapegrad's own loops are compiled at three instruction-set levels — the x86-64 baseline (SSE2),
// AVX2 and AVX-512 — and each call runs the widest one allowed: what the CPU has, capped by the
// environment variable TAPEGRAD_CPU (baseline | avx2 | avx512, read once).
//
// Every level gives the same bits. That holds because no loop's arithmetic depends on the level:
// the library is compiled with -ffp-contract=off (CMakeLists.txt), so no a·b + c is fused into
// an FMA at the levels whose instruction set has one; the loops are elementwise or sum in a fixed
// order (GCC reorders no floating-point sum without -ffast-math); and square root and division
// are correctly rounded at every width. A kernel that fuses multiply-adds on purpose
// (small_gemm) fuses them at every level, with std::fma at the baseline.
// tests/test_cpu_levels.cpp runs each kernel at every level the CPU has and compares bits.
#pragma once

#include <atomic>

namespace tg::detail {

enum class CpuLevel : int { Baseline = 0, Avx2 = 1, Avx512 = 2 };

/// The widest level this CPU runs: AVX-512 needs avx512f; AVX2 needs avx2 and fma.
CpuLevel supported_cpu_level();
/// Reads TAPEGRAD_CPU and sets the level in use: supported_cpu_level() capped by it. An unknown
/// value is a tg::Error (at the first kernel call, and again at every later one).
CpuLevel read_cpu_level();
/// The level in use as an int, −1 until read_cpu_level() has succeeded.
extern std::atomic<int> cpu_level_set;

/// The level in use; one relaxed load per call once TAPEGRAD_CPU has been read.
inline CpuLevel cpu_level_in_use() {
  const int level = cpu_level_set.load(std::memory_order_relaxed);
  return level >= 0 ? static_cast<CpuLevel>(level) : read_cpu_level();
}
/// "baseline", "avx2" or "avx512".
const char* cpu_level_name(CpuLevel level);

/// Runs every kernel at `level` while it lives, on every thread (tests run each level in turn).
/// `level` must be one the CPU supports. Not for use while other threads run kernels.
class ScopedCpuLevel {
 public:
  explicit ScopedCpuLevel(CpuLevel level);
  ~ScopedCpuLevel();
  ScopedCpuLevel(const ScopedCpuLevel&) = delete;
  ScopedCpuLevel& operator=(const ScopedCpuLevel&) = delete;

 private:
  CpuLevel previous_;
};

// `flatten` inlines the loop and everything it calls, so all of it is compiled for the level.
template <class Loop>
[[gnu::target("avx512f"), gnu::flatten]] void run_avx512(const Loop& loop) {
  loop();
}
template <class Loop>
[[gnu::target("avx2,fma"), gnu::flatten]] void run_avx2(const Loop& loop) {
  loop();
}
template <class Loop>
[[gnu::flatten]] void run_baseline(const Loop& loop) {
  loop();
}

/// Runs `loop()` compiled for the level in use: the one way tapegrad picks a kernel by CPU.
template <class Loop>
void at_cpu_level(const Loop& loop) {
  switch (cpu_level_in_use()) {
    case CpuLevel::Avx512:
      return run_avx512(loop);
    case CpuLevel::Avx2:
      return run_avx2(loop);
    case CpuLevel::Baseline:
      return run_baseline(loop);
  }
}

}  // namespace tg::detail
