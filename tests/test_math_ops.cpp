// More elementwise math (sin cos log1p expm1 erf sign floor round clamp minimum maximum) and the
// Bool ops (comparisons, logical ops, any/all, where, masked_fill): values and gradients against
// PyTorch 1.13 (tests/fixtures/tensor_api.txt), gradcheck, gradients at the kinks, in-place forms,
// the version counter, dtypes and misuse. Expected values without a fixture were computed by hand
// (the comment beside each) and agree with torch 1.13.1.

#include "helpers.hpp"
#include "tensor_api_fixture.hpp"

#include <cmath>
#include <functional>
#include <limits>
#include <optional>

using tg::Dtype;
using tg::Shape;
using tg::Tensor;
using tg::testing::FixtureCase;
using tg::testing::positive64;
using tg::testing::randn64;
using D = std::vector<double>;
using B = std::vector<int64_t>;  // Bool results read as integers (to_vector has no bool)
using Inputs = std::map<std::string, Tensor>;

using Row = tg::testing::GradcheckRow;
using tg::testing::bools;
using tg::testing::check_rows;
using tg::testing::kTight;
using tg::testing::leaf64;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

B as_ints(const Tensor& t) { return t.to(Dtype::Int64).to_vector<int64_t>(); }

// The gradient of sum(f(x)) at x.
D gradient_of(const std::function<Tensor(const Tensor&)>& f, D values) {
  Tensor x = leaf64(values, {static_cast<int64_t>(values.size())});
  f(x).sum().backward();
  return x.grad().to_vector<double>();
}

// 0.0, 0.1, …, 1.1 as [3, 4] and, apart from every one of them by ≥ 0.05, four values ending in 5:
// operands of minimum/maximum with no tie within gradcheck's step.
Tensor grid34() {
  D v;
  for (int i = 0; i < 12; ++i) v.push_back(0.1 * i);
  return leaf64(v, {3, 4});
}
Tensor offset4() { return leaf64({0.15, 0.55, 0.35, 1.05}, {4}); }

}  // namespace

TEST_CASE("math and mask ops match PyTorch's values and gradients", "[math_ops]") {
  using Op = tg::testing::TensorApiOp;
  const auto unary = [](Tensor (*f)(const Tensor&)) -> Op {
    return [f](const FixtureCase&, const Inputs& in) { return std::vector<Tensor>{f(in.at("x"))}; };
  };
  const auto binary = [](Tensor (*f)(const Tensor&, const Tensor&)) -> Op {
    return [f](const FixtureCase&, const Inputs& in) {
      return std::vector<Tensor>{f(in.at("a"), in.at("b"))};
    };
  };
  const auto bound = [](const FixtureCase& c, const char* key) -> std::optional<double> {
    if (!c.options.count(key)) return std::nullopt;
    return c.option(key, 0);
  };
  const std::map<std::string, Op> ops = {
      {"sin", unary(tg::sin)},
      {"cos", unary(tg::cos)},
      {"log1p", unary(tg::log1p)},
      {"expm1", unary(tg::expm1)},
      {"erf", unary(tg::erf)},
      {"sign", unary(tg::sign)},
      {"floor", unary(tg::floor)},
      {"round", unary(tg::round)},
      {"clamp",
       [&](const FixtureCase& c, const Inputs& in) {
         return std::vector<Tensor>{tg::clamp(in.at("x"), bound(c, "lo"), bound(c, "hi"))};
       }},
      {"minimum", binary(tg::minimum)},
      {"maximum", binary(tg::maximum)},
      {"where",
       [](const FixtureCase&, const Inputs& in) {
         return std::vector<Tensor>{tg::where(in.at("cond_const"), in.at("a"), in.at("b"))};
       }},
      {"masked_fill",
       [](const FixtureCase& c, const Inputs& in) {
         return std::vector<Tensor>{
             tg::masked_fill(in.at("x"), in.at("mask_const"), c.option("value", 0))};
       }},
  };
  const std::set<std::string> expected = {"sin",     "cos",   "log1p",      "expm1", "erf",
                                          "sign",    "floor", "round",      "clamp", "minimum",
                                          "maximum", "where", "masked_fill"};
  CHECK(tg::testing::check_tensor_api_cases(ops) == expected);
}

