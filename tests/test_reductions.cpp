// Reductions: max/min along a dim (values and indices), var, std, norm, logsumexp, cumsum, prod,
// and sum/mean of Bool and Int64 tensors: values and gradients against PyTorch 1.13
// (tests/fixtures/tensor_api.txt), gradcheck, the conventions at ties and kinks, misuse, the
// version counter, zero-size inputs, the method forms, and the full sum's summation order.
// Expected values without a fixture are derived by hand beside each check (and agree with
// torch 1.13.1).

#include "cpu_levels.hpp"
#include "helpers.hpp"
#include "tensor_api_fixture.hpp"

#include <bit>
#include <cmath>
#include <functional>
#include <limits>

using tg::Dtype;
using tg::Shape;
using tg::Tensor;
using tg::testing::FixtureCase;
using tg::testing::positive64;
using tg::testing::randn64;
using D = std::vector<double>;
using I = std::vector<int64_t>;
using Inputs = std::map<std::string, Tensor>;

using Row = tg::testing::GradcheckRow;
using tg::testing::bools;
using tg::testing::check_rows;
using tg::testing::kTight;
using tg::testing::leaf64;

namespace {

const double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

// The gradient of sum(f(x)) at x.
D gradient_of(const std::function<Tensor(const Tensor&)>& f, const Tensor& x) {
  f(x).sum().backward();
  return x.grad().to_vector<double>();
}

int64_t int_option(const FixtureCase& c, const char* key) {
  return static_cast<int64_t>(c.option(key, 0));
}

// The fixture's max/min case: values as the output, the indices checked here (the fixture labels
// them "indices").
std::vector<Tensor> extreme_case(const FixtureCase& c, const Inputs& in, bool is_max) {
  const int64_t dim = int_option(c, "dim");
  const bool keepdim = int_option(c, "keepdim") != 0;
  const tg::ValuesIndices r =
      is_max ? tg::max(in.at("x"), dim, keepdim) : tg::min(in.at("x"), dim, keepdim);
  CHECK(r.indices.dtype() == Dtype::Int64);
  CHECK(r.indices.to_vector<int64_t>() == c.at("indices").to_vector<int64_t>());
  return {r.values};
}

// var or std: over all elements when the case has no dim.
std::vector<Tensor> spread_case(const FixtureCase& c, const Inputs& in, bool is_std) {
  const Tensor& x = in.at("x");
  const int64_t correction = int_option(c, "correction");
  if (!c.options.count("dim"))
    return {is_std ? tg::std(x.flatten(), 0, false, correction)
                   : tg::var(x.flatten(), 0, false, correction)};
  const int64_t dim = int_option(c, "dim");
  const bool keepdim = int_option(c, "keepdim") != 0;
  return {is_std ? tg::std(x, dim, keepdim, correction) : tg::var(x, dim, keepdim, correction)};
}

}  // namespace

TEST_CASE("reductions match PyTorch 1.13 on the tensor_api fixture", "[reductions]") {
  using tg::testing::TensorApiOp;
  const std::map<std::string, TensorApiOp> ops = {
      {"max", [](const FixtureCase& c, const Inputs& in) { return extreme_case(c, in, true); }},
      {"min", [](const FixtureCase& c, const Inputs& in) { return extreme_case(c, in, false); }},
      {"var", [](const FixtureCase& c, const Inputs& in) { return spread_case(c, in, false); }},
      {"std", [](const FixtureCase& c, const Inputs& in) { return spread_case(c, in, true); }},
      {"norm",
       [](const FixtureCase& c, const Inputs& in) -> std::vector<Tensor> {
         const double p = c.option("p", 2);
         if (!c.options.count("dim")) return {tg::norm(in.at("x"), p)};
         return {tg::norm(in.at("x"), p, int_option(c, "dim"), int_option(c, "keepdim") != 0)};
       }},
      {"logsumexp",
       [](const FixtureCase& c, const Inputs& in) -> std::vector<Tensor> {
         return {tg::logsumexp(in.at("x"), int_option(c, "dim"), int_option(c, "keepdim") != 0)};
       }},
      {"cumsum",
       [](const FixtureCase& c, const Inputs& in) -> std::vector<Tensor> {
         return {tg::cumsum(in.at("x"), int_option(c, "dim"))};
       }},
      {"prod",
       [](const FixtureCase& c, const Inputs& in) -> std::vector<Tensor> {
         return {tg::prod(in.at("x"), int_option(c, "dim"), int_option(c, "keepdim") != 0)};
       }},
  };
  const std::set<std::string> seen = tg::testing::check_tensor_api_cases(ops);
  CHECK(seen ==
        std::set<std::string>{"max", "min", "var", "std", "norm", "logsumexp", "cumsum", "prod"});
}

