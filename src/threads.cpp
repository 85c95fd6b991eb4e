#include <tapegrad/error.hpp>
#include <tapegrad/threads.hpp>

#include <cblas.h>

#include <atomic>

namespace tg {
namespace {

// tapegrad's thread count; 0 until set_num_threads, meaning "OpenBLAS's own default" (its
// OPENBLAS_NUM_THREADS, or the core count). Kept apart from OpenBLAS's count because
// data_parallel runs OpenBLAS single-threaded inside each of its threads for a while.
std::atomic<int> chosen_threads{0};

}  // namespace

void set_num_threads(int threads) {
  if (threads < 1) fail("set_num_threads: expected at least 1 thread, got {}", threads);
  chosen_threads = threads;
  openblas_set_num_threads(threads);
}

int num_threads() {
  const int chosen = chosen_threads.load();
  return chosen > 0 ? chosen : openblas_get_num_threads();
}

std::string blas_core_name() { return openblas_get_corename(); }

}  // namespace tg