TEST_CASE("gradcheck: sin cos log1p expm1 erf and the zero-gradient ops", "[math_ops]") {
  tg::manual_seed(41);
  std::vector<Row> rows;
  const std::vector<std::pair<std::string, Tensor (*)(const Tensor&)>> smooth = {
      {"sin", tg::sin}, {"cos", tg::cos}, {"expm1", tg::expm1}, {"erf", tg::erf}};
  for (const Shape& shape : std::vector<Shape>{{}, {5}, {3, 4}}) {
    for (const auto& [name, f] : smooth) {
      rows.push_back({fmt::format("{} {}", name, tg::shape_str(shape)),
                      [f = f](const auto& in) { return f(in[0]); },
                      {randn64(shape)}});
    }
    // log1p needs x > −1: positive64 draws from [0.5, 2.5).
    rows.push_back({fmt::format("log1p {}", tg::shape_str(shape)),
                    [](const auto& in) { return tg::log1p(in[0]); },
                    {positive64(shape)}});
  }
  // sign, floor and round away from their jumps (0, integers, halves): both gradients are 0.
  const D away = {-1.3, -0.7, 0.2, 0.3, 1.2, 2.8};
  rows.push_back({"sign", [](const auto& in) { return tg::sign(in[0]); }, {leaf64(away, {6})}});
  rows.push_back({"floor", [](const auto& in) { return tg::floor(in[0]); }, {leaf64(away, {6})}});
  rows.push_back({"round", [](const auto& in) { return tg::round(in[0]); }, {leaf64(away, {6})}});
  check_rows(rows);
}

TEST_CASE("gradcheck: clamp, minimum, maximum, where and masked_fill", "[math_ops]") {
  // Every element is ≥ 0.05 from the bounds −0.5 and 0.7, far beyond gradcheck's step of 1e-6.
  const D x = {-1.3, -0.55, -0.2, 0.1, 0.65, 0.8, 1.2, 2.0};
  const Tensor cond = bools({1, 0, 0, 1}, {4});
  const Tensor mask = bools({0, 1, 1, 0}, {4});
  check_rows({
      {"clamp lo hi", [](const auto& in) { return tg::clamp(in[0], -0.5, 0.7); }, {leaf64(x, {8})}},
      {"clamp lo", [](const auto& in) { return tg::clamp(in[0], -0.5); }, {leaf64(x, {8})}},
      {"clamp hi",
       [](const auto& in) { return tg::clamp(in[0], std::nullopt, 0.7); },
       {leaf64(x, {8})}},
      {"minimum [3, 4] [4]",
       [](const auto& in) { return tg::minimum(in[0], in[1]); },
       {grid34(), offset4()}},
      {"maximum [3, 4] [4]",
       [](const auto& in) { return tg::maximum(in[0], in[1]); },
       {grid34(), offset4()}},
      {"maximum [4] [3, 4]",
       [](const auto& in) { return tg::maximum(in[0], in[1]); },
       {offset4(), grid34()}},
      {"where [4] [3, 4] [4]",
       [cond](const auto& in) { return tg::where(cond, in[0], in[1]); },
       {grid34(), offset4()}},
      {"where scalar b",
       [cond](const auto& in) { return tg::where(cond, in[0], 2.5); },
       {grid34()}},
      {"masked_fill [3, 4] mask [4]",
       [mask](const auto& in) { return tg::masked_fill(in[0], mask, -1.5); },
       {grid34()}},
  });
}

