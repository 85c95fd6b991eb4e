// The vectorizable Float32 exp and tanh against double-precision libm, over a sweep of the
// whole float range: at most 2 ulp from the correctly rounded result (glibc's scalar expf is
// 0.5, tanhf 2.2 on the same sweep), and the special values right.

#include <catch2/catch.hpp>

#include "ops/vector_math.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace {

// Distance from `want` (exact, in double) to `got`, in units of the last place of float.
double ulp_error(float got, double want) {
  const auto rounded = static_cast<float>(want);
  if (std::isinf(rounded)) return got == rounded ? 0 : std::numeric_limits<double>::infinity();
  const float magnitude = std::fabs(rounded);
  const double ulp = magnitude < std::numeric_limits<float>::min()
                         ? std::numeric_limits<float>::denorm_min()
                         : std::nextafter(magnitude, INFINITY) - magnitude;
  return std::fabs(static_cast<double>(got) - want) / ulp;
}

template <class F, class Reference>
double worst_ulp(F f, Reference reference, float* worst_at) {
  double worst = 0;
  for (uint64_t bits = 0; bits <= 0xFFFFFFFFu; bits += 1999) {  // 2.1 million floats
    const float x = std::bit_cast<float>(static_cast<uint32_t>(bits));
    if (std::isnan(x)) continue;
    const double error = ulp_error(f(x), reference(static_cast<double>(x)));
    if (error > worst) worst = error, *worst_at = x;
  }
  return worst;
}

}  // namespace

TEST_CASE("vmath::exp is within 2 ulp over the float range", "[vmath]") {
  float at = 0;
  const double worst = worst_ulp([](float x) { return tg::vmath::exp(x); },
                                 [](double x) { return std::exp(x); }, &at);
  INFO("worst " << worst << " ulp at " << at);
  CHECK(worst <= 2.0);
  CHECK(tg::vmath::exp(0.0f) == 1.0f);
  CHECK(tg::vmath::exp(89.0f) == INFINITY);
  CHECK(tg::vmath::exp(-INFINITY) == 0.0f);
  CHECK(tg::vmath::exp(-104.0f) == 0.0f);
  CHECK(tg::vmath::exp(-100.0f) > 0.0f);  // subnormal, not flushed
  CHECK(std::isnan(tg::vmath::exp(NAN)));
}

TEST_CASE("vmath::tanh is within 2 ulp over the float range", "[vmath]") {
  float at = 0;
  const double worst = worst_ulp([](float x) { return tg::vmath::tanh(x); },
                                 [](double x) { return std::tanh(x); }, &at);
  INFO("worst " << worst << " ulp at " << at);
  CHECK(worst <= 2.0);
  CHECK(tg::vmath::tanh(0.0f) == 0.0f);
  CHECK(std::signbit(tg::vmath::tanh(-0.0f)));
  CHECK(tg::vmath::tanh(1e-30f) == 1e-30f);
  CHECK(tg::vmath::tanh(INFINITY) == 1.0f);
  CHECK(tg::vmath::tanh(-INFINITY) == -1.0f);
  CHECK(std::isnan(tg::vmath::tanh(NAN)));
}

TEST_CASE("the array kernels (the CPU's widest clone) match the scalar functions bit for bit",
          "[vmath]") {
  std::vector<float> in;
  for (uint64_t bits = 0; bits <= 0xFFFFFFFFu; bits += 65537)
    in.push_back(std::bit_cast<float>(static_cast<uint32_t>(bits)));
  std::vector<float> exp_out(in.size()), tanh_out(in.size());
  tg::vmath::exp_array(in.data(), exp_out.data(), static_cast<int64_t>(in.size()));
  tg::vmath::tanh_array(in.data(), tanh_out.data(), static_cast<int64_t>(in.size()));
  int64_t mismatches = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const float e = tg::vmath::exp(in[i]), t = tg::vmath::tanh(in[i]);
    mismatches += std::bit_cast<uint32_t>(e) != std::bit_cast<uint32_t>(exp_out[i]);
    mismatches += std::bit_cast<uint32_t>(t) != std::bit_cast<uint32_t>(tanh_out[i]);
  }
  CHECK(mismatches == 0);
}

TEST_CASE("tanh_backward_array is g·(1 − y²) in float, bit for bit", "[vmath]") {
  std::vector<float> gy, y;
  for (int i = 0; i < 1000; ++i) {  // odd length: the vector loops' scalar tails run too
    gy.push_back(static_cast<float>(std::sin(0.7 * i)) * 3.0f);
    y.push_back(static_cast<float>(std::cos(1.3 * i)));
  }
  gy.push_back(NAN);
  y.push_back(0.5f);
  std::vector<float> out(gy.size());
  tg::vmath::tanh_backward_array(gy.data(), y.data(), out.data(), static_cast<int64_t>(gy.size()));
  for (size_t i = 0; i + 1 < gy.size(); ++i) {
    const float want = gy[i] * (1.0f - y[i] * y[i]);
    INFO("element " << i);
    CHECK(std::bit_cast<uint32_t>(out[i]) == std::bit_cast<uint32_t>(want));
  }
  CHECK(std::isnan(out.back()));
}
