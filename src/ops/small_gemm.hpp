// Float32 products too small for OpenBLAS to pay off. cblas_sgemm spends ~16k instructions per
// call on dispatch and packing whatever the size; W2's 32×13 · 13×32 is ~13k multiply-adds.
#pragma once

#include <cstdint>

namespace tg::detail {

/// Products of at most this many multiply-adds (m·n·k) go to small_sgemm.
constexpr int64_t kSmallGemmVolume = 32 * 32 * 32;

/// c[m×n] = op(a)·op(b) + beta·c in row-major storage, as cblas_sgemm with alpha = 1; c is not
/// read when beta = 0. Deterministic on a given CPU; the SSE2 version (no FMA) may differ from
/// the AVX2/AVX-512 ones in the last bit, as OpenBLAS's kernels for different CPUs do.
/// `baseline_only` forces the SSE2 version (for tests).
void small_sgemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k,
                 const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                 bool baseline_only = false);

}  // namespace tg::detail