TEST_CASE("clamp's gradient at its bounds is 1, as PyTorch's x ≥ lo & x ≤ hi", "[math_ops]") {
  // torch.clamp(x, -0.5, 0.7) for x = [-1, -0.5, 0, 0.7, 1, nan]: the bounds themselves pass the
  // gradient, NaN does not (NaN ≥ lo is false).
  const D x = {-1, -0.5, 0, 0.7, 1, kNaN};
  CHECK(gradient_of([](const Tensor& t) { return tg::clamp(t, -0.5, 0.7); }, x) ==
        D{0, 1, 1, 1, 0, 0});
  CHECK(gradient_of([](const Tensor& t) { return tg::clamp(t, -0.5); }, x) == D{0, 1, 1, 1, 1, 0});
  CHECK(gradient_of([](const Tensor& t) { return t.clamp(std::nullopt, 0.7); }, x) ==
        D{1, 1, 1, 1, 0, 0});
  // lo > hi: every element becomes hi, and no x satisfies lo ≤ x ≤ hi.
  CHECK(gradient_of([](const Tensor& t) { return tg::clamp(t, 0.7, -0.5); }, x) ==
        D{0, 0, 0, 0, 0, 0});
}

TEST_CASE("clamp values: NaN elements stay NaN, a NaN bound is ignored, Int64 stays Int64",
          "[math_ops]") {
  const Tensor x = tg::tensor({-1, -0.5, 0, 0.7, 1, kNaN}, {6}, {.dtype = Dtype::Float64});
  const std::vector<double> y = tg::clamp(x, 0.7, -0.5).to_vector<double>();
  CHECK(D(y.begin(), y.end() - 1) == D{-0.5, -0.5, -0.5, -0.5, -0.5});  // min(max(x, lo), hi)
  CHECK(std::isnan(y.back()));
  // PyTorch's CPU kernel: std::max(v, NaN) is v, so clamp(x, min=nan) leaves x as it is.
  CHECK(tg::clamp(tg::tensor({1, 2}, {2}), kNaN).to_vector<float>() == std::vector<float>{1, 2});
  // A missing bound is ±∞, so infinities beyond the other bound are kept.
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(tg::clamp(tg::tensor({-inf, inf}, {2}, {.dtype = Dtype::Float64}), std::nullopt, 1.0)
            .to_vector<double>() == D{-inf, 1});
  const Tensor labels = tg::tensor({-3, 0, 5}, {3}, {.dtype = Dtype::Int64});
  const Tensor clamped = labels.clamp(1, 4);  // torch.clamp(torch.tensor([-3, 0, 5]), 1, 4)
  CHECK(clamped.dtype() == Dtype::Int64);
  CHECK(clamped.to_vector<int64_t>() == B{1, 1, 4});
}

TEST_CASE("minimum and maximum split the gradient evenly on ties and pass NaN", "[math_ops]") {
  // PyTorch 1.13: where(a == b, g/2, g), zeroed where the other operand wins. a = [1, 2, 3, nan,
  // 1], b = [1, 3, 2, 1, nan]: a tie, b wins, a wins, and a NaN (no comparison holds, so both get
  // the whole gradient).
  const auto run = [](Tensor (*f)(const Tensor&, const Tensor&)) {
    Tensor a = leaf64({1, 2, 3, kNaN, 1}, {5});
    Tensor b = leaf64({1, 3, 2, 1, kNaN}, {5});
    Tensor y = f(a, b);
    y.sum().backward();
    return std::tuple{y.to_vector<double>(), a.grad().to_vector<double>(),
                      b.grad().to_vector<double>()};
  };
  const auto [high, high_a, high_b] = run(tg::maximum);
  CHECK(D(high.begin(), high.begin() + 3) == D{1, 3, 3});
  CHECK((std::isnan(high[3]) && std::isnan(high[4])));
  CHECK(high_a == D{0.5, 0, 1, 1, 1});
  CHECK(high_b == D{0.5, 1, 0, 1, 1});
  const auto [low, low_a, low_b] = run(tg::minimum);
  CHECK(D(low.begin(), low.begin() + 3) == D{1, 2, 2});
  CHECK((std::isnan(low[3]) && std::isnan(low[4])));
  CHECK(low_a == D{0.5, 1, 0, 1, 1});
  CHECK(low_b == D{0.5, 0, 1, 1, 1});

  // Broadcast ties: a = [[1, 2]], b = [[1], [2]]. Output [2, 2] has ties at (0, 0) and (1, 1);
  // a[0] ties once and loses once (b = 2 > 1): 0.5; a[1] wins once and ties once: 1.5; b alike.
  Tensor a = leaf64({1, 2}, {1, 2});
  Tensor b = leaf64({1, 2}, {2, 1});
  a.maximum(b).sum().backward();
  CHECK(a.grad().to_vector<double>() == D{0.5, 1.5});
  CHECK(b.grad().to_vector<double>() == D{0.5, 1.5});
}

