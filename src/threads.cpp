#include <tapegrad/error.hpp>
#include <tapegrad/threads.hpp>

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <thread>

namespace tg {
namespace {

// tapegrad's thread count; 0 until set_num_threads, meaning the core count. OpenBLAS itself
// always runs single-threaded (src/ops/gemm.cpp says why): tapegrad's threads split the work.
std::atomic<int> chosen_threads{0};

}  // namespace

void set_num_threads(int threads) {
  if (threads < 1) fail("set_num_threads: expected at least 1 thread, got {}", threads);
  if (threads > kMaxThreads) {
    fail("set_num_threads: expected at most {} threads, got {}", kMaxThreads, threads);
  }
  chosen_threads = threads;
}

int num_threads() {
  const int chosen = chosen_threads.load();
  if (chosen > 0) return chosen;
  static const int cores =
      std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, kMaxThreads);
  return cores;
}

std::string blas_core_name() { return openblas_get_corename(); }

}  // namespace tg
