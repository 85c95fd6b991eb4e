// The Float32 kernel for small products (src/ops/small_gemm.cpp), at the CPU level in use (every
// level's bits are the baseline's: test_cpu_levels.cpp), against a double-precision product, for
// every transpose combination, beta, and shapes around its 8-column vectors, 32-column blocks and
// 4-row tiles; and through tg::matmul against a Float64 matmul.

#include "helpers.hpp"

#include "ops/small_gemm.hpp"

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

namespace {

struct Case {
  bool transpose_a, transpose_b;
  int64_t m, n, k;
  float beta;
};

// Checks small_sgemm on one case with deterministic pseudo-random operands.
void check_case(const Case& c) {
  // op(a) is m×k and op(b) k×n; stored transposed when asked, row-major, contiguous.
  std::vector<float> a(static_cast<size_t>(c.m * c.k)), b(static_cast<size_t>(c.k * c.n));
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(std::sin(1.0 + 0.37 * i));
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(std::cos(2.0 + 0.53 * i));
  const auto a_at = [&](int64_t i, int64_t p) {
    return c.transpose_a ? a[p * c.m + i] : a[i * c.k + p];
  };
  const auto b_at = [&](int64_t p, int64_t j) {
    return c.transpose_b ? b[j * c.k + p] : b[p * c.n + j];
  };
  // beta = 0 must not read c: start from NaN there.
  const float start = c.beta == 0 ? std::numeric_limits<float>::quiet_NaN() : 0.75f;
  std::vector<float> out(static_cast<size_t>(c.m * c.n), start);
  tg::detail::small_sgemm(c.transpose_a, c.transpose_b, c.m, c.n, c.k, a.data(),
                          c.transpose_a ? c.m : c.k, b.data(), c.transpose_b ? c.k : c.n, c.beta,
                          out.data());
  for (int64_t i = 0; i < c.m; ++i) {
    for (int64_t j = 0; j < c.n; ++j) {
      double want = c.beta == 0 ? 0.0 : c.beta * double{start};
      double scale = std::abs(want);
      for (int64_t p = 0; p < c.k; ++p) {
        want += double{a_at(i, p)} * b_at(p, j);
        scale += std::abs(double{a_at(i, p)} * b_at(p, j));
      }
      INFO("m " << c.m << " n " << c.n << " k " << c.k << " ta " << c.transpose_a << " tb "
                << c.transpose_b << " beta " << c.beta << " at " << i << ", " << j);
      REQUIRE(std::abs(out[i * c.n + j] - want) <= 1e-6 * (scale + 1));
    }
  }
}

}  // namespace

TEST_CASE("small_sgemm matches a double-precision product", "[ops][gemm]") {
  int checked = 0;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      for (int64_t m : {1, 3, 4, 5, 9, 16, 32}) {
        for (int64_t n : {1, 7, 8, 9, 16, 17, 24, 25, 32, 33, 41}) {
          for (int64_t k : {1, 2, 13, 32}) {
            for (float beta : {0.0f, 1.0f, 0.5f}) {
              check_case({ta, tb, m, n, k, beta});
              ++checked;
            }
          }
        }
      }
    }
  }
  CHECK(checked == 2 * 2 * 7 * 11 * 4 * 3);
}

// Larger products small_sgemm_pays sends to the same kernel: 64-column AVX-512 tiles with the
// 16- and 8-column ones after them, inner sizes past one run of kInnerRun terms (each run goes
// on from the sums the last left in c, and beta·c is added at the end).
TEST_CASE("small_sgemm matches a double-precision product on larger products", "[ops][gemm]") {
  int checked = 0;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      for (auto [m, n] :
           {std::pair<int64_t, int64_t>{5, 64}, {6, 111}, {9, 40}, {33, 136}, {70, 200}}) {
        for (int64_t k : {int64_t{100}, tg::detail::kInnerRun + 1, 3 * tg::detail::kInnerRun + 5}) {
          for (float beta : {0.0f, 0.5f}) {
            check_case({ta, tb, m, n, k, beta});
            ++checked;
          }
        }
      }
    }
  }
  CHECK(checked == 2 * 2 * 5 * 3 * 2);
}

