// Products: batched matmul (3-D and more, broadcast batch dims, 1-D operands as torch.matmul),
// outer and dot: values and gradients against PyTorch 1.13 (tests/fixtures/tensor_api.txt),
// gradcheck, misuse, the version counter, zero-size operands and the method forms. Expected
// values without a fixture are derived by hand beside each check.

#include "helpers.hpp"
#include "tensor_api_fixture.hpp"

#include <bit>
#include <functional>

using tg::Dtype;
using tg::Shape;
using tg::Tensor;
using tg::testing::FixtureCase;
using tg::testing::randn64;
using D = std::vector<double>;
using Inputs = std::map<std::string, Tensor>;

using tg::testing::kTight;

namespace {

// The matrix at batch position `b` of a contiguous [batch, rows, columns] tensor, as a copy.
Tensor matrix_at(const Tensor& t, int64_t b) {
  const int64_t rows = t.size(-2), columns = t.size(-1);
  const std::vector<float> all = t.to_vector<float>();
  const auto start = all.begin() + b * rows * columns;
  return tg::from_vector<float>(std::vector<float>(start, start + rows * columns), {rows, columns});
}

std::vector<uint32_t> bits(const Tensor& t) {
  std::vector<uint32_t> out;
  for (float f : t.to_vector<float>()) out.push_back(std::bit_cast<uint32_t>(f));
  return out;
}

}  // namespace

TEST_CASE("products match PyTorch 1.13 on the tensor_api fixture", "[products]") {
  using tg::testing::TensorApiOp;
  const std::map<std::string, TensorApiOp> ops = {
      {"matmul",
       [](const FixtureCase&, const Inputs& in) -> std::vector<Tensor> {
         return {tg::matmul(in.at("a"), in.at("b"))};
       }},
      {"outer",
       [](const FixtureCase&, const Inputs& in) -> std::vector<Tensor> {
         return {tg::outer(in.at("u"), in.at("v"))};
       }},
      {"dot",
       [](const FixtureCase&, const Inputs& in) -> std::vector<Tensor> {
         return {tg::dot(in.at("u"), in.at("v"))};
       }},
  };
  const std::set<std::string> seen = tg::testing::check_tensor_api_cases(ops);
  CHECK(seen == std::set<std::string>{"matmul", "outer", "dot"});
}

TEST_CASE("gradcheck: batched and broadcast matmul, outer, dot", "[products]") {
  tg::manual_seed(41);
  const auto mm = [](const std::vector<Tensor>& in) { return tg::matmul(in[0], in[1]); };
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{2, 3, 4}, {2, 4, 5}}, {{2, 1, 3, 4}, {5, 4, 2}}, {{3, 4}, {2, 4, 5}},
      {{4}, {2, 4, 5}},       {{2, 3, 4}, {4}},          {{2, 3, 4}, {4, 5}},
      {{2, 3, 4}, {1, 4, 5}}, {{1, 3, 4}, {2, 4, 5}},    {{2, 2, 3, 4}, {2, 2, 4, 1}},
      {{4}, {3, 1, 4, 2}},
  };
  for (const auto& [sa, sb] : shapes) {
    DYNAMIC_SECTION(tg::shape_str(sa) << " @ " << tg::shape_str(sb)) {
      const std::vector<Tensor> inputs = {randn64(sa), randn64(sb)};
      CHECK(tg::gradcheck(mm, inputs, kTight));
      CHECK(tg::gradgradcheck(mm, inputs, kTight));
    }
  }
  SECTION("outer") {
    const auto outer = [](const auto& in) { return tg::outer(in[0], in[1]); };
    const std::vector<Tensor> inputs = {randn64({3}), randn64({4})};
    CHECK(tg::gradcheck(outer, inputs, kTight));
    CHECK(tg::gradgradcheck(outer, inputs, kTight));
  }
  SECTION("dot") {
    const auto dot = [](const auto& in) { return tg::dot(in[0], in[1]); };
    const std::vector<Tensor> inputs = {randn64({5}), randn64({5})};
    CHECK(tg::gradcheck(dot, inputs, kTight));
    CHECK(tg::gradgradcheck(dot, inputs, kTight));
  }
}