TEST_CASE("sign, floor and round: PyTorch's values, a zero gradient even at the jumps",
          "[math_ops]") {
  const Tensor x = tg::tensor({kNaN, -0.0, 0, -2, 3}, {5}, {.dtype = Dtype::Float64});
  CHECK(tg::sign(x).to_vector<double>() == D{0, 0, 0, -1, 1});  // (0 < v) − (v < 0)
  // Half to even: 0.5 → 0, 1.5 → 2, 2.5 → 2, −0.5 → −0, −1.5 → −2.
  const Tensor halves =
      tg::tensor({0.5, 1.5, 2.5, -0.5, -1.5, 2.4999}, {6}, {.dtype = Dtype::Float64});
  const std::vector<double> rounded = halves.round().to_vector<double>();
  CHECK(rounded == D{0, 2, 2, -0.0, -2, 2});
  CHECK(std::signbit(rounded[3]));
  CHECK(tg::floor(tg::tensor({-1.5, -1, 0.5, 2}, {4})).to_vector<float>() ==
        std::vector<float>{-2, -1, 0, 2});
  const Tensor ints = tg::tensor({-3, 0, 5}, {3}, {.dtype = Dtype::Int64});
  CHECK(ints.sign().to_vector<int64_t>() == B{-1, 0, 1});
  CHECK(ints.floor().to_vector<int64_t>() == B{-3, 0, 5});
  CHECK(ints.round().dtype() == Dtype::Int64);
  // At the jumps themselves (0, an integer, a half) the gradient is 0, as PyTorch's zeros_like.
  const D jumps = {0, 1, 0.5};
  CHECK(gradient_of(tg::sign, jumps) == D{0, 0, 0});
  CHECK(gradient_of(tg::floor, jumps) == D{0, 0, 0});
  CHECK(gradient_of(tg::round, jumps) == D{0, 0, 0});
}

TEST_CASE("math methods are the free functions", "[math_ops]") {
  tg::manual_seed(42);
  const Tensor x = tg::rand({3, 4}) * 0.9;  // in [0, 0.9): inside log1p's domain
  const Tensor y = tg::randn({3, 4});
  const auto same = [](const Tensor& p, const Tensor& q) {
    return p.to_vector<float>() == q.to_vector<float>();
  };
  CHECK(same(x.sin(), tg::sin(x)));
  CHECK(same(x.cos(), tg::cos(x)));
  CHECK(same(x.log1p(), tg::log1p(x)));
  CHECK(same(x.expm1(), tg::expm1(x)));
  CHECK(same(x.erf(), tg::erf(x)));
  CHECK(same(y.sign(), tg::sign(y)));
  CHECK(same(y.floor(), tg::floor(y)));
  CHECK(same(y.round(), tg::round(y)));
  CHECK(same(y.clamp(-0.5, 0.5), tg::clamp(y, -0.5, 0.5)));
  CHECK(same(x.minimum(y), tg::minimum(x, y)));
  CHECK(same(x.maximum(y), tg::maximum(x, y)));
  CHECK(same(y.masked_fill(y.gt(0), 7), tg::masked_fill(y, tg::gt(y, 0.0), 7)));
  CHECK(as_ints(x.lt(y)) == as_ints(tg::lt(x, y)));
}