// Narrow products (n = 1, 13) are computed as their transpose, vectorized along the other side;
// each element is still the same sequence of multiply-adds, so c from (a, b) and cᵀ from
// (bᵀ, aᵀ) must agree bit for bit, whichever of the two takes the transposed route.
TEST_CASE("small_sgemm gives the same bits for a product and its transpose", "[ops][gemm]") {
  int compared = 0;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      for (auto [m, n] :
           {std::pair<int64_t, int64_t>{32, 1}, {32, 13}, {16, 5}, {9, 3}, {24, 17}}) {
        for (int64_t k : {1, 13, 32}) {
          for (float beta : {0.0f, 0.7f}) {
            std::vector<float> a(static_cast<size_t>(m * k)), b(static_cast<size_t>(k * n));
            for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(std::sin(0.7 * i));
            for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(std::cos(0.3 * i));
            std::vector<float> c(static_cast<size_t>(m * n)), c_t(c.size());
            for (int64_t i = 0; i < m; ++i) {
              for (int64_t j = 0; j < n; ++j) {
                c[i * n + j] = c_t[j * m + i] = static_cast<float>(0.1 * (i - j));
              }
            }
            const int64_t lda = ta ? m : k, ldb = tb ? k : n;
            // cᵀ = op(b)ᵀ·op(a)ᵀ: b takes a's place with the opposite transpose flag.
            tg::detail::small_sgemm(ta, tb, m, n, k, a.data(), lda, b.data(), ldb, beta, c.data());
            tg::detail::small_sgemm(!tb, !ta, n, m, k, b.data(), ldb, a.data(), lda, beta,
                                    c_t.data());
            for (int64_t i = 0; i < m; ++i) {
              for (int64_t j = 0; j < n; ++j) {
                INFO("m " << m << " n " << n << " k " << k << " ta " << ta << " tb " << tb
                          << " beta " << beta << " at " << i << ", " << j);
                REQUIRE(c[i * n + j] == c_t[j * m + i]);
              }
            }
            ++compared;
          }
        }
      }
    }
  }
  CHECK(compared == 2 * 2 * 5 * 3 * 2);
}

TEST_CASE("small Float32 matmuls and linears agree with Float64 ones", "[ops][gemm]") {
  tg::manual_seed(12);
  // [32, 13]·[13, 32] is W2's first layer (small kernel); [64, 64]·[64, 64] goes to OpenBLAS.
  for (int64_t size : {1, 5, 13, 32, 64}) {
    const tg::Tensor a = tg::randn({32, size});
    const tg::Tensor b = tg::randn({size, 32});
    const tg::Tensor bias = tg::randn({32});
    const tg::Tensor product = tg::matmul(a, b);
    const tg::Tensor reference = tg::matmul(a.to(tg::Dtype::Float64), b.to(tg::Dtype::Float64));
    const tg::Tensor fused = tg::linear(a, b.t().clone(), bias);
    const tg::Tensor fused_reference = reference + bias.to(tg::Dtype::Float64);
    const std::vector<double> got = product.to_vector<double>(),
                              want = reference.to_vector<double>();
    const std::vector<double> got_fused = fused.to_vector<double>();
    const std::vector<double> want_fused = fused_reference.to_vector<double>();
    for (size_t i = 0; i < got.size(); ++i) {
      INFO("inner size " << size << ", element " << i);
      CHECK(std::abs(got[i] - want[i]) <= 1e-5 * (1 + std::abs(want[i])) * std::sqrt(size));
      CHECK(std::abs(got_fused[i] - want_fused[i]) <=
            1e-5 * (1 + std::abs(want_fused[i])) * std::sqrt(size));
    }
  }
}

#if !defined(__SANITIZE_ADDRESS__)  // two 8 GiB tensors; only their address space is used
TEST_CASE("a dimension above OpenBLAS's 32-bit limit is an error, not a truncated product",
          "[ops][gemm]") {
  const int64_t too_long = int64_t{1} << 31;
  const tg::Tensor a = tg::empty({1, too_long});  // never written: no memory is touched
  const tg::Tensor b = tg::empty({too_long, 1});
  CHECK_TG_ERROR(tg::matmul(a, b),
                 "matmul/linear: a dimension of [1, 2147483648] @ [2147483648, 1] exceeds "
                 "OpenBLAS's limit of 2147483647");
}
#endif