TEST_CASE("gradcheck: max, min, var, std and logsumexp along dims", "[reductions]") {
  tg::manual_seed(31);
  std::vector<Row> rows;
  for (int64_t dim : {0, 1, -1}) {
    for (bool keep : {false, true}) {
      const std::string at = fmt::format(" dim {} keepdim {}", dim, keep);
      rows.push_back({"max" + at,
                      [=](const auto& in) { return tg::max(in[0], dim, keep).values; },
                      {randn64({3, 4})}});
      rows.push_back({"min" + at,
                      [=](const auto& in) { return tg::min(in[0], dim, keep).values; },
                      {randn64({2, 3, 4})}});
      rows.push_back({"var" + at,
                      [=](const auto& in) { return tg::var(in[0], dim, keep); },
                      {randn64({3, 4})}});
      rows.push_back({"std" + at,
                      [=](const auto& in) { return tg::std(in[0], dim, keep, 0); },
                      {randn64({2, 3, 4})}});
      rows.push_back({"logsumexp" + at,
                      [=](const auto& in) { return tg::logsumexp(in[0], dim, keep); },
                      {randn64({3, 4})}});
    }
  }
  rows.push_back({"var all", [](const auto& in) { return tg::var(in[0]); }, {randn64({3, 4})}});
  rows.push_back({"var all correction 0",
                  [](const auto& in) { return tg::var(in[0].flatten(), 0, false, 0); },
                  {randn64({5})}});
  rows.push_back({"std all", [](const auto& in) { return tg::std(in[0]); }, {randn64({2, 3})}});
  rows.push_back(
      {"max 0-d", [](const auto& in) { return tg::max(in[0], 0).values; }, {randn64({})}});
  check_rows(rows);
}

TEST_CASE("gradcheck: norm, cumsum and prod", "[reductions]") {
  tg::manual_seed(32);
  std::vector<Row> rows;
  for (double p : {2.0, 1.0, 3.0, 1.5, 0.5, kInf}) {
    rows.push_back({fmt::format("norm p {}", p),
                    [=](const auto& in) { return tg::norm(in[0], p); },
                    {positive64({3, 4}) - 1.5}});
    rows.push_back({fmt::format("norm p {} dim 1", p),
                    [=](const auto& in) { return tg::norm(in[0], p, 1, false); },
                    {positive64({2, 3, 4}) - 1.5}});
  }
  for (int64_t dim : {0, 1, -1}) {
    rows.push_back({fmt::format("cumsum dim {}", dim),
                    [=](const auto& in) { return tg::cumsum(in[0], dim); },
                    {randn64({3, 4})}});
    rows.push_back({fmt::format("prod dim {}", dim),
                    [=](const auto& in) { return tg::prod(in[0], dim, dim == 0); },
                    {randn64({2, 3, 4})}});
  }
  rows.push_back({"prod all", [](const auto& in) { return tg::prod(in[0]); }, {randn64({2, 3})}});
  // The backward of cumsum is a recorded reverse cumsum: its own gradient is checked through a
  // gradient that depends on the input (x · reverse_cumsum(x) via backward of cumsum(x)²).
  rows.push_back({"cumsum of cumsum",
                  [](const auto& in) { return tg::cumsum(tg::cumsum(in[0], 0), 0); },
                  {randn64({5})}});
  check_rows(rows);
}

