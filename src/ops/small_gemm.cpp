// c[i, :] = beta·c[i, :] + Σ_p a[i, p]·b[p, :], in tiles of up to 4 rows × 32 columns whose sums
// stay in registers, vectorized along c's rows. Each element is summed in order of p, one
// multiply-add at a time (fused where the CPU has FMA), as OpenBLAS's kernels do, so results agree
// with OpenBLAS to the last bit or nearly. b is first copied into rows padded to a multiple of 8
// columns unless it is laid out so already (≤ 32k floats).

#include "ops/small_gemm.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

namespace tg::detail {

// Eight floats as one GCC vector: one AVX register, two SSE registers in the SSE2 version.
// Written out because GCC leaves the loops below scalar once it has fully unrolled them.
using Floats8 = float __attribute__((vector_size(32)));

// c[i + r, j0 : j0 + 8·kVectors] = beta·c + Σ_p a(i + r, p)·b[p, j0 : …] for r < kRows: a
// tile of sums kept in registers, each summed in order of p. Several rows at once give the CPU
// independent multiply-add chains (one chain waits ~4 cycles per step). Only the first `valid`
// columns are stored; b's rows are padded to a multiple of 8 columns.
template <int kRows, int kVectors>
[[gnu::always_inline]] inline void tile(int64_t k, const float* a, int64_t a_row, int64_t a_col,
                                        const float* b, int64_t b_row, float beta, float* c,
                                        int64_t c_row, int64_t valid) {
  Floats8 sum[kRows][kVectors] = {};
  for (int64_t p = 0; p < k; ++p) {
    float scale[kRows];
    for (int r = 0; r < kRows; ++r) scale[r] = a[r * a_row + p * a_col];
    for (int v = 0; v < kVectors; ++v) {
      Floats8 b_part;
      std::memcpy(&b_part, b + p * b_row + 8 * v, sizeof b_part);  // an unaligned load
      for (int r = 0; r < kRows; ++r) sum[r][v] += scale[r] * b_part;
    }
  }
  for (int r = 0; r < kRows; ++r) {
    float* c_r = c + r * c_row;
    if (valid == 8 * kVectors) {
      for (int v = 0; v < kVectors; ++v) {
        Floats8 out = sum[r][v];
        if (beta != 0.0f) {
          Floats8 previous;
          std::memcpy(&previous, c_r + 8 * v, sizeof previous);
          out = beta * previous + out;
        }
        std::memcpy(c_r + 8 * v, &out, sizeof out);
      }
    } else {
      float total[8 * kVectors];
      std::memcpy(total, sum[r], sizeof total);
      for (int64_t l = 0; l < valid; ++l) {
        c_r[l] = beta == 0.0f ? total[l] : beta * c_r[l] + total[l];
      }
    }
  }
}

// Columns j0 … j0 + valid of every row of c, in tiles of up to four rows.
template <int kVectors>
[[gnu::always_inline]] inline void column_block(int64_t m, int64_t n, int64_t k, const float* a,
                                                int64_t a_row, int64_t a_col, const float* b,
                                                int64_t b_row, float beta, float* c,
                                                int64_t valid) {
  constexpr int kRows = kVectors <= 2 ? 4 : 2;  // accumulators stay within 16 AVX registers
  int64_t i = 0;
  for (; i + kRows <= m; i += kRows) {
    tile<kRows, kVectors>(k, a + i * a_row, a_row, a_col, b, b_row, beta, c + i * n, n, valid);
  }
  for (; i < m; ++i) {
    tile<1, kVectors>(k, a + i * a_row, a_row, a_col, b, b_row, beta, c + i * n, n, valid);
  }
}

// a(i, p) = a[i·a_row + p·a_col], so a may be transposed; b is k×padded_n row-major.
[[gnu::always_inline]] inline void sgemm_by_rows(int64_t m, int64_t n, int64_t k, const float* a,
                                                 int64_t a_row, int64_t a_col, const float* b,
                                                 int64_t padded_n, float beta, float* c) {
  int64_t j = 0;
  for (; j + 32 <= n; j += 32)
    column_block<4>(m, n, k, a, a_row, a_col, b + j, padded_n, beta, c + j, 32);
  const int64_t rest = n - j;
  if (rest > 24) {
    column_block<4>(m, n, k, a, a_row, a_col, b + j, padded_n, beta, c + j, rest);
  } else if (rest > 16) {
    column_block<3>(m, n, k, a, a_row, a_col, b + j, padded_n, beta, c + j, rest);
  } else if (rest > 8) {
    column_block<2>(m, n, k, a, a_row, a_col, b + j, padded_n, beta, c + j, rest);
  } else if (rest > 0) {
    column_block<1>(m, n, k, a, a_row, a_col, b + j, padded_n, beta, c + j, rest);
  }
}

// The kernel compiled for AVX2 with FMA (multiply-adds fused by -ffp-contract=fast) and for the
// x86-64 baseline, SSE2. Dispatched by hand: target_clones' "arch=haswell" would test for an
// Intel Haswell model, not for the features, and its "avx512f" clone would lack FMA.
__attribute__((target("avx2,fma"))) void sgemm_by_rows_fma(int64_t m, int64_t n, int64_t k,
                                                           const float* a, int64_t a_row,
                                                           int64_t a_col, const float* b,
                                                           int64_t padded_n, float beta, float* c) {
  sgemm_by_rows(m, n, k, a, a_row, a_col, b, padded_n, beta, c);
}

void sgemm_by_rows_sse2(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_row,
                        int64_t a_col, const float* b, int64_t padded_n, float beta, float* c) {
  sgemm_by_rows(m, n, k, a, a_row, a_col, b, padded_n, beta, c);
}

namespace {

bool cpu_has_avx2_and_fma() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

// dst = op(src) as rows×padded_cols row-major, zero-padded on the right; op(src)[r, c] is
// src[r·ld + c], or src[c·ld + r] when transposed.
const float* padded_rows(const float* src, bool transpose, int64_t rows, int64_t cols, int64_t ld,
                         int64_t padded_cols, std::vector<float>& dst) {
  dst.resize(static_cast<std::size_t>(rows * padded_cols));
  float* out = dst.data();
  for (int64_t r = 0; r < rows; ++r) {  // only the padding needs zeros
    std::fill(out + r * padded_cols + cols, out + (r + 1) * padded_cols, 0.0f);
  }
  if (transpose) {
    for (int64_t c = 0; c < cols; ++c) {  // reads src's rows in order
      for (int64_t r = 0; r < rows; ++r) out[r * padded_cols + c] = src[c * ld + r];
    }
  } else {
    for (int64_t r = 0; r < rows; ++r) {
      std::memcpy(out + r * padded_cols, src + r * ld,
                  static_cast<std::size_t>(cols) * sizeof(float));
    }
  }
  return out;
}

}  // namespace

void small_sgemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k,
                 const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                 bool baseline_only) {
  thread_local std::vector<float> b_copy;
  const int64_t padded_n = (n + 7) / 8 * 8;
  const bool b_ready = !transpose_b && ldb == padded_n;
  const float* b_rows = b_ready ? b : padded_rows(b, transpose_b, k, n, ldb, padded_n, b_copy);
  static const auto best = cpu_has_avx2_and_fma() ? sgemm_by_rows_fma : sgemm_by_rows_sse2;
  const auto kernel = baseline_only ? sgemm_by_rows_sse2 : best;
  kernel(m, n, k, a, transpose_a ? 1 : lda, transpose_a ? lda : 1, b_rows, padded_n, beta, c);
}

}  // namespace tg::detail
