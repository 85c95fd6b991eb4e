// Forward values checked against hand-computed numbers, and every op's misuse.

#include "helpers.hpp"

#include <cmath>
#include <limits>

using tg::Dtype;
using tg::Tensor;
using V = std::vector<float>;

TEST_CASE("arithmetic broadcasts like NumPy", "[ops]") {
  Tensor a = tg::tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor row = tg::tensor({10, 20, 30}, {3});
  Tensor column = tg::tensor({100, 200}, {2, 1});
  CHECK((a + row).to_vector<float>() == V{11, 22, 33, 14, 25, 36});
  CHECK((a * column).to_vector<float>() == V{100, 200, 300, 800, 1000, 1200});
  CHECK((row - column).shape() == tg::Shape{2, 3});
  CHECK((row - column).to_vector<float>() == V{-90, -80, -70, -190, -180, -170});
  CHECK((a / 2.0).to_vector<float>() == V{0.5, 1, 1.5, 2, 2.5, 3});
  CHECK((1.0 - a).to_vector<float>() == V{0, -1, -2, -3, -4, -5});
  CHECK((-a).to_vector<float>() == V{-1, -2, -3, -4, -5, -6});
  CHECK((12.0 / a).to_vector<float>() == V{12, 6, 4, 3, 2.4f, 2});
}

TEST_CASE("Int64 tensors support + - * with integer scalars", "[ops]") {
  Tensor labels = tg::tensor({1, 2, 3}, {3}, {.dtype = Dtype::Int64});
  CHECK((labels * 2.0 + 1.0).to_vector<int64_t>() == std::vector<int64_t>{3, 5, 7});
  CHECK_TG_ERROR(labels + 0.5, "add: the scalar 0.5 is not an integer but the tensor [3] is Int64");
  CHECK_TG_ERROR(labels / labels, "div: expected a Float32 or Float64 tensor, got Int64");
  CHECK_TG_ERROR(tg::exp(labels),
                 "exp: expected a Float32 or Float64 tensor, got Int64 of shape [3]");
}

TEST_CASE("elementwise functions match their definitions", "[ops]") {
  Tensor x = tg::tensor({-2, -0.5, 0, 0.5, 2}, {5}, {.dtype = Dtype::Float64});
  const std::vector<double> v = x.to_vector<double>();
  const auto each = [&](auto f) {
    std::vector<double> out;
    for (double e : v) out.push_back(f(e));
    return out;
  };
  CHECK(tg::exp(x).to_vector<double>() == each([](double e) { return std::exp(e); }));
  CHECK(tg::tanh(x).to_vector<double>() == each([](double e) { return std::tanh(e); }));
  CHECK(tg::abs(x).to_vector<double>() == std::vector<double>{2, 0.5, 0, 0.5, 2});
  CHECK(tg::relu(x).to_vector<double>() == std::vector<double>{0, 0, 0, 0.5, 2});
  CHECK(tg::square(x).to_vector<double>() == std::vector<double>{4, 0.25, 0, 0.25, 4});
  CHECK(tg::pow(x, 3).to_vector<double>() == std::vector<double>{-8, -0.125, 0, 0.125, 8});
  const std::vector<double> s = tg::sigmoid(x).to_vector<double>();
  for (size_t i = 0; i < v.size(); ++i) CHECK(s[i] == Approx(1 / (1 + std::exp(-v[i]))));
  Tensor p = tg::tensor({0.25, 1, 4}, {3});
  CHECK(tg::sqrt(p).to_vector<float>() == V{0.5, 1, 2});
  CHECK(tg::log(p).to_vector<float>()[1] == 0.0f);
  // sigmoid stays finite and exact at the extremes where a naive 1/(1+e^-x) overflows.
  CHECK(tg::sigmoid(tg::tensor({-1000, 1000}, {2})).to_vector<float>() == V{0, 1});
}

TEST_CASE("reductions", "[ops]") {
  Tensor a = tg::tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(tg::sum(a).item<float>() == 21);
  CHECK(tg::sum(a).dim() == 0);
  CHECK(tg::sum(a, 0).to_vector<float>() == V{5, 7, 9});
  CHECK(tg::sum(a, -1).to_vector<float>() == V{6, 15});
  CHECK(tg::sum(a, 1, true).shape() == tg::Shape{2, 1});
  CHECK(tg::mean(a).item<float>() == 3.5);
  CHECK(tg::mean(a, 0).to_vector<float>() == V{2.5, 3.5, 4.5});
  CHECK(tg::mean(a, 1, true).to_vector<float>() == V{2, 5});
  CHECK(tg::max(a).item<float>() == 6);
  CHECK(tg::min(a).item<float>() == 1);
  Tensor b = tg::tensor({0.1, 0.9, 0.3, 0.7, 0.2, 0.7}, {2, 3});
  CHECK(tg::argmax(b, 1).to_vector<int64_t>() == std::vector<int64_t>{1, 0});
  CHECK(tg::argmax(b, 0).to_vector<int64_t>() == std::vector<int64_t>{1, 0, 1});
  CHECK(tg::argmax(b, 1).dtype() == Dtype::Int64);
  CHECK(tg::sum(tg::arange(4, {.dtype = Dtype::Int64})).item<int64_t>() == 6);
}

