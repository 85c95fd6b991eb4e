#pragma once

// σ and tanh over whole arrays, in place, for the fused recurrent layers: Float32 through the
// vectorized kernels (the same bits on every CPU, and those of tg::sigmoid / tg::tanh), Float64
// through libm, σ on the side where exp cannot overflow, as tg::sigmoid does.

#include "ops/vector_math.hpp"

#include <cmath>
#include <cstdint>

namespace tg::nn::detail {

inline void sigmoid_in_place(float* p, int64_t n) { vmath::sigmoid_array(p, p, n); }
inline void sigmoid_in_place(double* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double v = p[i];
    const double e = std::exp(v >= 0 ? -v : v);
    p[i] = v >= 0 ? 1 / (1 + e) : e / (1 + e);
  }
}
inline void tanh_in_place(float* p, int64_t n) { vmath::tanh_array(p, p, n); }
inline void tanh_in_place(double* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i) p[i] = std::tanh(p[i]);
}

}  // namespace tg::nn::detail
