// Float32 products too small for OpenBLAS to pay off. cblas_sgemm spends ~16k instructions per
// call on dispatch and packing whatever the size; W2's 32×13 · 13×32 is ~13k multiply-adds.
#pragma once

#include <cstdint>

namespace tg::detail {

/// small_sgemm sums the inner index in runs of this many terms, each going on from the last.
constexpr int64_t kInnerRun = 256;

/// Products of at most this many multiply-adds (m·n·k) go to small_sgemm.
constexpr int64_t kSmallGemmVolume = 32 * 32 * 32;

/// Whether a larger Float32 product goes to small_sgemm too: at least 32 columns (whole
/// AVX-512 tiles), at most 8192; any inner size when beta = 0 or c is small (the runs of
/// kInnerRun keep their sums in c, so beta·c is added from a copy); when b must first be copied
/// transposed, rows enough to repay the copy; and any copy of b at most 16 MiB (the scratch
/// buffers only grow, and live as long as their thread). That takes the
/// recurrent layers' per-step products (64×128·128×384, 64×384·384×128), their weight gradients,
/// input projections and a Linear's input gradient, where the kernel runs at about OpenBLAS's
/// speed with AVX2 and 1.5–2× it with AVX-512 (docs/performance.md, "Tenth measurement").
/// Depends on the sizes only, never on the CPU, so every CPU level takes the same kernel.
constexpr bool small_sgemm_pays(int64_t m, int64_t n, int64_t k, bool transpose_b, float beta) {
  const bool copies_b = transpose_b || n % 8 != 0;  // into rows padded to 8 columns
  return n >= 32 && n <= 8192 && (k <= kInnerRun || beta == 0.0f || m * n <= (1 << 16)) &&
         (!transpose_b || m >= 256) && (!copies_b || k * n <= (int64_t{1} << 22));
}

/// c[m×n] = op(a)·op(b) + beta·c in row-major storage, as cblas_sgemm with alpha = 1; c is not
/// read when beta = 0. Each element is a chain of fused multiply-adds in order of the inner
/// index, then beta·c added fused: the same bits at every CPU level (kernels/cpu_level.hpp).
void small_sgemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k,
                 const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c);

}  // namespace tg::detail
