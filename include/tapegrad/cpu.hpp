#pragma once

#include <string>

namespace tg {

/// The instruction-set level of tapegrad's own kernels: "baseline", "avx2" or "avx512" — the
/// widest this CPU has, capped by the environment variable TAPEGRAD_CPU (read once; an unknown
/// value is a tg::Error). Every level gives the same bits (docs/reproducibility.md).
std::string cpu_level();

}  // namespace tg