TEST_CASE("max and min along a dim take the first of ties and give it the whole gradient",
          "[reductions]") {
  // Row 0 = [1, 3, 3]: the maximum 3 first appears at 1; row 1 = [2, 2, 1]: 2 at 0. The whole
  // gradient goes there (torch 1.13: MaxBackward0 scatters, it does not split).
  Tensor x = leaf64({1, 3, 3, 2, 2, 1}, {2, 3});
  const tg::ValuesIndices r = tg::max(x, 1);
  CHECK(r.values.to_vector<double>() == D{3, 2});
  CHECK(r.indices.to_vector<int64_t>() == I{1, 0});
  r.values.sum().backward();
  CHECK(x.grad().to_vector<double>() == D{0, 1, 0, 1, 0, 0});
  // min of row 0 is 1 at 0; of row 1 it is 1 at 2.
  Tensor y = leaf64({1, 1, 3, 2, 1, 1}, {2, 3});
  const tg::ValuesIndices m = tg::min(y, 1, true);
  CHECK(m.values.shape() == Shape{2, 1});
  CHECK(m.indices.to_vector<int64_t>() == I{0, 1});
  (m.values * tg::tensor({2, 3}, {2, 1}, {.dtype = Dtype::Float64})).sum().backward();
  CHECK(y.grad().to_vector<double>() == D{2, 0, 0, 0, 3, 0});
}

TEST_CASE("max and min along a dim return the first NaN and route the gradient to it",
          "[reductions]") {
  // torch.tensor([1., nan, 3., nan]).max(0) is (nan, 1); the gradient is [0, 1, 0, 0].
  Tensor x = leaf64({1, kNaN, 3, kNaN}, {4});
  const tg::ValuesIndices r = tg::max(x, 0);
  CHECK(std::isnan(r.values.item<double>()));
  CHECK(r.indices.item<int64_t>() == 1);
  r.values.backward();
  CHECK(x.grad().to_vector<double>() == D{0, 1, 0, 0});
  CHECK(tg::min(x.detach(), 0).indices.item<int64_t>() == 1);
  CHECK(tg::argmax(x.detach(), 0).item<int64_t>() == 1);
}

TEST_CASE("max and min along a non-last dim: first of ties, first NaN, per column",
          "[reductions]") {
  // Columns of [[1, nan, 2, 5], [3, 1, 2, nan], [3, nan, 0, 1]] along dim 0 (torch 1.13):
  // max values [3, nan, 2, nan], indices [1, 0, 0, 1]; min values [1, nan, 0, nan], [0, 0, 2, 1].
  const Tensor x = leaf64({1, kNaN, 2, 5, 3, 1, 2, kNaN, 3, kNaN, 0, 1}, {3, 4});
  const tg::ValuesIndices most = tg::max(x, 0), least = tg::min(x, 0);
  CHECK(most.indices.to_vector<int64_t>() == std::vector<int64_t>{1, 0, 0, 1});
  CHECK(least.indices.to_vector<int64_t>() == std::vector<int64_t>{0, 0, 2, 1});
  const std::vector<double> top = most.values.to_vector<double>();
  CHECK(top[0] == 3);
  CHECK(std::isnan(top[1]));
  CHECK(top[2] == 2);
  CHECK(std::isnan(top[3]));
  CHECK(least.values.to_vector<double>()[2] == 0);
}

TEST_CASE("max and min along a dim keep the dtype and handle 0-d tensors", "[reductions]") {
  // Int64 [3, 1, 3]: max 3 at 0 (first of ties); Bool [false, true, true]: true at 1 (torch).
  const tg::ValuesIndices i = tg::max(tg::tensor({3, 1, 3}, {3}, {.dtype = Dtype::Int64}), 0);
  CHECK(i.values.dtype() == Dtype::Int64);
  CHECK(i.values.item<int64_t>() == 3);
  CHECK(i.indices.item<int64_t>() == 0);
  const tg::ValuesIndices b = tg::max(bools({0, 1, 1}, {3}), 0);
  CHECK(b.values.dtype() == Dtype::Bool);
  CHECK(b.indices.item<int64_t>() == 1);
  // torch.tensor(5.).max(-1, keepdim=True) is (5., 0), both 0-d.
  const tg::ValuesIndices s = tg::max(tg::full({}, 5.0), -1, true);
  CHECK(s.values.shape() == Shape{});
  CHECK(s.values.item<float>() == 5);
  CHECK(s.indices.item<int64_t>() == 0);
}

