// Factories (linspace, eye, the *_like forms) and the random draws (src/tensor/draws.cpp).

#include "helpers.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>
#include <vector>

using tg::Dtype;
using tg::Shape;
using tg::Tensor;

namespace {

double mean_of(const std::vector<double>& values) {
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

double variance_of(const std::vector<double>& values) {
  const double mean = mean_of(values);
  double sum = 0;
  for (double v : values) sum += (v - mean) * (v - mean);
  return sum / static_cast<double>(values.size());
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](float x, float y) {
           return std::isnan(x) ? std::isnan(y) : x == y;
         });
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// linspace, eye, *_like

TEST_CASE("linspace gives torch 1.13's values bit for bit", "[factories]") {
  // torch.linspace(0, 1, 10): scalar path only; 0.6666667 is end − 3·step, not 6·step.
  CHECK(tg::linspace(0, 1, 10).to_vector<float>() ==
        std::vector<float>{0.0f, 0.11111111f, 0.22222222f, 0.33333334f, 0.44444445f, 0.5555556f,
                           0.6666667f, 0.7777778f, 0.8888889f, 1.0f});
  // torch.linspace(0.3, 1.9, 16): one pair of 8-float vectors (base + k·step inside each).
  CHECK(tg::linspace(0.3, 1.9, 16).to_vector<float>() ==
        std::vector<float>{0.3f, 0.40666667f, 0.5133333f, 0.62f, 0.7266667f, 0.8333333f, 0.94f,
                           1.0466666f, 1.1533333f, 1.26f, 1.3666667f, 1.4733334f, 1.5799999f,
                           1.6866666f, 1.7933333f, 1.8999999f});
  // torch.linspace(5, -2, 19): a vector pair, then three scalar elements from the end.
  CHECK(tg::linspace(5, -2, 19).to_vector<float>() ==
        std::vector<float>{5.0f, 4.611111f, 4.2222223f, 3.8333333f, 3.4444444f, 3.0555556f,
                           2.6666665f, 2.2777777f, 1.8888888f, 1.5f, 1.111111f, 0.7222221f,
                           0.33333325f, -0.055555582f, -0.44444466f, -0.8333335f, -1.2222222f,
                           -1.6111112f, -2.0f});
  // torch.linspace(0.3, 1.9, 16, dtype=torch.float64): two pairs of 4-double vectors.
  CHECK(tg::linspace(0.3, 1.9, 16, {.dtype = Dtype::Float64}).to_vector<double>() ==
        std::vector<double>{0.3, 0.4066666666666666, 0.5133333333333333, 0.6199999999999999,
                            0.7266666666666666, 0.8333333333333333, 0.94, 1.0466666666666664,
                            1.1533333333333333, 1.26, 1.3666666666666667, 1.4733333333333332,
                            1.5799999999999998, 1.6866666666666665, 1.7933333333333332, 1.9});
  // torch.linspace(-3.7, 11.2, 9, dtype=torch.float64)
  CHECK(tg::linspace(-3.7, 11.2, 9, {.dtype = Dtype::Float64}).to_vector<double>() ==
        std::vector<double>{-3.7, -1.8375000000000004, 0.024999999999999467, 1.8874999999999993,
                            3.75, 5.6125, 7.475, 9.337499999999999, 11.2});
}

TEST_CASE("linspace matches torch 1.13 on long ranges", "[factories]") {
  // t = torch.linspace(0, 1, 100000); [t[i].item() for i in (12345, 49999, 50000, 77777)]
  const std::vector<float> f = tg::linspace(0, 1, 100000).to_vector<float>();
  CHECK(f[12345] == 0.12345123291015625f);
  CHECK(f[49999] == 0.49999499320983887f);
  CHECK(f[50000] == 0.5000050067901611f);
  CHECK(f[77777] == 0.7777777910232544f);
  // t = torch.linspace(-3.3, 17.1, 40001, dtype=torch.float64), at 12345, 20000, 20001, 39999
  const std::vector<double> d =
      tg::linspace(-3.3, 17.1, 40001, {.dtype = Dtype::Float64}).to_vector<double>();
  CHECK(d[12345] == 2.9959500000000006);
  CHECK(d[20000] == 6.9);
  CHECK(d[20001] == 6.900510000000001);
  CHECK(d[39999] == 17.09949);
  CHECK(d.front() == -3.3);
  CHECK(d.back() == 17.1);
}

TEST_CASE("linspace with 0 or 1 steps, Int64, and infinite ends", "[factories]") {
  CHECK(tg::linspace(0, 1, 0).shape() == Shape{0});
  CHECK(tg::linspace(2.5, 3, 1).to_vector<float>() == std::vector<float>{2.5f});  // start
  // torch.linspace(0, 10, 9, dtype=torch.int64): steps of 1.25 in double, truncated.
  CHECK(tg::linspace(0, 10, 9, {.dtype = Dtype::Int64}).to_vector<int64_t>() ==
        std::vector<int64_t>{0, 1, 2, 3, 5, 6, 7, 8, 10});
  // torch.linspace(1.7, 9.9, 5, dtype=torch.int64): the ends are truncated to 1 and 9 first.
  CHECK(tg::linspace(1.7, 9.9, 5, {.dtype = Dtype::Int64}).to_vector<int64_t>() ==
        std::vector<int64_t>{1, 3, 5, 7, 9});
  // torch.linspace(0, inf, 4): step = inf, and 0·inf and inf − inf are NaN.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(same_bits(tg::linspace(0, INFINITY, 4).to_vector<float>(), {nan, inf, nan, nan}));
  CHECK(tg::linspace(0, 1, 3, {.requires_grad = true}).requires_grad());
}

TEST_CASE("linspace misuse", "[factories]") {
  CHECK_TG_ERROR(tg::linspace(0, 1, -1), "linspace: number of steps must be non-negative, got -1");
  CHECK_TG_ERROR(tg::linspace(0, 1, 3, {.dtype = Dtype::Bool}), "linspace: Bool");
  CHECK_TG_ERROR(tg::linspace(0, 1e30, 3, {.dtype = Dtype::Int64}),
                 "linspace: end 1e+30 cannot be converted to Int64 without overflow");
  CHECK_TG_ERROR(tg::linspace(NAN, 1, 3, {.dtype = Dtype::Int64}), "linspace: start nan");
  CHECK_TG_ERROR(tg::linspace(0, 1, 3, {.dtype = Dtype::Int64, .requires_grad = true}),
                 "linspace: only Float32 and Float64 tensors can require grad, got Int64");
}

TEST_CASE("eye is the identity in every dtype", "[factories]") {
  CHECK(tg::eye(3).to_vector<float>() == std::vector<float>{1, 0, 0, 0, 1, 0, 0, 0, 1});
  CHECK(tg::eye(2, {.dtype = Dtype::Int64}).to_vector<int64_t>() ==
        std::vector<int64_t>{1, 0, 0, 1});
  const Tensor mask = tg::eye(2, {.dtype = Dtype::Bool});
  CHECK(mask.dtype() == Dtype::Bool);
  CHECK(std::vector<bool>(mask.data<bool>(), mask.data<bool>() + 4) ==
        std::vector<bool>{true, false, false, true});
  CHECK(tg::eye(0).shape() == Shape{0, 0});
  CHECK(tg::eye(1, {.dtype = Dtype::Float64, .requires_grad = true}).requires_grad());
  CHECK_TG_ERROR(tg::eye(-1), "eye: n must be non-negative, got -1");
  CHECK_TG_ERROR(tg::eye(2, {.dtype = Dtype::Int64, .requires_grad = true}),
                 "eye: only Float32 and Float64 tensors can require grad, got Int64");
}

TEST_CASE("the _like factories take x's shape and dtype and never its requires_grad",
          "[factories]") {
  const Tensor x = tg::ones({2, 3}, {.dtype = Dtype::Float64, .requires_grad = true});
  for (const Tensor& y : {tg::zeros_like(x), tg::ones_like(x), tg::full_like(x, 2.5),
                          tg::empty_like(x), tg::rand_like(x), tg::randn_like(x)}) {
    CHECK(y.shape() == Shape{2, 3});
    CHECK(y.dtype() == Dtype::Float64);
    CHECK_FALSE(y.requires_grad());  // torch.zeros_like(x).requires_grad is False
  }
  CHECK(tg::zeros_like(x).to_vector<double>() == std::vector<double>(6, 0.0));
  CHECK(tg::ones_like(x).to_vector<double>() == std::vector<double>(6, 1.0));
  CHECK(tg::full_like(x, 2.5).to_vector<double>() == std::vector<double>(6, 2.5));
  // With options, the dtype and requires_grad are the options'.
  const Tensor labels = tg::zeros_like(x, {.dtype = Dtype::Int64});
  CHECK(labels.dtype() == Dtype::Int64);
  CHECK(labels.to_vector<int64_t>() == std::vector<int64_t>(6, 0));
  const Tensor y = tg::ones_like(labels, {.dtype = Dtype::Float32, .requires_grad = true});
  CHECK(y.dtype() == Dtype::Float32);
  CHECK(y.requires_grad());
  CHECK(tg::full_like(labels, 7).to_vector<int64_t>() == std::vector<int64_t>(6, 7));
  CHECK(tg::empty_like(x, {.dtype = Dtype::Bool}).dtype() == Dtype::Bool);
  CHECK(tg::zeros_like(tg::zeros({0, 3})).shape() == Shape{0, 3});
}

TEST_CASE("_like misuse names the factory", "[factories]") {
  const Tensor labels = tg::zeros({2}, {.dtype = Dtype::Int64});
  CHECK_TG_ERROR(tg::full_like(labels, 2.5),
                 "full_like: value 2.5 is not an integer but the dtype is Int64");
  CHECK_TG_ERROR(tg::zeros_like(labels, {.dtype = Dtype::Int64, .requires_grad = true}),
                 "zeros_like");
  CHECK_TG_ERROR(tg::empty_like(labels, {.dtype = Dtype::Int64, .requires_grad = true}),
                 "empty_like: only Float32 and Float64 tensors can require grad, got Int64");
  CHECK_TG_ERROR(tg::rand_like(labels), "rand_like: expected a floating dtype, got Int64");
  CHECK_TG_ERROR(tg::randn_like(labels), "randn_like: expected a floating dtype, got Int64");
  CHECK_TG_ERROR(tg::zeros_like(Tensor()), "undefined tensor");
}

// ---------------------------------------------------------------------------------------------
// Draws

TEST_CASE("randn and rand keep the generator's sequence, one draw per element", "[factories]") {
  // The examples and the seeded tests depend on this sequence: element i of randn is the i-th
  // normal() of the generator converted to the dtype, and likewise rand with uniform().
  tg::manual_seed(3);
  const std::vector<float> z = tg::randn({5}).to_vector<float>();
  const std::vector<double> u = tg::rand({4}, {.dtype = Dtype::Float64}).to_vector<double>();
  tg::Generator reference(3);
  for (float v : z) CHECK(v == static_cast<float>(reference.normal()));
  for (double v : u) CHECK(v == reference.uniform());
}

TEST_CASE("every draw repeats with the seed, and a Generator matches manual_seed", "[factories]") {
  const Tensor p = tg::full({50}, 0.5, {.dtype = Dtype::Float64});
  const Tensor probs = tg::tensor({1, 2, 3, 0, 4}, {5});
  const Tensor like = tg::zeros({3, 4});
  const auto draws_from = [&](tg::Generator& g) {
    std::vector<std::vector<double>> out;
    out.push_back(tg::randn({6}, {.dtype = Dtype::Float64}, g).to_vector<double>());
    out.push_back(tg::rand({6}, {}, g).to_vector<double>());
    out.push_back(tg::randint(-5, 5, {10}, g).to_vector<double>());
    out.push_back(tg::randperm(10, g).to_vector<double>());
    out.push_back(tg::bernoulli(p, g).to_vector<double>());
    out.push_back(tg::multinomial(probs, 3, false, g).to_vector<double>());
    out.push_back(tg::multinomial(probs, 8, true, g).to_vector<double>());
    out.push_back(tg::rand_like(like, g).to_vector<double>());
    out.push_back(tg::randn_like(like, g).to_vector<double>());
    Tensor t = tg::zeros({4});
    out.push_back(t.uniform_(-2, 3, &g).to_vector<double>());
    out.push_back(t.normal_(1, 2, &g).to_vector<double>());
    return out;
  };
  const auto draws_default = [&] {
    std::vector<std::vector<double>> out;
    out.push_back(tg::randn({6}, {.dtype = Dtype::Float64}).to_vector<double>());
    out.push_back(tg::rand({6}).to_vector<double>());
    out.push_back(tg::randint(-5, 5, {10}).to_vector<double>());
    out.push_back(tg::randperm(10).to_vector<double>());
    out.push_back(tg::bernoulli(p).to_vector<double>());
    out.push_back(tg::multinomial(probs, 3).to_vector<double>());
    out.push_back(tg::multinomial(probs, 8, true).to_vector<double>());
    out.push_back(tg::rand_like(like).to_vector<double>());
    out.push_back(tg::randn_like(like).to_vector<double>());
    Tensor t = tg::zeros({4});
    out.push_back(t.uniform_(-2, 3).to_vector<double>());
    out.push_back(t.normal_(1, 2).to_vector<double>());
    return out;
  };
  tg::Generator first(2024), second(2024), other(2025);
  const auto a = draws_from(first);
  CHECK(draws_from(second) == a);
  CHECK(draws_from(other) != a);
  tg::manual_seed(2024);
  CHECK(draws_default() == a);
  tg::manual_seed(2024);
  CHECK(draws_default() == a);
}

TEST_CASE("uniform and normal draws have their distribution's moments", "[factories]") {
  // n = 100000 seeded draws; each bound is at least 6 standard errors wide: the uniform mean's
  // error is (hi − lo)/√(12n), the normal mean's std/√n, a variance's ≈ σ²·√(2/n) (normal) or
  // (hi − lo)²·0.089/√n (uniform: √(1/180 − 1/144)·(hi − lo)² ≈ 0.0745 (hi − lo)²).
  const int64_t n = 100000;
  tg::Generator g(17);
  Tensor x = tg::empty({n}, {.dtype = Dtype::Float64});
  const std::vector<double> u = x.uniform_(-2, 6, &g).to_vector<double>();  // σ = 8/√12 ≈ 2.31
  CHECK(*std::min_element(u.begin(), u.end()) >= -2);
  CHECK(*std::max_element(u.begin(), u.end()) < 6);
  CHECK(mean_of(u) == Approx(2).margin(6 * 2.31 / std::sqrt(n)));
  CHECK(variance_of(u) == Approx(64.0 / 12).margin(6 * 0.0745 * 64 / std::sqrt(n)));
  const std::vector<double> z = x.normal_(3, 0.5, &g).to_vector<double>();
  CHECK(mean_of(z) == Approx(3).margin(6 * 0.5 / std::sqrt(n)));
  CHECK(variance_of(z) == Approx(0.25).margin(6 * 0.25 * std::sqrt(2.0 / n)));
  const std::vector<double> r = tg::rand({n}, {.dtype = Dtype::Float64}, g).to_vector<double>();
  CHECK(*std::min_element(r.begin(), r.end()) >= 0);
  CHECK(*std::max_element(r.begin(), r.end()) < 1);
  CHECK(mean_of(r) == Approx(0.5).margin(6 * 0.2887 / std::sqrt(n)));
  const std::vector<double> s = tg::randn({n}, {.dtype = Dtype::Float64}, g).to_vector<double>();
  CHECK(mean_of(s) == Approx(0).margin(6 / std::sqrt(n)));
  CHECK(variance_of(s) == Approx(1).margin(6 * std::sqrt(2.0 / n)));
  // Float32 keeps the half-open interval even where rounding would reach hi.
  Tensor f = tg::empty({n});
  const std::vector<float> v = f.uniform_(1, 1.0000001, &g).to_vector<float>();
  CHECK(*std::max_element(v.begin(), v.end()) < 1.0000001f);
  CHECK(tg::zeros({3}).uniform_(2, 2).to_vector<float>() == std::vector<float>{2, 2, 2});
  CHECK(tg::zeros({3}).normal_(5, 0).to_vector<float>() == std::vector<float>{5, 5, 5});
}

TEST_CASE("randint stays in low..high-1 and hits every value evenly", "[factories]") {
  tg::Generator g(5);
  const std::vector<int64_t> draws = tg::randint(-3, 4, {70000}, g).to_vector<int64_t>();
  CHECK(*std::min_element(draws.begin(), draws.end()) == -3);
  CHECK(*std::max_element(draws.begin(), draws.end()) == 3);
  std::vector<int> counts(7, 0);
  for (int64_t v : draws) ++counts[v + 3];
  // Each count is Binomial(70000, 1/7): mean 10000, σ = √(70000·(1/7)·(6/7)) ≈ 92.6.
  for (int count : counts) CHECK(std::abs(count - 10000) < 6 * 92.6);
  const Tensor t = tg::randint(0, 10, {2, 3});
  CHECK(t.dtype() == Dtype::Int64);
  CHECK(t.shape() == Shape{2, 3});
  const Tensor f = tg::randint(0, 3, {4}, {.dtype = Dtype::Float32, .requires_grad = true});
  CHECK(f.requires_grad());
  for (float v : f.to_vector<float>()) CHECK((v == 0 || v == 1 || v == 2));
  // The whole Int64 range: high − low does not fit int64_t.
  const int64_t lowest = std::numeric_limits<int64_t>::min();
  const int64_t highest = std::numeric_limits<int64_t>::max();
  CHECK(tg::randint(lowest, highest, {8}, g).numel() == 8);
  CHECK(tg::randint(7, 8, {3}, g).to_vector<int64_t>() == std::vector<int64_t>{7, 7, 7});
  CHECK(tg::randint(0, 2, {0, 3}).shape() == Shape{0, 3});
}

TEST_CASE("randperm holds every index once", "[factories]") {
  tg::Generator g(9);
  const Tensor perm = tg::randperm(1000, g);
  CHECK(perm.dtype() == Dtype::Int64);
  std::vector<int64_t> sorted = perm.to_vector<int64_t>();
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> expected(1000);
  std::iota(expected.begin(), expected.end(), 0);
  CHECK(sorted == expected);
  CHECK(perm.to_vector<int64_t>() != expected);  // 1/1000! for a seed to give the identity
  CHECK(tg::randperm(0).shape() == Shape{0});
  CHECK(tg::randperm(1).to_vector<int64_t>() == std::vector<int64_t>{0});
}

TEST_CASE("bernoulli: p = 0 and 1 are exact, p = 0.3 has mean 0.3", "[factories]") {
  tg::Generator g(11);
  const Tensor edges = tg::tensor({0, 1, 0, 1}, {2, 2});
  for (int i = 0; i < 100; ++i) {
    CHECK(tg::bernoulli(edges, g).to_vector<float>() == std::vector<float>{0, 1, 0, 1});
  }
  const Tensor p = tg::full({100000}, 0.3, {.dtype = Dtype::Float64});
  const Tensor y = tg::bernoulli(p, g);
  CHECK(y.dtype() == Dtype::Float64);
  const std::vector<double> values = y.to_vector<double>();
  CHECK(std::all_of(values.begin(), values.end(), [](double v) { return v == 0 || v == 1; }));
  // σ of the mean: √(0.3·0.7/n) ≈ 1.45e-3.
  CHECK(mean_of(values) == Approx(0.3).margin(6 * 1.45e-3));
  CHECK(tg::bernoulli(tg::zeros({0, 3})).shape() == Shape{0, 3});
}

TEST_CASE("bernoulli's result requires grad when p does, with a zero gradient", "[factories]") {
  // torch.bernoulli(p).requires_grad is True for p requiring grad; p.grad is zeros.
  Tensor p = tg::tensor({0.2, 0.9}, {2}, {.dtype = Dtype::Float64, .requires_grad = true});
  Tensor y = tg::bernoulli(p);
  CHECK(y.requires_grad());
  (y * 3.0).sum().backward();
  CHECK(p.grad().to_vector<double>() == std::vector<double>{0, 0});
  tg::NoGradGuard no_grad;
  CHECK_FALSE(tg::bernoulli(p).requires_grad());
}

TEST_CASE("multinomial with replacement follows the weights, never a zero one", "[factories]") {
  tg::Generator g(13);
  const Tensor probs = tg::tensor({0, 1, 0, 3, 0}, {5});  // P(1) = 0.25, P(3) = 0.75
  const std::vector<int64_t> draws = tg::multinomial(probs, 40000, true, g).to_vector<int64_t>();
  const auto ones = std::count(draws.begin(), draws.end(), 1);
  CHECK(ones + std::count(draws.begin(), draws.end(), 3) == 40000);  // only categories 1 and 3
  // Binomial(40000, 0.25): σ = √(40000·0.25·0.75) ≈ 86.6.
  CHECK(std::abs(ones - 10000) < 6 * 86.6);
  // Rows are drawn separately; the last row's only positive weight is category 0.
  const Tensor rows = tg::tensor({1, 1, 0, 0, 0, 5}, {2, 3}, {.dtype = Dtype::Float64});
  const Tensor out = tg::multinomial(rows, 6, true, g);
  CHECK(out.shape() == Shape{2, 6});
  const std::vector<int64_t> picks = out.to_vector<int64_t>();
  for (int i = 0; i < 6; ++i) CHECK(picks[i] < 2);
  for (int i = 6; i < 12; ++i) CHECK(picks[i] == 2);
  CHECK(tg::multinomial(tg::ones({0, 3}), 2).shape() == Shape{0, 2});
}

TEST_CASE("multinomial without replacement never repeats and skips zero weights", "[factories]") {
  tg::Generator g(15);
  const Tensor probs = tg::tensor({1, 0, 2, 3, 0, 4}, {6});
  int first_is_5 = 0, wrong = 0;
  for (int trial = 0; trial < 10000; ++trial) {
    const std::vector<int64_t> pick = tg::multinomial(probs, 4, false, g).to_vector<int64_t>();
    const std::set<int64_t> distinct(pick.begin(), pick.end());
    wrong += distinct != std::set<int64_t>{0, 2, 3, 5};  // every nonzero category, once each
    first_is_5 += pick[0] == 5;
  }
  CHECK(wrong == 0);
  // The first pick is category 5 with probability 4/10: σ = √(10000·0.4·0.6) ≈ 49.
  CHECK(std::abs(first_is_5 - 4000) < 6 * 49);
  const Tensor two_rows = tg::tensor({0, 1, 1, 1, 1, 0}, {2, 3});
  const Tensor out = tg::multinomial(two_rows, 2, false, g);
  CHECK(out.shape() == Shape{2, 2});
  CHECK(out.dtype() == Dtype::Int64);
  const std::vector<int64_t> v = out.to_vector<int64_t>();
  CHECK(std::set<int64_t>{v[0], v[1]} == std::set<int64_t>{1, 2});
  CHECK(std::set<int64_t>{v[2], v[3]} == std::set<int64_t>{0, 1});
}

TEST_CASE("draws reject bad arguments, naming the op and the value", "[factories]") {
  CHECK_TG_ERROR(tg::randint(5, 5, {2}), "randint: expected low < high, got low = 5 and high = 5");
  CHECK_TG_ERROR(tg::randint(5, 3, {2}), "randint: expected low < high, got low = 5 and high = 3");
  CHECK_TG_ERROR(tg::randint(0, 3, {2}, {.dtype = Dtype::Bool}),
                 "randint: [0, 3) is out of bounds for Bool");
  CHECK_TG_ERROR(tg::randint(0, (1 << 24) + 2, {2}, {.dtype = Dtype::Float32}),
                 "randint: [0, 16777218) is out of bounds for Float32");
  CHECK_TG_ERROR(tg::randint(0, 3, {2}, {.dtype = Dtype::Int64, .requires_grad = true}),
                 "randint: only Float32 and Float64 tensors can require grad, got Int64");
  CHECK_TG_ERROR(tg::randint(0, 3, {-2}), "negative dimension");
  CHECK_TG_ERROR(tg::randperm(-1), "randperm: n must be non-negative, got -1");
  CHECK_TG_ERROR(tg::randn({2}, {.dtype = Dtype::Bool}), "randn: expected a floating dtype");
  CHECK_TG_ERROR(tg::rand({2}, {.dtype = Dtype::Int64}), "rand: expected a floating dtype");
  CHECK_TG_ERROR(tg::bernoulli(tg::tensor({0.5, 1.5}, {2})),
                 "bernoulli: expected every p in [0, 1], got 1.5 at flat index 1 of shape [2]");
  CHECK_TG_ERROR(tg::bernoulli(tg::tensor({-0.5}, {1})), "got -0.5 at flat index 0");
  CHECK_TG_ERROR(tg::bernoulli(tg::tensor({NAN}, {1})), "got nan at flat index 0");
  CHECK_TG_ERROR(tg::bernoulli(tg::zeros({2}, {.dtype = Dtype::Int64})),
                 "bernoulli: expected a Float32 or Float64 tensor, got Int64");
}

TEST_CASE("multinomial rejects what torch.multinomial rejects", "[factories]") {
  const Tensor probs = tg::tensor({0, 1, 0, 2}, {4});
  CHECK_TG_ERROR(tg::multinomial(probs, 5),
                 "multinomial: cannot sample n > probs.size(-1) samples without replacement, "
                 "got n = 5 for 4 categories");
  CHECK_TG_ERROR(tg::multinomial(probs, 3),
                 "multinomial: cannot sample 3 categories without replacement from row 0, which "
                 "has only 2 of nonzero probability");
  CHECK_TG_ERROR(tg::multinomial(probs, 0), "multinomial: cannot sample n <= 0 samples, got n = 0");
  CHECK_TG_ERROR(tg::multinomial(probs, -1, true), "got n = -1");
  CHECK_TG_ERROR(tg::multinomial(tg::zeros({2}), 1, true),
                 "multinomial: invalid distribution: the probabilities of row 0 sum to 0");
  CHECK_TG_ERROR(tg::multinomial(tg::tensor({1, 1, 0, 0}, {2, 2}), 1),
                 "the probabilities of row 1 sum to 0");
  CHECK_TG_ERROR(tg::multinomial(tg::tensor({-1, 1}, {2}), 1, true),
                 "multinomial: probabilities must be finite and nonnegative, got -1 in row 0");
  CHECK_TG_ERROR(tg::multinomial(tg::tensor({1, NAN}, {2}), 1), "got nan in row 0");
  CHECK_TG_ERROR(tg::multinomial(tg::tensor({1, INFINITY}, {2}), 1), "got inf in row 0");
  CHECK_TG_ERROR(tg::multinomial(tg::ones({2}, {.dtype = Dtype::Int64}), 1),
                 "multinomial: expected a Float32 or Float64 tensor, got Int64");
  CHECK_TG_ERROR(tg::multinomial(tg::ones({2, 2, 2}), 1),
                 "multinomial: probs must be 1-D or 2-D, got shape [2, 2, 2]");
  CHECK_TG_ERROR(tg::multinomial(tg::ones({}), 1), "probs must be 1-D or 2-D, got shape []");
  CHECK_TG_ERROR(tg::multinomial(tg::ones({3, 0}), 2, true), "row 0 sum to 0");
}

TEST_CASE("uniform_ and normal_ reject bad bounds and dtypes", "[factories]") {
  Tensor x = tg::zeros({3});
  const int64_t version = x.version();
  CHECK_TG_ERROR(x.uniform_(2, 1), "uniform_: expected lo <= hi, got lo = 2 and hi = 1");
  CHECK_TG_ERROR(x.uniform_(0, INFINITY),
                 "uniform_: expected finite bounds that Float32 holds, got lo = 0 and hi = inf");
  CHECK_TG_ERROR(x.uniform_(NAN, 1), "got lo = nan and hi = 1");
  CHECK_TG_ERROR(x.uniform_(-1e39, 1e39), "finite bounds that Float32 holds");
  Tensor wide = tg::zeros({3}, {.dtype = Dtype::Float64});
  CHECK_TG_ERROR(wide.uniform_(-1e308, 1e308), "uniform_: hi - lo overflows");
  CHECK_TG_ERROR(x.normal_(0, -1), "normal_: expected std >= 0, got std = -1");
  CHECK_TG_ERROR(x.normal_(0, NAN), "normal_: expected std >= 0, got std = nan");
  CHECK_TG_ERROR(x.normal_(INFINITY, 1),
                 "normal_: expected a finite mean and std that Float32 holds, got mean = inf");
  Tensor labels = tg::zeros({2}, {.dtype = Dtype::Int64});
  CHECK_TG_ERROR(labels.uniform_(), "uniform_: expected a Float32 or Float64 tensor, got Int64");
  CHECK_TG_ERROR(labels.normal_(), "normal_: expected a Float32 or Float64 tensor, got Int64");
  CHECK(x.to_vector<float>() == std::vector<float>{0, 0, 0});  // nothing was written
  CHECK(x.version() == version);
}

TEST_CASE("uniform_ and normal_ write through views to the base", "[factories]") {
  Tensor base = tg::zeros({2, 3});
  Tensor alias = base.detach();  // shares storage, as in PyTorch
  const int64_t version = base.version();
  tg::Generator g(21);
  alias.uniform_(5, 6, &g);
  CHECK(base.to_vector<float>() == alias.to_vector<float>());
  for (float v : base.to_vector<float>()) CHECK((v >= 5 && v < 6));
  Tensor flat = base.reshape({6});  // a view of the same storage
  flat.normal_(-10, 0.1, &g);
  CHECK(base.to_vector<float>() == flat.to_vector<float>());
  for (float v : base.to_vector<float>()) CHECK(v < -9);  // > 9 σ below 0 and above -10
  CHECK(base.version() == version + 2);                   // one write each
}

TEST_CASE("in-place draws follow the in-place rules", "[factories]") {
  Tensor w = tg::zeros({3}, {.requires_grad = true});
  const int64_t version = w.version();
  CHECK_TG_ERROR(w.uniform_(), "uniform_: a leaf tensor that requires grad");
  CHECK_TG_ERROR(w.normal_(), "normal_: a leaf tensor that requires grad");
  {
    tg::NoGradGuard no_grad;  // how initialization writes parameters
    w.uniform_(-1, 1);
    w.normal_();
  }
  CHECK(w.requires_grad());
  CHECK(w.version() == version + 2);
  // A tensor that mul saved for backward and that a draw then overwrote.
  Tensor a = tg::ones({2}, {.dtype = Dtype::Float64, .requires_grad = true});
  Tensor b = tg::ones({2}, {.dtype = Dtype::Float64});
  Tensor y = (a * b).sum();
  b.uniform_();
  CHECK_TG_ERROR(y.backward(), "mul");
}
