#include <tapegrad/error.hpp>
#include <tapegrad/random.hpp>

#include <pthread.h>

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

// The draws themselves, on a state the caller has locked.

// xoshiro256** 1.0 (Blackman and Vigna, 2018).
uint64_t draw_u64(Generator::State& state) {
  auto& s = state.words;
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

double draw_uniform(Generator::State& state) {
  return static_cast<double>(draw_u64(state) >> 11) * 0x1.0p-53;
}

double draw_normal(Generator::State& state) {
  if (state.has_spare_normal) {
    state.has_spare_normal = false;
    return state.spare_normal;
  }
  // Box–Muller on (0, 1] × [0, 1), so the logarithm is always finite.
  const double u1 = 1.0 - draw_uniform(state);
  const double u2 = draw_uniform(state);
  const double radius = std::sqrt(-2.0 * std::log(u1));
  const double angle = 2.0 * std::numbers::pi * u2;
  state.spare_normal = radius * std::sin(angle);
  state.has_spare_normal = true;
  return radius * std::cos(angle);
}

// Rejection sampling: draws in the incomplete top block would favour small values.
uint64_t draw_below(Generator::State& state, uint64_t n) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t draw = draw_u64(state);
  while (draw >= limit) draw = draw_u64(state);
  return draw % n;
}

}  // namespace

Generator::Generator(uint64_t seed) { this->seed(seed); }

Generator::Generator(const Generator& other) : state_(other.state()) {}

Generator& Generator::operator=(const Generator& other) {
  set_state(other.state());
  return *this;
}

void Generator::seed(uint64_t seed) {
  const std::lock_guard lock(mutex_);
  for (auto& word : state_.words) word = splitmix64(seed);
  state_.has_spare_normal = false;
  state_.spare_normal = 0.0;
}

uint64_t Generator::next_u64() {
  const std::lock_guard lock(mutex_);
  return draw_u64(state_);
}

double Generator::uniform() {
  const std::lock_guard lock(mutex_);
  return draw_uniform(state_);
}

double Generator::normal() {
  const std::lock_guard lock(mutex_);
  return draw_normal(state_);
}

void Generator::uniform(double* out, int64_t n) {
  const std::lock_guard lock(mutex_);
  for (int64_t i = 0; i < n; ++i) out[i] = draw_uniform(state_);
}

void Generator::normal(double* out, int64_t n) {
  const std::lock_guard lock(mutex_);
  for (int64_t i = 0; i < n; ++i) out[i] = draw_normal(state_);
}

uint64_t Generator::below(uint64_t n) {
  if (n == 0) fail("Generator.below: n must be positive, got 0");
  const std::lock_guard lock(mutex_);
  return draw_below(state_, n);
}

std::vector<int64_t> Generator::permutation(int64_t n) {
  if (n < 0) fail("Generator.permutation: n must not be negative, got {}", n);
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  const std::lock_guard lock(mutex_);  // one shuffle is one run of the sequence
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[draw_below(state_, i)]);
  return order;
}

Generator::State Generator::state() const {
  const std::lock_guard lock(mutex_);
  return state_;
}

void Generator::set_state(const State& state) {
  const std::lock_guard lock(mutex_);
  state_ = state;
}

Generator& default_generator() {
  // A fork() while another thread draws would leave the child's copy of the lock held forever,
  // so fork() waits for the draw and both processes then release the lock.
  static Generator* const generator = [] {
    static Generator instance;
    pthread_atfork([] { instance.mutex_.lock(); }, [] { instance.mutex_.unlock(); },
                   [] { instance.mutex_.unlock(); });
    return &instance;
  }();
  return *generator;
}

namespace {
// Created (and its fork handlers registered) while the program starts, single-threaded: created
// on first use instead, a fork() racing with another thread's first draw could miss the handlers
// and leave the child a lock held by a thread it does not have.
[[maybe_unused]] Generator& created_at_startup = default_generator();
}  // namespace

void manual_seed(uint64_t seed) { default_generator().seed(seed); }

}  // namespace tg