TEST_CASE("comparisons give Bool tensors with PyTorch's values and promotion", "[math_ops]") {
  const Tensor a = tg::tensor({1, 2, 3}, {3});
  const Tensor b = tg::tensor({3, 2, 1}, {3});
  CHECK(tg::eq(a, b).dtype() == Dtype::Bool);
  CHECK(as_ints(a.eq(b)) == B{0, 1, 0});
  CHECK(as_ints(a.ne(b)) == B{1, 0, 1});
  CHECK(as_ints(a.lt(b)) == B{1, 0, 0});
  CHECK(as_ints(a.le(b)) == B{1, 1, 0});
  CHECK(as_ints(a.gt(b)) == B{0, 0, 1});
  CHECK(as_ints(a.ge(b)) == B{0, 1, 1});
  CHECK(as_ints(a.ge(2.0)) == B{0, 1, 1});
  // Broadcasting: [3, 1] against [3] gives [3, 3], row i is a[i] < b.
  const Tensor column = tg::lt(a.reshape({3, 1}), b);
  CHECK(column.shape() == Shape{3, 3});
  CHECK(as_ints(column) == B{1, 1, 0, 1, 0, 0, 0, 0, 0});
  // torch.tensor([0.1]) == 0.1 is True: the scalar is rounded to the tensor's Float32.
  CHECK(as_ints(tg::tensor({0.1}, {1}).eq(0.1)) == B{1});
  // Int64 against Float32 compares as Float32; against a fraction, too (torch's default dtype).
  const Tensor labels = tg::tensor({1, 2}, {2}, {.dtype = Dtype::Int64});
  CHECK(as_ints(labels.lt(tg::tensor({1.5, 1.5}, {2}))) == B{1, 0});
  CHECK(as_ints(labels.lt(1.5)) == B{1, 0});
  CHECK(as_ints(labels.eq(2)) == B{0, 1});
  // Bool against a number: True == 1, and True < 0.5 is false.
  const Tensor flags = bools({1, 0}, {2});
  CHECK(as_ints(flags.eq(1)) == B{1, 0});
  CHECK(as_ints(flags.lt(0.5)) == B{0, 1});
  // NaN equals nothing, not even itself.
  const Tensor nan = tg::tensor({kNaN}, {1});
  CHECK(as_ints(nan.eq(nan)) == B{0});
  CHECK(as_ints(nan.ne(kNaN)) == B{1});
  // Never recorded.
  const Tensor w = tg::ones({2}, {.requires_grad = true});
  CHECK_FALSE(w.gt(0.0).requires_grad());
}

TEST_CASE("logical ops, any and all treat nonzero (NaN too) as true", "[math_ops]") {
  const Tensor x = tg::tensor({kNaN, 0, 2}, {3});
  const Tensor y = tg::tensor({1, 1, 0}, {3}, {.dtype = Dtype::Int64});
  CHECK(tg::logical_and(x, y).dtype() == Dtype::Bool);
  CHECK(as_ints(x.logical_and(y)) == B{1, 0, 0});  // torch.logical_and: [True, False, False]
  CHECK(as_ints(x.logical_or(y)) == B{1, 1, 1});
  CHECK(as_ints(x.logical_not()) == B{0, 1, 0});
  const Tensor flags = bools({1, 0}, {2});
  const Tensor inverted = flags.logical_not();
  CHECK(as_ints(inverted) == B{0, 1});
  CHECK(as_ints(flags) == B{1, 0});  // a new tensor, not written in place
  CHECK(as_ints(tg::logical_or(flags.reshape({2, 1}), flags)) == B{1, 1, 1, 0});
  CHECK(x.any().dim() == 0);
  CHECK(x.any().dtype() == Dtype::Bool);
  CHECK(x.any().item<bool>());
  CHECK_FALSE(x.all().item<bool>());
  CHECK(tg::tensor({kNaN}, {1}).all().item<bool>());
  CHECK_FALSE(tg::zeros({2, 2}).any().item<bool>());
}

