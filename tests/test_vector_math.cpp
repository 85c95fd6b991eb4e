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

TEST_CASE("vmath::sigmoid is within 2.5 ulp over the float range", "[vmath]") {
  float at = 0;
  const double worst = worst_ulp([](float x) { return tg::vmath::sigmoid(x); },
                                 [](double x) { return 1 / (1 + std::exp(-x)); }, &at);
  INFO("worst " << worst << " ulp at " << at);
  CHECK(worst <= 2.5);
  CHECK(tg::vmath::sigmoid(0.0f) == 0.5f);
  CHECK(tg::vmath::sigmoid(INFINITY) == 1.0f);
  CHECK(tg::vmath::sigmoid(-INFINITY) == 0.0f);
  CHECK(tg::vmath::sigmoid(-100.0f) > 0.0f);  // e^-100, subnormal-free and not flushed to 0
  CHECK(std::isnan(tg::vmath::sigmoid(NAN)));
}
