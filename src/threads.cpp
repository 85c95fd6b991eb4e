#include <tapegrad/error.hpp>
#include <tapegrad/threads.hpp>

#include <cblas.h>

namespace tg {

void set_num_threads(int threads) {
  if (threads < 1) fail("set_num_threads: expected at least 1 thread, got {}", threads);
  openblas_set_num_threads(threads);
}

int num_threads() { return openblas_get_num_threads(); }

std::string blas_core_name() { return openblas_get_corename(); }

}  // namespace tg