TEST_CASE("max and min share the gradient evenly among ties", "[ops]") {
  Tensor x = tg::tensor({3, 1, 3, 2}, {4}, {.requires_grad = true});
  tg::max(x).backward();
  CHECK(x.grad().to_vector<float>() == V{0.5, 0, 0.5, 0});
}

TEST_CASE("relu passes NaN through with gradient 1, as PyTorch does", "[ops]") {
  // torch.relu(torch.tensor([nan, -1., 2., 0., -0.], requires_grad=True)) is
  // [nan, 0, 2, 0, -0.] (clamp_min keeps −0); after .sum().backward() the gradient is
  // [1, 0, 1, 0, 0] (threshold_backward: 0 only where y <= 0).
  for (Dtype dtype : {Dtype::Float32, Dtype::Float64}) {
    Tensor x = tg::tensor({NAN, -1, 2, 0, -0.0}, {5}, {.dtype = dtype, .requires_grad = true});
    const std::vector<double> y = tg::relu(x).to(Dtype::Float64).to_vector<double>();
    CHECK(std::isnan(y[0]));
    CHECK(std::vector<double>(y.begin() + 1, y.end()) == std::vector<double>{0, 2, 0, 0});
    CHECK(std::signbit(y[4]));
    tg::sum(tg::relu(x)).backward();
    CHECK(x.grad().to(Dtype::Float64).to_vector<double>() == std::vector<double>{1, 0, 1, 0, 0});
  }
}

TEST_CASE("max and min route the gradient to the NaNs when the result is NaN", "[ops]") {
  // torch.tensor([1., nan, 3., nan], requires_grad=True).max().backward(): the result is nan
  // and the gradient [0, 0.5, 0, 0.5] (evenly_distribute_backward); the same for min();
  // with one NaN in [1., nan, 3.] the gradient is [0, 1, 0].
  using Full = Tensor (*)(const Tensor&);
  for (Full extreme : {Full(&tg::max), Full(&tg::min)}) {
    Tensor x = tg::tensor({1, NAN, 3, NAN}, {4}, {.requires_grad = true});
    const Tensor y = extreme(x);
    CHECK(std::isnan(y.item<float>()));
    y.backward();
    CHECK(x.grad().to_vector<float>() == V{0, 0.5, 0, 0.5});
  }
  Tensor x = tg::tensor({1, NAN, 3}, {3}, {.requires_grad = true});
  tg::max(x).backward();
  CHECK(x.grad().to_vector<float>() == V{0, 1, 0});
}

TEST_CASE("max and min of long tensors: the best at any position, NaN wins, first of -0 and +0",
          "[ops]") {
  // Long enough for the vectorized sweep and its tail; the result is checked against a plain
  // scan, with the best (or a NaN) placed at every position in turn.
  using Full = Tensor (*)(const Tensor&);
  for (Dtype dtype : {Dtype::Float32, Dtype::Float64}) {
    for (int64_t n : {1, 7, 64, 203}) {
      for (int64_t at = 0; at < n; ++at) {
        std::vector<double> values(n);
        for (int64_t i = 0; i < n; ++i) values[i] = std::sin(0.7 * static_cast<double>(i));
        values[at] = 5;
        CHECK(tg::max(tg::tensor(values, {n}, {.dtype = dtype})).item<double>() == 5);
        values[at] = -5;
        CHECK(tg::min(tg::tensor(values, {n}, {.dtype = dtype})).item<double>() == -5);
        values[at] = NAN;
        for (Full extreme : {Full(&tg::max), Full(&tg::min)})
          CHECK(std::isnan(extreme(tg::tensor(values, {n}, {.dtype = dtype})).item<double>()));
      }
    }
    // Between -0 and +0 the first wins, on every CPU. (PyTorch's pick follows its vector layout:
    // torch.tensor([-0., 0.]).max() is 0., but -0. at 40 and 0. at 90 of 100 gives -0.)
    std::vector<double> zeros(100, -1.0);
    zeros[44] = -0.0;  // in a later vector lane than 81: the lanes alone would pick +0
    zeros[81] = 0.0;
    CHECK(std::signbit(tg::max(tg::tensor(zeros, {100}, {.dtype = dtype})).item<double>()));
    std::swap(zeros[44], zeros[81]);
    CHECK(!std::signbit(tg::max(tg::tensor(zeros, {100}, {.dtype = dtype})).item<double>()));
  }
  CHECK(tg::max(tg::arange(100, {.dtype = Dtype::Int64})).item<int64_t>() == 99);
}

