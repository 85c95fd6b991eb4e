// The Float32 exp and tanh loops (and tanh's backward), compiled for every CPU level
// (kernels/cpu_level.hpp): each level gives the bits of the scalar functions in vector_math.hpp.

#include "ops/vector_math.hpp"

#include "kernels/cpu_level.hpp"

namespace tg::vmath {

void exp_array(const float* in, float* out, int64_t n) {
  detail::at_cpu_level([&] {
    for (int64_t i = 0; i < n; ++i) out[i] = exp(in[i]);
  });
}

void sigmoid_array(const float* in, float* out, int64_t n) {
  detail::at_cpu_level([&] {
    for (int64_t i = 0; i < n; ++i) out[i] = sigmoid(in[i]);
  });
}

void tanh_array(const float* in, float* out, int64_t n) {
  detail::at_cpu_level([&] {
    for (int64_t i = 0; i < n; ++i) out[i] = tanh(in[i]);
  });
}

void tanh_backward_array(const float* gy, const float* y, float* out, int64_t n) {
  detail::at_cpu_level([&] {
    for (int64_t i = 0; i < n; ++i) out[i] = gy[i] * (1.0f - y[i] * y[i]);
  });
}

}  // namespace tg::vmath
