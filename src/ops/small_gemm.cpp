// c[i, :] = beta·c[i, :] + Σ_p a[i, p]·b[p, :], in tiles whose sums stay in registers,
// vectorized along c's rows: 6 rows × 16 columns with AVX2 (× 8 at the right edge); with AVX-512
// 4 rows × 64 columns while 64 columns remain, then 8 rows × 32, then AVX2's. Each element is
// summed in order of p, one fused multiply-add at a time, as OpenBLAS's kernels for FMA CPUs do, so
// results agree with OpenBLAS to the last bit or nearly; every CPU level gives the same bits (the
// tile's shape only decides which elements are summed side by side; the baseline computes the same
// fused multiply-adds with std::fma, see the end of the file). p runs in pieces of kInnerRun terms,
// each going on from the sums the last stored. b is first copied into rows padded to a multiple
// of 8 columns unless it is laid out so already. A small product whose rows fill its vectors
// worse than its columns would (n = 1, 13 against m = 32) is computed as its transpose, with the
// same multiply-adds per element, and transposed back in 8×8 register blocks.

#include "ops/small_gemm.hpp"

#include "kernels/cpu_level.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <vector>

namespace tg::detail {

// Eight floats as one GCC vector: one AVX register; sixteen: one AVX-512 register.
// Written out because GCC leaves the loops below scalar once it has fully unrolled them.
using Floats8 = float __attribute__((vector_size(32)));
using Floats16 = float __attribute__((vector_size(64)));
template <class V>
constexpr int kLanes = static_cast<int>(sizeof(V) / sizeof(float));

// c[i + r, j0 : j0 + lanes·kVectors] = beta·c + Σ_p a(i + r, p)·b[p, j0 : …] for r < kRows:
// a tile of sums kept in registers (vectors V of 8 or 16 floats), each summed in order of p.
// Several rows at once give the CPU independent multiply-add chains (one chain waits ~4 cycles
// per step). Only the first `valid` columns are stored; b's rows are padded to a multiple of 8
// columns, so a 16-float tile is only used where its columns are all valid.
template <class V, int kRows, int kVectors>
[[gnu::always_inline]] inline void tile(int64_t k, const float* a, int64_t a_row, int64_t a_col,
                                        const float* b, int64_t b_row, float beta, float* c,
                                        int64_t c_row, int64_t valid, bool resume) {
  constexpr int kL = kLanes<V>;
  V sum[kRows][kVectors] = {};
  if (resume) {  // c holds the chains' sums over the earlier part of p: go on from them
    for (int r = 0; r < kRows; ++r) {
      float start[kL * kVectors] = {};
      std::memcpy(start, c + r * c_row, static_cast<std::size_t>(valid) * sizeof(float));
      std::memcpy(sum[r], start, sizeof start);
    }
  }
  for (int64_t p = 0; p < k; ++p) {
    // b's part first, then one row's scale at a time: kVectors + 1 registers beside the sums
    // (the scales of all rows at once would make 6×2 and 4×3 tiles spill a sum to the stack).
    V b_part[kVectors];
    for (int v = 0; v < kVectors; ++v) {
      std::memcpy(&b_part[v], b + p * b_row + kL * v, sizeof b_part[v]);  // an unaligned load
    }
    for (int r = 0; r < kRows; ++r) {
      const float scale = a[r * a_row + p * a_col];
      for (int v = 0; v < kVectors; ++v) sum[r][v] += scale * b_part[v];
    }
  }
  for (int r = 0; r < kRows; ++r) {
    float* c_r = c + r * c_row;
    if (valid == kL * kVectors) {
      for (int v = 0; v < kVectors; ++v) {
        V out = sum[r][v];
        if (beta != 0.0f) {
          V previous;
          std::memcpy(&previous, c_r + kL * v, sizeof previous);
          out = beta * previous + out;
        }
        std::memcpy(c_r + kL * v, &out, sizeof out);
      }
    } else {
      float total[kL * kVectors];
      std::memcpy(total, sum[r], sizeof total);
      for (int64_t l = 0; l < valid; ++l) {
        c_r[l] = beta == 0.0f ? total[l] : beta * c_r[l] + total[l];
      }
    }
  }
}

// Columns j0 … j0 + valid of every row of c, in tiles of up to six rows (AVX-512: four or eight).
template <int kVectors, class V = Floats8>
[[gnu::always_inline]] inline void column_block(int64_t m, int64_t n, int64_t k, const float* a,
                                                int64_t a_row, int64_t a_col, const float* b,
                                                int64_t b_row, float beta, float* c, int64_t valid,
                                                bool resume) {
  // Sums, b's part and one scale stay within the 16 AVX registers (6×2 + 2 + 1), or the 32
  // AVX-512 ones (4×4 + 4 + 1, 8×2 + 2 + 1).
  static_assert(kVectors <= (kLanes<V> == 16 ? 4 : 2));
  constexpr int kRows = kLanes<V> == 16 ? (kVectors == 4 ? 4 : 8) : 6;
  int64_t i = 0;
  for (; i + kRows <= m; i += kRows) {
    tile<V, kRows, kVectors>(k, a + i * a_row, a_row, a_col, b, b_row, beta, c + i * n, n, valid,
                             resume);
  }
  if constexpr (kRows > 4) {
    for (; i + 4 <= m; i += 4) {
      tile<V, 4, kVectors>(k, a + i * a_row, a_row, a_col, b, b_row, beta, c + i * n, n, valid,
                           resume);
    }
  }
  if constexpr (kRows > 2) {
    for (; i + 2 <= m; i += 2) {
      tile<V, 2, kVectors>(k, a + i * a_row, a_row, a_col, b, b_row, beta, c + i * n, n, valid,
                           resume);
    }
  }
  for (; i < m; ++i) {
    tile<V, 1, kVectors>(k, a + i * a_row, a_row, a_col, b, b_row, beta, c + i * n, n, valid,
                         resume);
  }
}

// a(i, p) = a[i·a_row + p·a_col], so a may be transposed; b is k×padded_n row-major. `wide`
// (AVX-512) takes 64 columns at a time in 16-float vectors while they last, then 32; the same
// sums.
template <bool wide>
[[gnu::always_inline]] inline void sgemm_by_rows(int64_t m, int64_t n, int64_t k, const float* a,
                                                 int64_t a_row, int64_t a_col, const float* b,
                                                 int64_t padded_n, float beta, float* c,
                                                 bool resume) {
  int64_t j = 0;
  if constexpr (wide) {
    for (; j + 64 <= n; j += 64) {
      column_block<4, Floats16>(m, n, k, a, a_row, a_col, b + j, padded_n, beta, c + j, 64, resume);
    }
    if (j + 32 <= n) {
      column_block<2, Floats16>(m, n, k, a, a_row, a_col, b + j, padded_n, beta, c + j, 32, resume);
      j += 32;
    }
  }
  for (; j + 16 <= n; j += 16)
    column_block<2>(m, n, k, a, a_row, a_col, b + j, padded_n, beta, c + j, 16, resume);
  const int64_t rest = n - j;
  if (rest > 8) {
    column_block<2>(m, n, k, a, a_row, a_col, b + j, padded_n, beta, c + j, rest, resume);
  } else if (rest > 0) {
    column_block<1>(m, n, k, a, a_row, a_col, b + j, padded_n, beta, c + j, rest, resume);
  }
}

namespace {

// The 8×8 block at `src` (rows `ld` apart) transposed into the one at `dst` (rows `dst_row`
// apart), in registers: the usual unpack, shuffle, swap-halves sequence.
[[gnu::always_inline]] inline void transpose_8x8(const float* src, int64_t ld, float* dst,
                                                 int64_t dst_row) {
  Floats8 r[8], t[8], s[8];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) std::memcpy(&r[i], src + i * ld, sizeof r[i]);
  for (int i = 0; i < 8; i += 2) {
    t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
    t[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
  }
  for (int i = 0; i < 8; i += 4) {
    for (int h = 0; h < 2; ++h) {
      s[i + 2 * h] = __builtin_shufflevector(t[i + h], t[i + h + 2], 0, 1, 8, 9, 4, 5, 12, 13);
      s[i + 2 * h + 1] =
          __builtin_shufflevector(t[i + h], t[i + h + 2], 2, 3, 10, 11, 6, 7, 14, 15);
    }
  }
  for (int i = 0; i < 4; ++i) {
    const Floats8 low = __builtin_shufflevector(s[i], s[i + 4], 0, 1, 2, 3, 8, 9, 10, 11);
    const Floats8 high = __builtin_shufflevector(s[i], s[i + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    std::memcpy(dst + i * dst_row, &low, sizeof low);
    std::memcpy(dst + (i + 4) * dst_row, &high, sizeof high);
  }
}

// dst[r·dst_row + c] = src[c·ld + r] for r < rows, c < cols: whole 8×8 blocks in registers,
// the edges one element at a time.
[[gnu::always_inline]] inline void transpose_into(const float* src, int64_t ld, int64_t rows,
                                                  int64_t cols, float* dst, int64_t dst_row) {
  const int64_t block_rows = rows / 8 * 8, block_cols = cols / 8 * 8;
  for (int64_t c = 0; c < block_cols; c += 8) {
    for (int64_t r = 0; r < block_rows; r += 8) {
      transpose_8x8(src + c * ld + r, ld, dst + r * dst_row + c, dst_row);
    }
  }
  const auto one_by_one = [&](int64_t first_c, int64_t first_r) {
    for (int64_t c = first_c; c < cols; ++c) {
      for (int64_t r = first_r; r < rows; ++r) dst[r * dst_row + c] = src[c * ld + r];
    }
  };
  if (block_rows < rows) one_by_one(0, block_rows);  // the rows below the blocks
  one_by_one(block_cols, 0);                         // the columns right of them
}

// At least `size` floats of `buffer`. It only grows: resizing it down and up again for
// products of alternating sizes would zero the floats in between each time.
float* scratch(std::vector<float>& buffer, int64_t size) {
  if (buffer.size() < static_cast<std::size_t>(size)) buffer.resize(static_cast<std::size_t>(size));
  return buffer.data();
}

// dst = op(src) as rows×padded_cols row-major, zero-padded on the right; op(src)[r, c] is
// src[r·ld + c], or src[c·ld + r] when transposed.
[[gnu::always_inline]] inline const float* padded_rows(const float* src, bool transpose,
                                                       int64_t rows, int64_t cols, int64_t ld,
                                                       int64_t padded_cols,
                                                       std::vector<float>& dst) {
  float* out = scratch(dst, rows * padded_cols);
  if (padded_cols > cols) {
    for (int64_t r = 0; r < rows; ++r) {  // only the padding needs zeros
      std::fill(out + r * padded_cols + cols, out + (r + 1) * padded_cols, 0.0f);
    }
  }
  if (transpose) {
    transpose_into(src, ld, rows, cols, out, padded_cols);
  } else {
    for (int64_t r = 0; r < rows; ++r) {
      std::memcpy(out + r * padded_cols, src + r * ld,
                  static_cast<std::size_t>(cols) * sizeof(float));
    }
  }
  return out;
}

int64_t padded(int64_t columns) { return (columns + 7) / 8 * 8; }

// The share of its 8-float vectors a row of c this wide fills.
double lane_use(int64_t columns) {
  return static_cast<double>(columns) / static_cast<double>(padded(columns));
}

// c = op(a)·op(b) + beta·c, vectorized along c's rows. b is copied into padded rows unless it is
// stored so already.
template <bool wide>
[[gnu::always_inline]] inline void along_rows(bool transpose_a, bool transpose_b, int64_t m,
                                              int64_t n, int64_t k, const float* a, int64_t lda,
                                              const float* b, int64_t ldb, float beta, float* c) {
  if (beta != 0.0f && k > kInnerRun) {  // the runs keep their sums in c: add beta·c at the end
    thread_local std::vector<float> sums;
    float* t = scratch(sums, m * n);
    along_rows<wide>(transpose_a, transpose_b, m, n, k, a, lda, b, ldb, 0.0f, t);
    for (int64_t i = 0; i < m * n; ++i) c[i] = beta * c[i] + t[i];  // fused, as the tiles do
    return;
  }
  thread_local std::vector<float> b_copy;
  const int64_t padded_n = padded(n);
  const bool b_ready = !transpose_b && ldb == padded_n;
  const float* b_rows = b_ready ? b : padded_rows(b, transpose_b, k, n, ldb, padded_n, b_copy);
  const int64_t a_row = transpose_a ? 1 : lda, a_col = transpose_a ? lda : 1;
  // p in runs of kInnerRun, so the strip of b under a column block stays in L1 or L2; each run
  // goes on from the sums the run before stored in c (a float stored and reloaded is the same
  // float), so each element is still one chain of multiply-adds in order of p.
  for (int64_t p = 0; p < k; p += kInnerRun) {
    sgemm_by_rows<wide>(m, n, std::min(kInnerRun, k - p), a + p * a_col, a_row, a_col,
                        b_rows + p * padded_n, padded_n, beta, c, p > 0);
  }
}

// c = op(a)·op(b) + beta·c computed as its transpose op(b)ᵀ·op(a)ᵀ, vectorized along c's
// columns: for narrow products (W2's 32×32·32×1 fills one lane in eight along rows, all eight
// along columns). Each element is the same sequence of multiply-adds, so the bits are those of
// along_rows; beta·c is added in the same fused way as the tiles do.
template <bool wide>
[[gnu::always_inline]] inline void along_columns(bool transpose_a, bool transpose_b, int64_t m,
                                                 int64_t n, int64_t k, const float* a, int64_t lda,
                                                 const float* b, int64_t ldb, float beta,
                                                 float* c) {
  thread_local std::vector<float> c_transposed;
  float* t = scratch(c_transposed, n * m);
  along_rows<wide>(!transpose_b, !transpose_a, n, m, k, b, ldb, a, lda, 0.0f, t);
  if (beta == 0.0f) {
    transpose_into(t, m, m, n, c, n);
    return;
  }
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      c[i * n + j] = beta * c[i * n + j] + t[j * m + i];
    }
  }
}

template <bool wide>
[[gnu::always_inline]] inline void small_sgemm_body(bool transpose_a, bool transpose_b, int64_t m,
                                                    int64_t n, int64_t k, const float* a,
                                                    int64_t lda, const float* b, int64_t ldb,
                                                    float beta, float* c) {
  // The transposed route keeps a copy of c: only for small products.
  if (m * n <= kSmallGemmVolume && lane_use(m) > lane_use(n)) {
    along_columns<wide>(transpose_a, transpose_b, m, n, k, a, lda, b, ldb, beta, c);
  } else {
    along_rows<wide>(transpose_a, transpose_b, m, n, k, a, lda, b, ldb, beta, c);
  }
}

// Compiled for AVX2 with FMA: this file alone is compiled with -ffp-contract=fast (CMakeLists.txt),
// so every c + a·b above becomes one fused multiply-add. (target_clones would not do:
// "arch=haswell" tests for an Intel Haswell model, not for the features.)
__attribute__((target("avx2,fma"))) void small_sgemm_fma(bool transpose_a, bool transpose_b,
                                                         int64_t m, int64_t n, int64_t k,
                                                         const float* a, int64_t lda,
                                                         const float* b, int64_t ldb, float beta,
                                                         float* c) {
  small_sgemm_body<false>(transpose_a, transpose_b, m, n, k, a, lda, b, ldb, beta, c);
}

// The same tiles in 16-float vectors where 64 columns remain, for AVX-512: each element is the
// same chain of fused multiply-adds, so the bits are the AVX2 version's.
__attribute__((target("avx512f,avx2,fma"))) void small_sgemm_avx512(
    bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, const float* a,
    int64_t lda, const float* b, int64_t ldb, float beta, float* c) {
  small_sgemm_body<true>(transpose_a, transpose_b, m, n, k, a, lda, b, ldb, beta, c);
}

// The same arithmetic one element at a time, for CPUs without FMA (and TAPEGRAD_CPU=baseline):
// s = fma(a(i, p), b(p, j), s) in order of p from s = 0, then c = fma(beta, c, s), exactly what
// the tiles' fused multiply-adds compute, so the bits are the same. std::fma is glibc's fmaf:
// the FMA instruction where the CPU has one, an exact emulation where it has not.
void small_sgemm_fused_scalar(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k,
                              const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                              float* c) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      float sum = 0.0f;
      for (int64_t p = 0; p < k; ++p) {
        const float a_ip = transpose_a ? a[p * lda + i] : a[i * lda + p];
        const float b_pj = transpose_b ? b[j * ldb + p] : b[p * ldb + j];
        sum = std::fma(a_ip, b_pj, sum);
      }
      c[i * n + j] = beta == 0.0f ? sum : std::fma(beta, c[i * n + j], sum);
    }
  }
}

}  // namespace

void small_sgemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k,
                 const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c) {
  const CpuLevel level = cpu_level_in_use();
  const auto kernel = level == CpuLevel::Baseline ? small_sgemm_fused_scalar
                      : level == CpuLevel::Avx2   ? small_sgemm_fma
                                                  : small_sgemm_avx512;
  kernel(transpose_a, transpose_b, m, n, k, a, lda, b, ldb, beta, c);
}

}  // namespace tg::detail