TEST_CASE("where and masked_fill values, dtypes and which gradient goes where", "[math_ops]") {
  const Tensor cond = bools({1, 0, 1}, {3});
  Tensor a = leaf64({1, 2, 3}, {3});
  Tensor b = leaf64({10}, {1});
  Tensor y = tg::where(cond, a, b);
  CHECK(y.to_vector<double>() == D{1, 10, 3});
  y.sum().backward();
  CHECK(a.grad().to_vector<double>() == D{1, 0, 1});  // a where cond
  CHECK(b.grad().to_vector<double>() == D{1});        // b elsewhere, summed to b's [1]
  const Tensor labels = tg::tensor({4, 5, 6}, {3}, {.dtype = Dtype::Int64});
  const Tensor picked = tg::where(cond, labels, -1);
  CHECK(picked.dtype() == Dtype::Int64);
  CHECK(picked.to_vector<int64_t>() == B{4, -1, 6});

  Tensor x = leaf64({1, 2, 3, 4}, {2, 2});
  Tensor filled = x.masked_fill(bools({1, 0}, {2}), -1.5);  // the mask's row broadcasts
  CHECK(filled.to_vector<double>() == D{-1.5, 2, -1.5, 4});
  filled.sum().backward();
  CHECK(x.grad().to_vector<double>() == D{0, 1, 0, 1});  // passes where the mask is false
  // An Int64 x keeps the value's integer part, as torch.masked_fill (−1.7 → −1).
  CHECK(labels.masked_fill(cond, -1.7).to_vector<int64_t>() == B{-1, 5, -1});
  CHECK(as_ints(bools({0, 0, 0}, {3}).masked_fill(cond, 0.5)) == B{1, 0, 1});
}

TEST_CASE("clamp_ and masked_fill_ write through to the base and every view", "[math_ops]") {
  Tensor w = tg::tensor({-2, 0.25, 3}, {3}, {.requires_grad = true});
  {
    tg::NoGradGuard no_grad;
    Tensor detached = w.detach();
    detached.clamp_(-1, 1);
    CHECK(w.to_vector<float>() == std::vector<float>{-1, 0.25, 1});
    w.masked_fill_(bools({0, 1, 0}, {3}), 9);  // a leaf may be written under NoGradGuard
  }
  CHECK(w.to_vector<float>() == std::vector<float>{-1, 9, 1});
  CHECK(w.is_leaf());
  CHECK(w.requires_grad());

  Tensor base = tg::tensor({-2, -1, 0, 1, 2, 3}, {2, 3});
  Tensor flat = base.reshape({6});
  const int64_t version = base.version();
  CHECK(&flat.clamp_(0, std::nullopt) == &flat);
  CHECK(base.to_vector<float>() == std::vector<float>{0, 0, 0, 1, 2, 3});
  flat.masked_fill_(bools({1, 0, 0, 0, 0, 1}, {6}), 5);
  CHECK(base.to_vector<float>() == std::vector<float>{5, 0, 0, 1, 2, 5});
  CHECK(base.version() == version + 2);
}

TEST_CASE("clamp_ and masked_fill_ on a leaf that requires grad are errors while grad is on",
          "[math_ops]") {
  Tensor w = tg::tensor({-2, 0.5}, {2}, {.requires_grad = true});
  CHECK_TG_ERROR(w.clamp_(-1, 1), "clamp_: a leaf tensor that requires grad (Float32 [2])");
  CHECK_TG_ERROR(w.masked_fill_(bools({1, 0}, {2}), 0),
                 "masked_fill_: a leaf tensor that requires");
  CHECK(w.to_vector<float>() == std::vector<float>{-2, 0.5});
}