TEST_CASE("batched matmul gives each matrix the bits of its 2-D product", "[products]") {
  tg::manual_seed(42);
  // [3, 5, 7] @ [3, 7, 2]: one GEMM per batch entry; [3, 5, 7] @ [1, 7, 2] reuses b's one matrix.
  const Tensor a = tg::randn({3, 5, 7}), b = tg::randn({3, 7, 2});
  const Tensor c = tg::matmul(a, b);
  REQUIRE(c.shape() == Shape{3, 5, 2});
  for (int64_t i = 0; i < 3; ++i) {
    CHECK(bits(matrix_at(c, i)) == bits(tg::matmul(matrix_at(a, i), matrix_at(b, i))));
  }
  const Tensor one = tg::randn({1, 7, 2});
  const Tensor shared = tg::matmul(a, one);
  REQUIRE(shared.shape() == Shape{3, 5, 2});
  for (int64_t i = 0; i < 3; ++i) {
    CHECK(bits(matrix_at(shared, i)) == bits(tg::matmul(matrix_at(a, i), matrix_at(one, 0))));
  }
}

TEST_CASE("matmul's shapes follow torch.matmul", "[products]") {
  // torch.matmul shapes: batch dims broadcast, a 1-D left operand loses its row, a 1-D right
  // operand its column.
  const auto shape_of = [](Shape a, Shape b) {
    return tg::matmul(tg::ones(a), tg::ones(b)).shape();
  };
  CHECK(shape_of({2, 1, 3, 4}, {5, 4, 2}) == Shape{2, 5, 3, 2});
  CHECK(shape_of({4}, {2, 4, 5}) == Shape{2, 5});
  CHECK(shape_of({2, 3, 4}, {4}) == Shape{2, 3});
  CHECK(shape_of({3, 4}, {2, 4, 5}) == Shape{2, 3, 5});
  CHECK(shape_of({2, 3, 4}, {4, 5}) == Shape{2, 3, 5});
  // All ones: every element is the inner extent, 4.
  CHECK(tg::matmul(tg::ones({2, 3, 4}), tg::ones({4})).to_vector<float>() ==
        std::vector<float>(6, 4));
}

TEST_CASE("matmul, outer and dot reject shapes and dtypes that do not fit", "[products]") {
  CHECK_TG_ERROR(tg::matmul(tg::ones({2, 3, 4}), tg::ones({3, 4, 5})),
                 "matmul: batch dimensions cannot be broadcast together: [2, 3, 4] @ [3, 4, 5]");
  CHECK_TG_ERROR(tg::matmul(tg::ones({2, 3, 4}), tg::ones({2, 5, 6})),
                 "matmul: inner dimensions differ: [2, 3, 4] @ [2, 5, 6]");
  CHECK_TG_ERROR(tg::matmul(tg::ones({2, 3, 4}), tg::ones({5})),
                 "matmul: inner dimensions differ: [2, 3, 4] @ [5]");
  CHECK_TG_ERROR(tg::matmul(tg::ones({3}), tg::ones({2, 4, 5})),
                 "matmul: inner dimensions differ: [3] @ [2, 4, 5]");
  CHECK_TG_ERROR(tg::matmul(tg::ones({}), tg::ones({2, 3, 4})),
                 "matmul: both operands need at least one dimension, got [] @ [2, 3, 4]");
  CHECK_TG_ERROR(tg::matmul(tg::ones({2, 3, 4}), tg::ones({2, 4, 5}, {.dtype = Dtype::Float64})),
                 "matmul: dtypes differ");
  CHECK_TG_ERROR(tg::dot(tg::ones({2, 3}), tg::ones({3})),
                 "dot: expected 1-d tensors, got [2, 3] and [3]");
  CHECK_TG_ERROR(tg::dot(tg::ones({3}), tg::ones({4})), "dot: lengths differ: [3] and [4]");
  CHECK_TG_ERROR(tg::dot(tg::ones({3}), tg::ones({3}, {.dtype = Dtype::Float64})),
                 "dot: dtypes differ: Float32 [3] and Float64 [3]");
  CHECK_TG_ERROR(tg::outer(tg::ones({3}), tg::ones({2, 2})),
                 "outer: expected 1-d tensors, got [2, 2] and [3]");
  CHECK_TG_ERROR(tg::outer(tg::ones({3}), tg::ones({2}, {.dtype = Dtype::Int64})),
                 "outer: dtypes differ");
}

