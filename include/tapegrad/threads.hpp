#pragma once

#include <string>

namespace tg {

/// Sets how many threads OpenBLAS (and any threading of tapegrad's) may use.
void set_num_threads(int threads);
/// The thread count in effect.
int num_threads();
/// The OpenBLAS kernel in use, e.g. "Haswell" or "SkylakeX" (see OPENBLAS_CORETYPE).
std::string blas_core_name();

}  // namespace tg