TEST_CASE("recorded clamp_ and masked_fill_ give PyTorch's gradients", "[math_ops]") {
  // y = 2x; y.clamp_(0, 1.5): d/dx = 2 where 0 ≤ 2x ≤ 1.5 (x = 0.5 only), as torch 1.13 gives.
  Tensor x = leaf64({-1, 0.5, 2}, {3});
  Tensor y = x * 2.0;
  y.clamp_(0, 1.5);
  CHECK(y.to_vector<double>() == D{0, 1, 1.5});
  y.sum().backward();
  CHECK(x.grad().to_vector<double>() == D{0, 2, 0});
  // y = 2x; y.masked_fill_([T, F, F], 3): d/dx = [0, 2, 2].
  x.zero_grad();
  Tensor z = x * 2.0;
  z.masked_fill_(bools({1, 0, 0}, {3}), 3);
  z.sum().backward();
  CHECK(x.grad().to_vector<double>() == D{0, 2, 2});
}

TEST_CASE("a tensor saved by a math op and then modified in place makes its backward throw",
          "[math_ops]") {
  const auto modified_input = [](Tensor (*f)(const Tensor&), const char* op) {
    Tensor x = leaf64({0.1, 0.2}, {2});
    Tensor y = f(x);
    {
      tg::NoGradGuard no_grad;
      x.data<double>()[0] = 0.3;  // a mutable pointer is a write
    }
    CHECK_TG_ERROR(y.sum().backward(), std::string(op) + ": a tensor its backward needs");
  };
  modified_input(tg::sin, "sin");
  modified_input(tg::cos, "cos");
  modified_input(tg::log1p, "log1p");
  modified_input(tg::erf, "erf");
  modified_input([](const Tensor& x) { return tg::clamp(x, 0.0, 1.0); }, "clamp");
  modified_input([](const Tensor& x) { return tg::minimum(x, x * 0.5); }, "minimum");
  modified_input([](const Tensor& x) { return tg::maximum(x * 0.5, x); }, "maximum");

  // expm1 saves its output.
  Tensor x = leaf64({0.1, 0.2}, {2});
  Tensor y = tg::expm1(x);
  {
    tg::NoGradGuard no_grad;
    y.add_(1);
  }
  CHECK_TG_ERROR(y.sum().backward(), "expm1: a tensor its backward needs");
}

TEST_CASE("where and masked_fill save only the condition and the mask", "[math_ops]") {
  Tensor a = leaf64({1, 2}, {2});
  Tensor b = leaf64({3, 4}, {2});
  Tensor cond = bools({1, 0}, {2});
  Tensor y = tg::where(cond, a, b);
  Tensor mask = bools({0, 1}, {2});
  Tensor z = tg::masked_fill(a, mask, 0);
  {
    tg::NoGradGuard no_grad;
    a.data<double>()[0] = 7;  // neither backward needs a or b
    b.data<double>()[0] = 7;
  }
  z.sum().backward(Tensor(), true);
  CHECK(a.grad().to_vector<double>() == D{1, 0});
  cond.data<bool>()[0] = false;
  CHECK_TG_ERROR(y.sum().backward(), "where: a tensor its backward needs (Bool [2])");
  mask.data<bool>()[0] = true;
  CHECK_TG_ERROR(z.sum().backward(), "masked_fill: a tensor its backward needs (Bool [2])");
}