TEST_CASE("dot and outer: values by hand, integers, methods", "[products]") {
  const Tensor u = tg::tensor({1, 2, 3}, {3}), v = tg::tensor({4, 5, 6}, {3});
  CHECK(tg::dot(u, v).item<float>() == 32);  // 4 + 10 + 18
  CHECK(tg::dot(u, v).shape() == Shape{});
  CHECK(u.dot(v).item<float>() == 32);
  const Tensor ints = tg::tensor({1, 2, 3}, {3}, {.dtype = Dtype::Int64});
  CHECK(tg::dot(ints, ints).item<int64_t>() == 14);  // 1 + 4 + 9
  // outer([1, 2, 3], [4, 5]) = [[4, 5], [8, 10], [12, 15]]
  const Tensor w = tg::tensor({4, 5}, {2});
  CHECK(tg::outer(u, w).to_vector<float>() == std::vector<float>{4, 5, 8, 10, 12, 15});
  CHECK(u.outer(w).shape() == Shape{3, 2});
  const Tensor a = tg::ones({2, 3, 4}), b = tg::ones({2, 4, 5});
  CHECK(a.matmul(b).to_vector<float>() == tg::matmul(a, b).to_vector<float>());
}

TEST_CASE("zero-size products give torch's shapes and zeros", "[products]") {
  // torch.matmul(torch.zeros(2, 0, 3), torch.zeros(2, 3, 4)).shape == [2, 0, 4]; an empty inner
  // dim gives zeros (a sum of no terms); an empty batch an empty result.
  CHECK(tg::matmul(tg::ones({2, 0, 3}), tg::ones({2, 3, 4})).shape() == Shape{2, 0, 4});
  CHECK(tg::matmul(tg::ones({0, 3, 4}), tg::ones({4, 5})).shape() == Shape{0, 3, 5});
  CHECK(tg::matmul(tg::ones({0, 3, 4}), tg::ones({1, 4, 5})).shape() == Shape{0, 3, 5});
  CHECK(tg::matmul(tg::ones({2, 3, 0}), tg::ones({2, 0, 4})).to_vector<float>() ==
        std::vector<float>(24, 0));
  CHECK(tg::matmul(tg::ones({2, 3, 0}), tg::ones({0, 4})).to_vector<float>() ==
        std::vector<float>(24, 0));
  CHECK(tg::dot(tg::ones({0}), tg::ones({0})).item<float>() == 0);
  CHECK(tg::outer(tg::ones({0}), tg::ones({3})).shape() == Shape{0, 3});
  Tensor a = tg::ones({2, 3, 0}, {.requires_grad = true});
  Tensor b = tg::ones({2, 0, 4}, {.requires_grad = true});
  tg::matmul(a, b).sum().backward();
  CHECK(a.grad().shape() == Shape{2, 3, 0});
  CHECK(b.grad().shape() == Shape{2, 0, 4});
}

TEST_CASE("product backward after an in-place write to a saved operand names the op",
          "[products]") {
  struct Case {
    const char* op;
    Shape a, b;
    std::function<Tensor(const Tensor&, const Tensor&)> f;
  };
  // outer is torch's reshape-and-multiply (its grad_fn is MulBackward0), so "mul" names it.
  const std::vector<Case> cases = {
      {"matmul", {2, 3, 4}, {2, 4, 5}, [](auto& a, auto& b) { return tg::matmul(a, b); }},
      {"matmul", {2, 3, 4}, {4, 5}, [](auto& a, auto& b) { return tg::matmul(a, b); }},
      {"dot", {4}, {4}, [](auto& a, auto& b) { return tg::dot(a, b); }},
      {"mul", {3}, {4}, [](auto& a, auto& b) { return tg::outer(a, b); }},
  };
  for (const Case& c : cases) {
    INFO(c.op << " " << tg::shape_str(c.a));
    Tensor a = tg::ones(c.a, {.dtype = Dtype::Float64, .requires_grad = true});
    Tensor b = tg::ones(c.b, {.dtype = Dtype::Float64, .requires_grad = true});
    Tensor y = c.f(a, b).sum();
    {
      tg::NoGradGuard no_grad;
      b.data<double>()[0] = 5;  // b is saved for a's gradient
    }
    CHECK_TG_ERROR(y.backward(), std::string(c.op) + ": a tensor its backward needs");
  }
  // Only what a requested gradient needs is saved: with b constant, dA = dC·Bᵀ needs b alone,
  // so a write to a after the forward is harmless.
  Tensor a = tg::ones({2, 3, 4}, {.dtype = Dtype::Float64, .requires_grad = true});
  Tensor a_input = a * 1.0;
  const Tensor b = tg::ones({2, 4, 5}, {.dtype = Dtype::Float64});
  Tensor y = tg::matmul(a_input, b).sum();
  {
    tg::NoGradGuard no_grad;
    a_input.data<double>()[0] = 5;
  }
  y.backward();
  CHECK(a.grad().to_vector<double>() == D(24, 5));  // each row of b sums to 5
}