TEST_CASE("std of a constant has gradient 0, var and std with correction >= N follow torch",
          "[reductions]") {
  // std([2, 2, 2]) = 0, and PyTorch's std_backward masks its 1/(2σ) to 0 there.
  Tensor x = leaf64({2, 2, 2}, {3});
  CHECK(gradient_of([](const Tensor& t) { return tg::std(t); }, x) == D{0, 0, 0});
  Tensor rows = leaf64({2, 2, 1, 3}, {2, 2});
  // Row 1 = [1, 3]: σ = √2 and dσ/dx = (x − x̄)/((N − 1)σ) = ∓1/√2.
  const D g_rows = gradient_of([](const Tensor& t) { return tg::std(t, 1, false); }, rows);
  CHECK(g_rows[0] == 0);
  CHECK(g_rows[1] == 0);
  CHECK(g_rows[2] == Approx(-std::sqrt(0.5)));
  CHECK(g_rows[3] == Approx(std::sqrt(0.5)));
  // x = [1, 2, 4], x̄ = 7/3, Σ(x − x̄)² = 14/3: var = 14/3 / max(0, 3 − c), so c = 2 gives 14/3,
  // c ≥ 3 gives 14/3 / 0 = inf; the gradient is 2(x − x̄)/(3 − c), for c = 4 −2(x − x̄).
  const Tensor v = tg::tensor({1, 2, 4}, {3}, {.dtype = Dtype::Float64});
  CHECK(tg::var(v, 0, false, 2).item<double>() == Approx(14.0 / 3));
  CHECK(tg::var(v, 0, false, 3).item<double>() == kInf);
  Tensor w = leaf64({1, 2, 4}, {3});
  const D g = gradient_of([](const Tensor& t) { return tg::var(t, 0, false, 4); }, w);
  CHECK(g[0] == Approx(8.0 / 3));
  CHECK(g[2] == Approx(-10.0 / 3));
  CHECK(tg::std(v, 0, false, 4).item<double>() == kInf);
  // Along a dim: [[1, 2, 4], [1, 1, 1]] with c = 4: inf, and 0/0 = NaN for the constant row;
  // one element with c = 1: 0/0 = NaN.
  const D along = tg::var(tg::tensor({1, 2, 4, 1, 1, 1}, {2, 3}), 1, false, 4).to_vector<double>();
  CHECK(along[0] == kInf);
  CHECK(std::isnan(along[1]));
  CHECK(std::isnan(tg::var(tg::ones({1})).item<float>()));
  CHECK(tg::var(tg::full({}, 3.0), 0, false, 0).item<float>() == 0);
}

TEST_CASE("norm's gradient at 0 is 0 and p = inf shares it among ties", "[reductions]") {
  for (double p : {1.0, 2.0, 3.0, 0.5, kInf}) {
    INFO("p = " << p);
    Tensor x = leaf64({0, 0, 0}, {3});
    CHECK(tg::norm(x, p).item<double>() == 0);
    CHECK(gradient_of([p](const Tensor& t) { return tg::norm(t, p); }, x) == D{0, 0, 0});
  }
  // x = [0, 1, −2]: ‖x‖₁ = 3 with gradient sign(x) = [0, 1, −1]; ‖x‖₂ = √5 with x/√5;
  // ‖x‖₃ = 9^(1/3) with x|x|/‖x‖₃² (0 at the zero); ‖x‖_∞ = 2 at −2 alone: [0, 0, −1].
  Tensor a = leaf64({0, 1, -2}, {3});
  CHECK(gradient_of([](const Tensor& t) { return tg::norm(t, 1); }, a) == D{0, 1, -1});
  Tensor b = leaf64({0, 1, -2}, {3});
  const D g3 = gradient_of([](const Tensor& t) { return tg::norm(t, 3); }, b);
  CHECK(g3[0] == 0);
  CHECK(g3[2] == Approx(-4 / std::pow(9.0, 2.0 / 3)));
  // ‖x‖_½ = (1 + √2)², gradient sgn(x)|x|^(−½)‖x‖^½ with 0 at the zero: [0, 1 + √2, −(1 + √2)/√2].
  Tensor h = leaf64({0, 1, -2}, {3});
  const D g_half = gradient_of([](const Tensor& t) { return tg::norm(t, 0.5); }, h);
  CHECK(g_half[0] == 0);
  CHECK(g_half[1] == Approx(1 + std::sqrt(2.0)));
  CHECK(g_half[2] == Approx(-(1 + std::sqrt(2.0)) / std::sqrt(2.0)));
  Tensor c = leaf64({0, 1, -2}, {3});
  CHECK(gradient_of([](const Tensor& t) { return tg::norm(t, kInf); }, c) == D{0, 0, -1});
  // [1, −3, 3]: both ±3 attain the max; each gets half, with its sign (torch: [0, −0.5, 0.5]).
  Tensor d = leaf64({1, -3, 3}, {3});
  CHECK(gradient_of([](const Tensor& t) { return tg::norm(t, kInf); }, d) == D{0, -0.5, 0.5});
  // p = 0 counts the nonzeros; p = −inf is min |x|.
  CHECK(tg::norm(tg::tensor({0, 1, -2}, {3}), 0).item<float>() == 2);
  CHECK(tg::norm(tg::tensor({4, -1, 2}, {3}), -kInf).item<float>() == 1);
}