TEST_CASE("math and mask ops reject bad dtypes and shapes, naming the op and values",
          "[math_ops]") {
  const Tensor labels = tg::tensor({1, 2}, {2}, {.dtype = Dtype::Int64});
  const Tensor x = tg::ones({2});
  CHECK_TG_ERROR(tg::sin(labels),
                 "sin: expected a Float32 or Float64 tensor, got Int64 of shape [2]");
  CHECK_TG_ERROR(labels.erf(), "erf: expected a Float32 or Float64 tensor");
  CHECK_TG_ERROR(tg::sign(bools({1}, {1})),
                 "sign: expected a Float32, Float64 or Int64 tensor, got Bool");
  CHECK_TG_ERROR(tg::clamp(x, std::nullopt), "clamp: at least one of lo and hi must be given");
  CHECK_TG_ERROR(labels.clamp(0.5, 3),
                 "clamp: the bound 0.5 is not an Int64 value but the tensor [2] is Int64");
  CHECK_TG_ERROR(tg::minimum(x, tg::ones({2}, {.dtype = Dtype::Float64})),
                 "minimum: dtypes differ: Float32 [2] and Float64 [2]");
  CHECK_TG_ERROR(tg::maximum(x, tg::ones({3})),
                 "maximum: shapes cannot be broadcast together: [2] and [3]");
  CHECK_TG_ERROR(tg::lt(x, tg::ones({3})), "lt: shapes cannot be broadcast together: [2] and [3]");
  CHECK_TG_ERROR(tg::logical_and(x, tg::ones({3})), "logical_and: shapes cannot be broadcast");
  const Tensor cond = bools({1, 0}, {2});
  CHECK_TG_ERROR(tg::where(labels, x, x),
                 "where: expected a Bool condition, got Int64 of shape [2]");
  CHECK_TG_ERROR(tg::where(cond, x, tg::ones({2}, {.dtype = Dtype::Float64})),
                 "where: dtypes differ: Float32 [2] and Float64 [2]");
  CHECK_TG_ERROR(tg::where(cond, x, tg::ones({3})),
                 "where: shapes cannot be broadcast together: condition [2], a [2], b [3]");
  CHECK_TG_ERROR(tg::where(cond, labels, 0.5),
                 "where: the scalar 0.5 cannot be represented in a's dtype Int64");
  CHECK_TG_ERROR(x.masked_fill(labels, 0),
                 "masked_fill: expected a Bool mask, got Int64 of shape [2]");
  CHECK_TG_ERROR(x.masked_fill(bools({1, 0}, {2, 1}), 0),
                 "masked_fill: the mask [2, 1] would broadcast x [2] to [2, 2]");
  CHECK_TG_ERROR(x.masked_fill(bools({1, 0, 1}, {3}), 0),
                 "masked_fill: shapes cannot be broadcast together: [2] and [3]");
  CHECK_TG_ERROR(labels.masked_fill(cond, kNaN),
                 "masked_fill: the value nan cannot be converted to Int64");
  Tensor target = tg::ones({2});
  CHECK_TG_ERROR(target.masked_fill_(bools({1, 0}, {2, 1}), 0),
                 "masked_fill_: the mask [2, 1] would broadcast x [2] to [2, 2]");
  CHECK_TG_ERROR(target.clamp_(std::nullopt, std::nullopt),
                 "clamp_: at least one of lo and hi must be given");
  CHECK(target.to_vector<float>() == std::vector<float>{1, 1});
}

TEST_CASE("math and mask ops on zero-size tensors give PyTorch's shapes", "[math_ops]") {
  Tensor x = tg::zeros({0, 3}, {.dtype = Dtype::Float64, .requires_grad = true});
  const Tensor none = tg::zeros({0, 3}).gt(0.0);
  for (const Tensor& y :
       {x.sin(), x.cos(), x.log1p(), x.expm1(), x.erf(), x.sign(), x.floor(), x.round(),
        x.clamp(0, 1), x.minimum(tg::zeros({3}, {.dtype = Dtype::Float64})),
        x.maximum(tg::zeros({1, 3}, {.dtype = Dtype::Float64})), tg::where(none, x, 1.0),
        x.masked_fill(none, 2)}) {
    CHECK(y.shape() == Shape{0, 3});
    y.sum().backward();  // the sum of nothing is 0; x's gradient is [0, 3] of nothing
    CHECK(x.grad().shape() == Shape{0, 3});
  }
  CHECK(none.shape() == Shape{0, 3});
  CHECK(none.dtype() == Dtype::Bool);
  CHECK(tg::eq(tg::zeros({0, 3}), tg::zeros({3})).shape() == Shape{0, 3});
  CHECK(tg::logical_not(none).shape() == Shape{0, 3});
  CHECK_FALSE(none.any().item<bool>());  // torch.zeros(0, 3).any() is False, .all() True
  CHECK(none.all().item<bool>());
}
