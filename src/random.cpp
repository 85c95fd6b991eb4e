#include <tapegrad/error.hpp>
#include <tapegrad/random.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>

namespace tg {
namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Generator::Generator(uint64_t seed) { this->seed(seed); }

void Generator::seed(uint64_t seed) {
  for (auto& word : state_.words) word = splitmix64(seed);
  state_.has_spare_normal = false;
  state_.spare_normal = 0.0;
}

// xoshiro256** 1.0 (Blackman and Vigna, 2018).
uint64_t Generator::next_u64() {
  auto& s = state_.words;
  const uint64_t result = rotl(s[1] * 5, 7) * 9;
  const uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double Generator::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double Generator::normal() {
  if (state_.has_spare_normal) {
    state_.has_spare_normal = false;
    return state_.spare_normal;
  }
  // Box–Muller on (0, 1] × [0, 1), so the logarithm is always finite.
  const double u1 = 1.0 - uniform();
  const double u2 = uniform();
  const double radius = std::sqrt(-2.0 * std::log(u1));
  const double angle = 2.0 * std::numbers::pi * u2;
  state_.spare_normal = radius * std::sin(angle);
  state_.has_spare_normal = true;
  return radius * std::cos(angle);
}

uint64_t Generator::below(uint64_t n) {
  if (n == 0) fail("Generator.below: n must be positive, got 0");
  // Rejection sampling: draws in the incomplete top block would favour small values.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t draw = next_u64();
  while (draw >= limit) draw = next_u64();
  return draw % n;
}

std::vector<int64_t> Generator::permutation(int64_t n) {
  if (n < 0) fail("Generator.permutation: n must not be negative, got {}", n);
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[below(i)]);
  return order;
}

Generator::State Generator::state() const { return state_; }

void Generator::set_state(const State& state) { state_ = state; }

Generator& default_generator() {
  static Generator generator;
  return generator;
}

void manual_seed(uint64_t seed) { default_generator().seed(seed); }

}  // namespace tg