TEST_CASE("Int64 + - * and negation wrap around as in PyTorch, without undefined behaviour",
          "[ops]") {
  // torch.tensor([2**63 - 1]) + 1 is [-2**63]; torch.tensor([2**63 - 1]) * 2 is [-2];
  // torch.tensor([-2**63]) - 1 is [2**63 - 1]; -torch.tensor([-2**63]) is [-2**63].
  constexpr int64_t largest = std::numeric_limits<int64_t>::max();
  constexpr int64_t smallest = std::numeric_limits<int64_t>::min();
  const Tensor top = tg::from_vector<int64_t>({largest}, {1});
  const Tensor bottom = tg::from_vector<int64_t>({smallest}, {1});
  CHECK((top + 1.0).item<int64_t>() == smallest);
  CHECK((top + top).item<int64_t>() == -2);
  CHECK((top * 2.0).item<int64_t>() == -2);
  CHECK((bottom - 1.0).item<int64_t>() == largest);
  CHECK((-bottom).item<int64_t>() == smallest);
  // torch.tensor([2**63 - 1, 1]).sum() is -2**63; summed to a row too.
  const Tensor pair = tg::from_vector<int64_t>({largest, 1}, {2, 1});
  CHECK(tg::sum(pair).item<int64_t>() == smallest);
  CHECK(tg::sum_to(pair, {1}).item<int64_t>() == smallest);
}

TEST_CASE("a scalar Int64 cannot hold is an error naming the op", "[ops]") {
  // PyTorch promotes torch.tensor([2]) + 1e300 to float; tapegrad keeps the tensor's dtype, so
  // a scalar outside [-2^63, 2^63) has no Int64 value (converting it would be undefined).
  const Tensor labels = tg::tensor({2}, {1}, {.dtype = Dtype::Int64});
  CHECK_TG_ERROR(
      labels + 1e300,
      "add: the scalar 1e+300 cannot be converted to Int64 without overflow (tensor [1])");
  CHECK_TG_ERROR(labels * INFINITY, "mul: the scalar inf cannot be converted to Int64");
  CHECK_TG_ERROR(0x1p63 - labels, "sub: the scalar 9.223372036854776e+18 cannot be converted");
  CHECK((labels * -0x1p63).item<int64_t>() == 0);  // 2·(−2⁶³) wraps to 0 (exact in uint64)
}

TEST_CASE("Float32 sums keep their precision over many elements", "[ops]") {
  // 10⁷ × 0.1 in naive float accumulation drifts by ~1%; a double accumulator does not.
  CHECK(tg::sum(tg::full({10000000}, 0.1)).item<float>() == Approx(1e6).epsilon(1e-6));
}

TEST_CASE("matmul follows torch.matmul for 1-d and 2-d operands", "[ops]") {
  Tensor a = tg::tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = tg::tensor({1, 0, 0, 1, 1, 1}, {3, 2});
  Tensor v = tg::tensor({1, 1, 1}, {3});
  CHECK(tg::matmul(a, b).to_vector<float>() == V{4, 5, 10, 11});
  CHECK(tg::matmul(a, v).shape() == tg::Shape{2});
  CHECK(tg::matmul(a, v).to_vector<float>() == V{6, 15});
  CHECK(tg::matmul(v, b).to_vector<float>() == V{2, 2});
  CHECK(tg::matmul(v, v).dim() == 0);
  CHECK(tg::matmul(v, v).item<float>() == 3);
  CHECK(tg::matmul(tg::ones({2, 0}), tg::ones({0, 3})).to_vector<float>() == V(6, 0.0f));
  CHECK(tg::matmul(a.to(Dtype::Float64), b.to(Dtype::Float64)).to_vector<double>() ==
        std::vector<double>{4, 5, 10, 11});
}

TEST_CASE("matmul misuse names the shapes", "[ops]") {
  CHECK_THROWS_MATCHES(
      tg::matmul(tg::ones({2, 3}), tg::ones({4, 5})), tg::Error,
      Catch::Matchers::Message("matmul: inner dimensions differ: [2, 3] @ [4, 5]"));
  CHECK_TG_ERROR(tg::matmul(tg::ones({3}), tg::ones({4})), "inner dimensions differ: [3] @ [4]");
  CHECK_TG_ERROR(tg::matmul(tg::ones({2, 2, 3}), tg::ones({2, 2})),
                 "inner dimensions differ: [2, 2, 3] @ [2, 2]");
  CHECK_TG_ERROR(tg::matmul(tg::ones({2, 2}), tg::ones({2, 2}, {.dtype = Dtype::Float64})),
                 "matmul: dtypes differ: Float32 [2, 2] and Float64 [2, 2]");
}