TEST_CASE("prod's gradient is the product of the others, exact with zeros", "[reductions]") {
  // [1, 0, 2]: Π = 0; ∂/∂x₀ = 0·2 = 0, ∂/∂x₁ = 1·2 = 2, ∂/∂x₂ = 1·0 = 0.
  Tensor x = leaf64({1, 0, 2}, {3});
  CHECK(gradient_of([](const Tensor& t) { return tg::prod(t); }, x) == D{0, 2, 0});
  // Rows [1, 0, 2] (one zero), [0, 0, 3] (two: every product of others holds a zero) and
  // [1, 2, 3] (none: 6/x).
  Tensor m = leaf64({1, 0, 2, 0, 0, 3, 1, 2, 3}, {3, 3});
  CHECK(tg::prod(m.detach(), 1).to_vector<double>() == D{0, 0, 6});
  CHECK(gradient_of([](const Tensor& t) { return tg::prod(t, 1); }, m) ==
        D{0, 2, 0, 0, 0, 0, 6, 3, 2});
}

TEST_CASE("logsumexp of infinite lines follows torch", "[reductions]") {
  // An all −inf line is −inf (log 0), a line with +inf is +inf, a NaN stays NaN.
  const D y =
      tg::logsumexp(tg::tensor({-kInf, -kInf, kInf, 1, kNaN, 1}, {3, 2}), 1).to_vector<double>();
  CHECK(y[0] == -kInf);
  CHECK(y[1] == kInf);
  CHECK(std::isnan(y[2]));
  // Int64 input gives Float32, as torch: log(e + e²) = 1 + log(1 + e).
  const Tensor i = tg::logsumexp(tg::tensor({1, 2}, {2}, {.dtype = Dtype::Int64}), 0);
  CHECK(i.dtype() == Dtype::Float32);
  CHECK(i.item<float>() == Approx(1 + std::log1p(std::exp(1.0))));
}

TEST_CASE("sum of a Bool tensor is Int64, sum and mean of Int64 follow torch", "[reductions]") {
  const Tensor b = bools({1, 0, 1, 1}, {2, 2});
  CHECK(tg::sum(b).dtype() == Dtype::Int64);
  CHECK(tg::sum(b).item<int64_t>() == 3);
  CHECK(tg::sum(b, 0).to_vector<int64_t>() == I{2, 1});
  CHECK(tg::sum(b, 1, true).shape() == Shape{2, 1});
  CHECK(tg::sum(b, 1, true).dtype() == Dtype::Int64);
  CHECK(tg::cumsum(b.reshape({4}), 0).to_vector<int64_t>() == I{1, 1, 2, 3});
  CHECK(tg::prod(b).dtype() == Dtype::Int64);
  const Tensor i = tg::tensor({1, 2, 3, 4}, {2, 2}, {.dtype = Dtype::Int64});
  CHECK(tg::sum(i).item<int64_t>() == 10);
  CHECK(tg::sum(i, 0).to_vector<int64_t>() == I{4, 6});
  CHECK(tg::prod(i).item<int64_t>() == 24);
  // torch: "mean(): could not infer output dtype ... Got: Long" (and Bool).
  CHECK_TG_ERROR(tg::mean(i), "mean: expected a Float32 or Float64 tensor, got Int64");
  CHECK_TG_ERROR(tg::mean(b, 0), "mean: expected a Float32 or Float64 tensor, got Bool");
}

