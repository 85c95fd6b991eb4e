// exp and tanh for Float32 written so that a loop over them vectorizes (no libm call, no
// branch: both sides are computed and selected), at the accuracy of glibc's scalar versions:
// at most 2 ulp from the correctly rounded result (tests/test_vector_math.cpp sweeps the
// range). glibc's vector versions are only reachable through -ffast-math, which would also
// change every other result the parity tests check.
#pragma once

#include <bit>
#include <cstdint>
#include <limits>

namespace tg::vmath {

/// m·2^n for an integer-valued float n in [-150, 128]: applied as two normal factors,
/// (m·2^⌊n/2⌋)·2^(n−⌊n/2⌋), so neither overflows early nor loses subnormal results.
inline float scale_by_exp2(float m, float n) {
  const auto half = static_cast<int32_t>(n * 0.5f);  // truncation; both factors stay normal
  const auto rest = static_cast<int32_t>(n) - half;
  const float a = std::bit_cast<float>(static_cast<uint32_t>(half + 127) << 23);
  const float b = std::bit_cast<float>(static_cast<uint32_t>(rest + 127) << 23);
  return (m * a) * b;
}

/// e^r for x = n·ln2 + r, |r| ≤ ln2/2, with n returned in `n`: the core of Cephes' expf (a
/// degree-6 polynomial), for x within exp's finite range.
inline float exp_reduced(float x, float& n) {
  // n = round(x / ln2) with the 1.5·2²³ trick (round-to-nearest without SSE4.1's roundps).
  constexpr float kShift = 12582912.0f;
  n = (x * 1.44269504088896341f + kShift) - kShift;
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;  // ln2 split hi + lo
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  return (p * r * r + r) + 1.0f;
}

/// e^x, Cephes' expf: x = n·ln2 + r with |r| ≤ ln2/2, a degree-6 polynomial for e^r.
inline float exp(float x) {
  constexpr float kMax = 88.72283905f;   // above: +inf
  constexpr float kMin = -103.9720840f;  // below: 0
  const float clamped = x < kMin ? kMin : (x > kMax ? kMax : x);
  float n;
  const float er = exp_reduced(clamped, n);
  float y = scale_by_exp2(er, n);
  y = x > kMax ? std::numeric_limits<float>::infinity() : y;
  y = x < kMin ? 0.0f : y;
  return x != x ? x : y;  // NaN stays NaN
}

/// tanh(x), Cephes' tanhf: an odd polynomial below |x| = 0.625, 1 − 2/(e^{2|x|} + 1) above.
inline float tanh(float x) {
  const float a = x < 0 ? -x : x;
  const float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const float small = p * z * x + x;
  // e^{2|x|} for 2|x| ≤ 20 (tanh(x) rounds to 1 above ~9.01): exp's steps without its range
  // checks, and 2^n (n ≤ 29) as one exact factor, so the same bits as exp(2|x|).
  float n;
  const float er = exp_reduced(2.0f * (a < 10.0f ? a : 10.0f), n);
  const float e =
      er * std::bit_cast<float>(static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23);
  float large = 1.0f - 2.0f / (e + 1.0f);
  large = x < 0 ? -large : large;
  const float y = a < 0.625f ? small : large;
  return x != x || x == 0 ? x : y;  // NaN stays NaN; ±0 keeps its sign
}

/// σ(x) = 1/(1 + e^{−x}), evaluated on the side where e^{−|x|} ≤ 1 cannot overflow:
/// 1/(1 + e) for x ≥ 0, e/(1 + e) below; branch-free like exp, so whole arrays vectorize.
inline float sigmoid(float x) {
  const float e = exp(x < 0 ? x : -x);
  const float y = (x < 0 ? e : 1.0f) / (1.0f + e);
  return x != x ? x : y;  // NaN stays NaN
}

/// out[i] = exp(in[i]), vectorized at the CPU level in use (SSE2, AVX2 or AVX-512).
void exp_array(const float* in, float* out, int64_t n);
/// out[i] = σ(in[i]), likewise.
void sigmoid_array(const float* in, float* out, int64_t n);
/// out[i] = tanh(in[i]), likewise.
void tanh_array(const float* in, float* out, int64_t n);
/// out[i] = gy[i]·(1 − y[i]²), tanh's backward from its output y, likewise.
void tanh_backward_array(const float* gy, const float* y, float* out, int64_t n);

}  // namespace tg::vmath
