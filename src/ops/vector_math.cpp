// The Float32 exp and tanh loops (and tanh's backward), compiled three times (SSE2, AVX2, AVX-512)
// and picked at load time for the CPU at hand. The clones use no FMA, so every clone gives
// bit-identical results.

#include "ops/vector_math.hpp"

namespace tg::vmath {

__attribute__((target_clones("avx512f", "avx2", "default"))) void exp_array(const float* in,
                                                                            float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = exp(in[i]);
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void tanh_array(const float* in,
                                                                             float* out,
                                                                             int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = tanh(in[i]);
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void tanh_backward_array(
    const float* gy, const float* y, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = gy[i] * (1.0f - y[i] * y[i]);
}

}  // namespace tg::vmath