TEST_CASE("reductions reject bad dims, empty dims and wrong dtypes", "[reductions]") {
  const Tensor x = tg::ones({2, 3});
  CHECK_TG_ERROR(tg::max(x, 2), "max: dimension 2 out of range for a 2-d tensor");
  CHECK_TG_ERROR(tg::min(x, -3), "min: dimension -3 out of range");
  CHECK_TG_ERROR(tg::var(x, 2, false), "var: dimension 2 out of range");
  CHECK_TG_ERROR(tg::std(x, -3, true), "std: dimension -3 out of range");
  CHECK_TG_ERROR(tg::norm(x, 2, 5), "norm: dimension 5 out of range");
  CHECK_TG_ERROR(tg::logsumexp(x, 2), "logsumexp: dimension 2 out of range");
  CHECK_TG_ERROR(tg::cumsum(x, 2), "cumsum: dimension 2 out of range");
  CHECK_TG_ERROR(tg::prod(x, -3), "prod: dimension -3 out of range");
  // torch: "max(): Expected reduction dim 1 to have non-zero size."
  CHECK_TG_ERROR(tg::max(tg::zeros({2, 0}), 1), "max: dimension 1 of shape [2, 0] is empty");
  CHECK_TG_ERROR(tg::min(tg::zeros({0, 3}), 0), "min: dimension 0 of shape [0, 3] is empty");
  const Tensor ints = tg::tensor({1, 2}, {2}, {.dtype = Dtype::Int64});
  CHECK_TG_ERROR(tg::var(ints), "var: expected a Float32 or Float64 tensor, got Int64");
  CHECK_TG_ERROR(tg::std(ints, 0, false), "std: expected a Float32 or Float64 tensor");
  CHECK_TG_ERROR(tg::norm(ints), "norm: expected a Float32 or Float64 tensor, got Int64");
}

TEST_CASE("zero-size reductions give torch's results", "[reductions]") {
  // torch.zeros(0, 3).max(1) has shape [0]; sum/prod/norm over an empty dim are 0, 1, 0;
  // logsumexp −inf (log 0); var NaN (0/0); cumsum keeps the shape.
  const Tensor e = tg::zeros({3, 0});
  CHECK(tg::max(tg::zeros({0, 3}), 1).values.shape() == Shape{0});
  CHECK(tg::sum(e, 1).to_vector<float>() == std::vector<float>{0, 0, 0});
  CHECK(tg::sum(tg::zeros({0})).item<float>() == 0);
  CHECK(tg::prod(e, 1).to_vector<float>() == std::vector<float>{1, 1, 1});
  CHECK(tg::norm(e, 2, 1).to_vector<float>() == std::vector<float>{0, 0, 0});
  CHECK(tg::norm(e, kInf, 1).to_vector<float>() == std::vector<float>{0, 0, 0});
  CHECK(tg::logsumexp(e, 1).to_vector<float>() == std::vector<float>(3, -INFINITY));
  CHECK(std::isnan(tg::var(e, 1, false).to_vector<float>()[0]));
  CHECK(tg::cumsum(tg::zeros({0, 3}), 1).shape() == Shape{0, 3});
  Tensor x = tg::zeros({0, 3}, {.dtype = Dtype::Float64, .requires_grad = true});
  (tg::prod(x, 0).sum() + tg::std(x, 1, false).sum() + tg::cumsum(x, 0).sum()).backward();
  CHECK(x.grad().shape() == Shape{0, 3});
}

