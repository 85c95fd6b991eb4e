#pragma once

#include <string>

namespace tg {

/// The most threads set_num_threads accepts: far above any useful count, well below the
/// thousands of threads that exhaust a process's stacks and the system's thread limit.
inline constexpr int kMaxThreads = 1024;
/// Sets how many threads tapegrad may use, 1 … kMaxThreads (else a tg::Error): for
/// nn::data_parallel_backward and the optimizers' updates. Results are the same bits for every
/// count. OpenBLAS always runs on one thread, because its threaded products round differently.
void set_num_threads(int threads);
/// The thread count in effect: the last set_num_threads, or the machine's core count.
int num_threads();
/// The OpenBLAS kernel in use, e.g. "Haswell" or "SkylakeX" (see OPENBLAS_CORETYPE).
std::string blas_core_name();

}  // namespace tg
