// The seeded generator: reproducible, with the distributions it promises.

#include "helpers.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <numeric>
#include <thread>
#include <utility>
#include <vector>

TEST_CASE("the same seed gives bit-identical draws", "[random]") {
  tg::manual_seed(42);
  const std::vector<float> a = tg::randn({100}).to_vector<float>();
  const std::vector<double> u = tg::rand({50}, {.dtype = tg::Dtype::Float64}).to_vector<double>();
  tg::manual_seed(42);
  CHECK(tg::randn({100}).to_vector<float>() == a);
  CHECK(tg::rand({50}, {.dtype = tg::Dtype::Float64}).to_vector<double>() == u);
  tg::manual_seed(43);
  CHECK(tg::randn({100}).to_vector<float>() != a);
}

TEST_CASE("the sequence is fixed across platforms and library versions", "[random]") {
  // xoshiro256** seeded by splitmix64(0): the first output of the reference implementation.
  tg::Generator generator(0);
  const uint64_t first = generator.next_u64();
  CHECK(first == 0x99ec5f36cb75f2b4ULL);
}

TEST_CASE("a block of draws is the same values as one draw at a time", "[random]") {
  tg::Generator one(7), block(7);
  std::vector<double> expected, drawn(9001);  // odd, so a normal pair is split across calls
  for (size_t i = 0; i < drawn.size(); ++i) expected.push_back(one.normal());
  block.normal(drawn.data(), static_cast<int64_t>(drawn.size()));
  CHECK(drawn == expected);
  for (size_t i = 0; i < drawn.size(); ++i) expected[i] = one.uniform();
  block.uniform(drawn.data(), static_cast<int64_t>(drawn.size()));
  CHECK(drawn == expected);
  // randn fills in blocks of 4096: across a block's edge it continues the same sequence.
  tg::Generator a(8), b(8);
  const std::vector<double> values =
      tg::randn({5000}, {.dtype = tg::Dtype::Float64}, a).to_vector<double>();
  for (const double v : values) REQUIRE(v == b.normal());
}

TEST_CASE("uniform and normal draws have the right moments", "[random]") {
  tg::manual_seed(7);
  const int n = 200000;
  const std::vector<double> u = tg::rand({n}, {.dtype = tg::Dtype::Float64}).to_vector<double>();
  const std::vector<double> z = tg::randn({n}, {.dtype = tg::Dtype::Float64}).to_vector<double>();
  double u_sum = 0, z_sum = 0, z_sq = 0;
  double u_min = 1, u_max = 0;
  for (double v : u) {
    u_min = std::min(u_min, v);
    u_max = std::max(u_max, v);
    u_sum += v;
  }
  CHECK(u_min >= 0.0);
  CHECK(u_max < 1.0);
  for (double v : z) {
    z_sum += v;
    z_sq += v * v;
  }
  // Standard errors: 0.29/√n ≈ 6.5e-4 for the uniform mean, 1/√n ≈ 2.2e-3 for the normal mean.
  CHECK(u_sum / n == Approx(0.5).margin(4e-3));
  CHECK(z_sum / n == Approx(0.0).margin(1e-2));
  CHECK(z_sq / n == Approx(1.0).margin(1.5e-2));
}

TEST_CASE("generator state can be saved and restored", "[random]") {
  tg::Generator generator(5);
  generator.normal();  // leaves a spare normal in the state
  const tg::Generator::State saved = generator.state();
  const double next = generator.normal();
  const uint64_t after = generator.next_u64();
  generator.set_state(saved);
  CHECK(generator.normal() == next);
  CHECK(generator.next_u64() == after);
}

TEST_CASE("below(n) stays in range", "[random]") {
  tg::Generator generator(3);
  std::vector<int> counts(7, 0);
  for (int i = 0; i < 7000; ++i) {
    const uint64_t draw = generator.below(7);
    REQUIRE(draw < 7);
    ++counts[draw];
  }
  for (int count : counts) CHECK(count > 850);  // expected 1000 each; 850 is > 5 sigma away
}

TEST_CASE("permutation holds every index once and depends only on the seed", "[random]") {
  std::vector<int64_t> order = tg::Generator(11).permutation(50);
  CHECK(order == tg::Generator(11).permutation(50));
  CHECK(order != tg::Generator(12).permutation(50));
  std::sort(order.begin(), order.end());
  std::vector<int64_t> identity(50);
  std::iota(identity.begin(), identity.end(), 0);
  CHECK(order == identity);
  CHECK(tg::Generator(1).permutation(0).empty());
}

namespace {

// Draws `count` values with `draw` on each of two threads started together.
template <class T>
std::pair<std::vector<T>, std::vector<T>> draw_on_two_threads(size_t count,
                                                              const std::function<T()>& draw) {
  std::vector<T> first(count), second(count);
  std::atomic<int> ready{0};
  const auto run = [&](std::vector<T>& out) {
    ++ready;
    while (ready.load() < 2) std::this_thread::yield();
    for (T& value : out) value = draw();
  };
  std::thread a(run, std::ref(first)), b(run, std::ref(second));
  a.join();
  b.join();
  return {std::move(first), std::move(second)};
}

// True when `part` appears in `sequence` in order (not necessarily contiguously).
template <class T>
bool in_order_within(const std::vector<T>& part, const std::vector<T>& sequence) {
  auto next = sequence.begin();
  for (const T& value : part) {
    next = std::find(next, sequence.end(), value);
    if (next == sequence.end()) return false;
    ++next;
  }
  return true;
}

}  // namespace

TEST_CASE("two threads drawing at once share the one sequence: no draw twice, none skipped",
          "[random]") {
  constexpr size_t kDraws = size_t{1} << 20;
  const auto single_threaded = [&](const auto& draw) {
    std::vector<std::invoke_result_t<decltype(draw)>> all(2 * kDraws);
    for (auto& value : all) value = draw();
    return all;
  };
  tg::manual_seed(9);
  const std::vector<uint64_t> raw =
      single_threaded([] { return tg::default_generator().next_u64(); });
  const std::vector<double> normals =
      single_threaded([] { return tg::default_generator().normal(); });

  tg::manual_seed(9);
  auto [a, b] =
      draw_on_two_threads<uint64_t>(kDraws, [] { return tg::default_generator().next_u64(); });
  CHECK(in_order_within(a, raw));  // each thread's draws come in the sequence's order
  CHECK(in_order_within(b, raw));
  std::vector<uint64_t> both = a;
  both.insert(both.end(), b.begin(), b.end());
  std::sort(both.begin(), both.end());
  std::vector<uint64_t> want = raw;
  std::sort(want.begin(), want.end());
  CHECK((both == want));  // parenthesized: a failure would print 2^21 values

  // normal() keeps the second value of each Box–Muller pair: it must not be handed out twice.
  auto [x, y] =
      draw_on_two_threads<double>(kDraws, [] { return tg::default_generator().normal(); });
  std::vector<double> normals_both = x;
  normals_both.insert(normals_both.end(), y.begin(), y.end());
  std::sort(normals_both.begin(), normals_both.end());
  std::vector<double> normals_want = normals;
  std::sort(normals_want.begin(), normals_want.end());
  CHECK((normals_both == normals_want));
}
