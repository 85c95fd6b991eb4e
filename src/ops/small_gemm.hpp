// Float32 products too small for OpenBLAS to pay off. cblas_sgemm spends ~16k instructions per
// call on dispatch and packing whatever the size; W2's 32×13 · 13×32 is ~13k multiply-adds.
#pragma once

#include <cstdint>

namespace tg::detail {

/// Products of at most this many multiply-adds (m·n·k) go to small_sgemm.
constexpr int64_t kSmallGemmVolume = 32 * 32 * 32;

/// c[m×n] = op(a)·op(b) + beta·c in row-major storage, as cblas_sgemm with alpha = 1; c is not
/// read when beta = 0. Each element is a chain of fused multiply-adds in order of the inner
/// index, then beta·c added fused: the same bits at every CPU level (kernels/cpu_level.hpp).
void small_sgemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k,
                 const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c);

}  // namespace tg::detail