TEST_CASE("softmax and log_softmax are stable for logits of magnitude 1e4", "[ops]") {
  Tensor logits = tg::tensor({1e4, -1e4, 0, 1e4 - 1, -1e4, 1e4}, {2, 3});
  const V p = tg::softmax(logits, 1).to_vector<float>();
  const V lp = tg::log_softmax(logits, 1).to_vector<float>();
  for (float e : lp) CHECK(std::isfinite(e));
  CHECK(p[0] == 1.0f);
  CHECK(lp[1] == -2e4f);
  // Row 2: log_softmax of (1e4−1, −1e4, 1e4) = x − 1e4 − log(1 + e⁻¹)
  CHECK(lp[3] == Approx(-1 - std::log1p(std::exp(-1.0))));
  CHECK(lp[5] == Approx(-std::log1p(std::exp(-1.0))));
  // Rows sum to one, along any dim.
  CHECK(tg::sum(tg::softmax(logits, 0), 0).to_vector<float>() == V{1, 1, 1});
  Tensor x = tg::tensor({1e4, 1e4 - 2}, {2}, {.requires_grad = true});
  tg::sum(tg::log_softmax(x, 0) * tg::tensor({1, 0}, {2})).backward();
  for (float g : x.grad().to_vector<float>()) CHECK(std::isfinite(g));
}

TEST_CASE("broadcast_to and sum_to are inverse in shape", "[ops]") {
  Tensor x = tg::tensor({1, 2}, {2, 1});
  Tensor big = tg::broadcast_to(x, {3, 2, 4});
  CHECK(big.shape() == tg::Shape{3, 2, 4});
  CHECK(tg::sum_to(big, {2, 1}).to_vector<float>() == V{12, 24});
  CHECK(tg::sum_to(big, {4}).to_vector<float>() == V{9, 9, 9, 9});
  CHECK_TG_ERROR(tg::broadcast_to(x, {3, 3}),
                 "broadcast_to: shape [2, 1] cannot be broadcast to [3, 3]");
  CHECK_TG_ERROR(tg::sum_to(big, {5}), "sum_to: shape [5] cannot be broadcast to [3, 2, 4]");
}

// Bias gradients take a Float32 column-sum fast path (src/ops/broadcast.cpp): it must give the
// bits of the general rule, each column summed in row order in double, then rounded once.
TEST_CASE("Float32 column sums are row-order double sums rounded once", "[ops]") {
  tg::manual_seed(5);
  for (int64_t rows : {1, 7, 32}) {
    for (int64_t columns : {1, 5, 16, 17, 33}) {
      const Tensor x = tg::randn({rows, columns}) * 1000.0;
      const std::vector<float> in = x.to_vector<float>();
      std::vector<float> want(static_cast<size_t>(columns));
      for (int64_t j = 0; j < columns; ++j) {
        double sum = 0;
        for (int64_t r = 0; r < rows; ++r) sum += in[static_cast<size_t>(r * columns + j)];
        want[static_cast<size_t>(j)] = static_cast<float>(sum);
      }
      INFO(rows << " rows, " << columns << " columns");
      CHECK(tg::sum_to(x, {columns}).to_vector<float>() == want);
      CHECK(tg::sum_to(x, {1, columns}).to_vector<float>() == want);
    }
  }
}

TEST_CASE("op misuse is a tg::Error naming the op and shapes", "[ops]") {
  CHECK_TG_ERROR(tg::ones({2, 3}) + tg::ones({3, 2}),
                 "add: shapes cannot be broadcast together: [2, 3] and [3, 2]");
  CHECK_TG_ERROR(tg::ones({2}) * tg::ones({2}, {.dtype = Dtype::Float64}),
                 "mul: dtypes differ: Float32 [2] and Float64 [2]");
  CHECK_TG_ERROR(tg::sum(tg::ones({2, 3}), 2),
                 "sum: dimension 2 out of range for a 2-d tensor (expected -2 to 1)");
  CHECK_TG_ERROR(tg::softmax(tg::ones({2, 3}), -3), "softmax: dimension -3 out of range");
  CHECK_TG_ERROR(tg::argmax(tg::ones({2, 0}), 1), "argmax: dimension 1 of shape [2, 0] is empty");
  CHECK_TG_ERROR(tg::max(tg::ones({0})), "max: expected a non-empty tensor, got shape [0]");
  CHECK_TG_ERROR(tg::ones({2}) + Tensor(), "operation on an undefined tensor");
}
