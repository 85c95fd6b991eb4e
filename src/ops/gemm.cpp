#include <cblas.h>

#include "ops/gemm.hpp"
#include "ops/kernels.hpp"
#include "ops/small_gemm.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace tg {
namespace {

// OpenBLAS takes sizes as 32-bit ints (blasint): a larger one would be silently truncated.
// m, n and k are all of a's and b's dimensions.
void require_blas_sizes(const Tensor& a, const Tensor& b, int64_t m, int64_t n, int64_t k) {
  constexpr int64_t kLimit = std::numeric_limits<blasint>::max();
  if (std::max({m, n, k}) > kLimit) {
    fail("matmul/linear: a dimension of {} @ {} exceeds OpenBLAS's limit of {}",
         shape_str(a.shape()), shape_str(b.shape()), kLimit);
  }
}

// OpenBLAS runs single-threaded, always: its threaded GEMM rounds differently from its
// one-thread GEMM (0.3.21, Haswell kernel: a 101×256×200 product differs in the last bits with 2
// threads), so its thread count would change results. tapegrad's threads split work themselves,
// in pieces the problem fixes (data_parallel_backward's shards, the optimizers' ranges).
void use_one_blas_thread() {
  static const bool done = (openblas_set_num_threads(1), true);
  (void)done;
}

}  // namespace

void gemm_into(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, Tensor& c,
               double beta) {
  const int64_t m = transpose_a ? a.size(1) : a.size(0);
  const int64_t k = transpose_a ? a.size(0) : a.size(1);
  const int64_t n = transpose_b ? b.size(0) : b.size(1);
  if (m == 0 || n == 0) return;
  if (k == 0) {  // BLAS rejects zero leading dimensions; the product is 0
    if (beta == 0) std::memset(c.raw_data(), 0, static_cast<size_t>(m * n) * dtype_size(c.dtype()));
    return;
  }
  const int64_t lda = a.size(1), ldb = b.size(1);
  constexpr int64_t kSmall = detail::kSmallGemmVolume;
  const bool small = m <= kSmall && n <= kSmall && k <= kSmall && m * n * k <= kSmall;
  if (a.dtype() == Dtype::Float32 &&
      (small || detail::small_sgemm_pays(m, n, k, transpose_b, static_cast<float>(beta)))) {
    detail::small_sgemm(transpose_a, transpose_b, m, n, k, a.data<float>(), lda, b.data<float>(),
                        ldb, static_cast<float>(beta), c.data<float>());
    return;
  }
  require_blas_sizes(a, b, m, n, k);
  use_one_blas_thread();
  const auto ta = transpose_a ? CblasTrans : CblasNoTrans;
  const auto tb = transpose_b ? CblasTrans : CblasNoTrans;
  const auto blas = [](int64_t size) { return static_cast<blasint>(size); };  // checked above
  if (a.dtype() == Dtype::Float32) {
    cblas_sgemm(CblasRowMajor, ta, tb, blas(m), blas(n), blas(k), 1.0f, a.data<float>(), blas(lda),
                b.data<float>(), blas(ldb), static_cast<float>(beta), c.data<float>(), blas(n));
  } else {
    cblas_dgemm(CblasRowMajor, ta, tb, blas(m), blas(n), blas(k), 1.0, a.data<double>(), blas(lda),
                b.data<double>(), blas(ldb), beta, c.data<double>(), blas(n));
  }
}

Tensor gemm(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b) {
  Tensor c = make_tensor({transpose_a ? a.size(1) : a.size(0), transpose_b ? b.size(0) : b.size(1)},
                         a.dtype());
  gemm_into(a, transpose_a, b, transpose_b, c, 0.0);
  return c;
}

}  // namespace tg