TEST_CASE("backward after an in-place write to a saved tensor names the op", "[reductions]") {
  struct Case {
    const char* op;
    std::function<Tensor(const Tensor&)> f;
  };
  const std::vector<Case> cases = {
      {"var", [](const Tensor& t) { return tg::var(t); }},
      {"std", [](const Tensor& t) { return tg::std(t, 1, false); }},
      {"norm", [](const Tensor& t) { return tg::norm(t, 3, 0, false); }},
      {"logsumexp", [](const Tensor& t) { return tg::logsumexp(t, 1); }},
      {"prod", [](const Tensor& t) { return tg::prod(t); }},
  };
  for (const Case& c : cases) {
    INFO(c.op);
    Tensor x = leaf64({1, 2, 4, 3}, {2, 2});
    Tensor input = x * 1.0;  // an interior tensor, which an in-place write may change
    Tensor y = c.f(input).sum();
    {
      tg::NoGradGuard no_grad;
      input.data<double>()[0] = 5;
    }
    CHECK_TG_ERROR(y.backward(), std::string(c.op) + ": a tensor its backward needs");
  }
  // max(dim) saves only its indices (as PyTorch): writing them breaks its backward, writing the
  // input does not.
  Tensor x = leaf64({1, 2, 4, 3}, {2, 2});
  Tensor input = x * 1.0;
  tg::ValuesIndices r = tg::max(input, 1);
  {
    tg::NoGradGuard no_grad;
    input.data<double>()[0] = 5;
  }
  Tensor total = r.values.sum();
  total.backward({}, true);
  CHECK(x.grad().to_vector<double>() == D{0, 1, 1, 0});
  {
    tg::NoGradGuard no_grad;
    r.indices.data<int64_t>()[0] = 0;
  }
  CHECK_TG_ERROR(total.backward(), "max: a tensor its backward needs");
  // cumsum saves nothing: its backward survives a write to its input.
  Tensor z = leaf64({1, 2}, {2});
  Tensor z_input = z * 1.0;
  Tensor s = tg::cumsum(z_input, 0).sum();
  {
    tg::NoGradGuard no_grad;
    z_input.data<double>()[0] = 5;
  }
  s.backward();
  CHECK(z.grad().to_vector<double>() == D{2, 1});  // Σ_k y_k = 2x₀ + x₁
}

TEST_CASE("reduction methods equal the free functions", "[reductions]") {
  tg::manual_seed(33);
  const Tensor x = tg::randn({3, 4}, {.dtype = Dtype::Float64});
  const auto same = [](const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() && a.to_vector<double>() == b.to_vector<double>();
  };
  CHECK(same(x.max(1).values, tg::max(x, 1).values));
  CHECK(same(x.min(0, true).indices, tg::min(x, 0, true).indices));
  CHECK(same(x.var(), tg::var(x)));
  CHECK(same(x.var(1, true, 0), tg::var(x, 1, true, 0)));
  CHECK(same(x.std(0), tg::std(x, 0)));
  CHECK(same(x.std(0, false), tg::std(x, 0, false)));
  CHECK(same(x.norm(), tg::norm(x)));
  CHECK(same(x.norm(1, 1, true), tg::norm(x, 1, 1, true)));
  CHECK(same(x.logsumexp(1), tg::logsumexp(x, 1)));
  CHECK(same(x.cumsum(-1), tg::cumsum(x, -1)));
  CHECK(same(x.prod(), tg::prod(x)));
  CHECK(same(x.prod(1, true), tg::prod(x, 1, true)));
}

TEST_CASE("the full sum adds in 16 lanes, the same bits at every CPU level and thread count",
          "[reductions][cpu_level]") {
  if (!tg::testing::requested_cpu_level_runs()) return;
  tg::manual_seed(34);
  const Tensor x = tg::randn({1000, 37});  // 37000 elements: 2312 blocks of 16 and a tail of 8
  const std::vector<float> v = x.to_vector<float>();
  // The documented order: lane l adds the elements i ≡ l (mod 16), in double, then the lanes
  // are added pairwise (l += l + 8, + 4, + 2, + 1).
  double lanes[16] = {};
  for (size_t i = 0; i < v.size(); ++i) lanes[i % 16] += v[i];
  for (int width = 8; width >= 1; width /= 2) {
    for (int l = 0; l < width; ++l) lanes[l] += lanes[l + width];
  }
  const float expected = static_cast<float>(lanes[0]);
  const auto bits = [](float f) { return std::bit_cast<uint32_t>(f); };
  CHECK(bits(tg::sum(x).item<float>()) == bits(expected));
  CHECK(bits(tg::testing::at_baseline([&] { return tg::sum(x).item<float>(); })) == bits(expected));
  const int before = tg::num_threads();
  for (int threads : {1, 2, 3}) {
    tg::set_num_threads(threads);
    CHECK(bits(tg::sum(x).item<float>()) == bits(expected));
  }
  tg::set_num_threads(before);
  // Int64 sums wrap around (2⁶³ − 1 + 1 = −2⁶³), in any order.
  const Tensor big = tg::from_vector<int64_t>({std::numeric_limits<int64_t>::max(), 1}, {2});
  CHECK(tg::sum(big).item<int64_t>() == std::numeric_limits<int64_t>::min());
}
