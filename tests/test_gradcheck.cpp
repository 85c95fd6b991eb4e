// Every differentiable op against central finite differences in Float64 (eps 1e-6, atol and
// rtol 1e-6), on several shapes and every broadcasting pattern.

#include "helpers.hpp"

#include <functional>

using tg::Shape;
using tg::Tensor;
using tg::testing::positive64;
using tg::testing::randn64;

using Row = tg::testing::GradcheckRow;
using tg::testing::check_rows;
using tg::testing::kTight;

namespace {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// Shapes a binary op is checked on: equal, scalar, row, column, both sides broadcast, 3-d.
const std::vector<std::pair<Shape, Shape>> kBroadcastPairs = {
    {{3, 4}, {3, 4}}, {{3, 4}, {}},     {{}, {3, 4}},  {{3, 4}, {4}},
    {{3, 4}, {3, 1}}, {{3, 1}, {1, 4}}, {{4}, {3, 1}}, {{2, 3, 4}, {3, 1}},
};

const std::vector<Shape> kUnaryShapes = {{}, {5}, {3, 4}, {2, 3, 4}};

}  // namespace

TEST_CASE("gradcheck: arithmetic with broadcasting", "[gradcheck]") {
  tg::manual_seed(1);
  std::vector<Row> rows;
  const std::vector<std::pair<std::string, std::function<Tensor(Tensor, Tensor)>>> ops = {
      {"add", [](Tensor a, Tensor b) { return a + b; }},
      {"sub", [](Tensor a, Tensor b) { return a - b; }},
      {"mul", [](Tensor a, Tensor b) { return a * b; }},
      {"div", [](Tensor a, Tensor b) { return a / b; }},
  };
  for (const auto& [name, op] : ops) {
    for (const auto& [sa, sb] : kBroadcastPairs) {
      rows.push_back({fmt::format("{} {} {}", name, tg::shape_str(sa), tg::shape_str(sb)),
                      [op = op](const std::vector<Tensor>& in) { return op(in[0], in[1]); },
                      {randn64(sa), positive64(sb)}});
    }
  }
  check_rows(rows);
}

TEST_CASE("gradcheck: scalar operands and negation", "[gradcheck]") {
  tg::manual_seed(2);
  const Shape s{3, 4};
  check_rows({
      {"x + 2", [](const auto& in) { return in[0] + 2.0; }, {randn64(s)}},
      {"2 - x", [](const auto& in) { return 2.0 - in[0]; }, {randn64(s)}},
      {"x * 3", [](const auto& in) { return in[0] * 3.0; }, {randn64(s)}},
      {"3 / x", [](const auto& in) { return 3.0 / in[0]; }, {positive64(s)}},
      {"x / 4", [](const auto& in) { return in[0] / 4.0; }, {randn64(s)}},
      {"-x", [](const auto& in) { return -in[0]; }, {randn64(s)}},
  });
}

TEST_CASE("gradcheck: elementwise functions", "[gradcheck]") {
  tg::manual_seed(3);
  std::vector<Row> rows;
  const std::vector<std::tuple<std::string, std::function<Tensor(Tensor)>, bool>> ops = {
      {"exp", [](Tensor x) { return tg::exp(x); }, false},
      {"log", [](Tensor x) { return tg::log(x); }, true},
      {"sqrt", [](Tensor x) { return tg::sqrt(x); }, true},
      {"abs", [](Tensor x) { return tg::abs(x); }, false},
      {"relu", [](Tensor x) { return tg::relu(x); }, false},
      {"sigmoid", [](Tensor x) { return tg::sigmoid(x); }, false},
      {"tanh", [](Tensor x) { return tg::tanh(x); }, false},
      {"pow 3", [](Tensor x) { return tg::pow(x, 3.0); }, false},
      {"pow -1.5", [](Tensor x) { return tg::pow(x, -1.5); }, true},
      {"pow 0", [](Tensor x) { return tg::pow(x, 0.0); }, false},
      {"square", [](Tensor x) { return tg::square(x); }, false},
  };
  for (const auto& [name, op, positive] : ops) {
    for (const Shape& shape : kUnaryShapes) {
      rows.push_back({fmt::format("{} {}", name, tg::shape_str(shape)),
                      [op = op](const std::vector<Tensor>& in) { return op(in[0]); },
                      {positive ? positive64(shape) : randn64(shape)}});
    }
  }
  check_rows(rows);
}

TEST_CASE("gradcheck: reductions", "[gradcheck]") {
  tg::manual_seed(4);
  const Shape s{3, 4};
  const Shape s3{2, 3, 4};
  check_rows({
      {"sum", [](const auto& in) { return tg::sum(in[0]); }, {randn64(s3)}},
      {"sum 0-d", [](const auto& in) { return tg::sum(in[0]); }, {randn64({})}},
      {"sum dim 0", [](const auto& in) { return tg::sum(in[0], 0); }, {randn64(s)}},
      {"sum dim -1 keepdim", [](const auto& in) { return tg::sum(in[0], -1, true); }, {randn64(s)}},
      {"sum dim 1 of 3-d", [](const auto& in) { return tg::sum(in[0], 1); }, {randn64(s3)}},
      {"mean", [](const auto& in) { return tg::mean(in[0]); }, {randn64(s3)}},
      {"mean dim 1", [](const auto& in) { return tg::mean(in[0], 1); }, {randn64(s)}},
      {"mean dim 0 keepdim",
       [](const auto& in) { return tg::mean(in[0], 0, true); },
       {randn64(s3)}},
      {"max", [](const auto& in) { return tg::max(in[0]); }, {randn64(s)}},
      {"min", [](const auto& in) { return tg::min(in[0]); }, {randn64(s3)}},
  });
}

TEST_CASE("gradcheck: softmax and log_softmax", "[gradcheck]") {
  tg::manual_seed(5);
  std::vector<Row> rows;
  for (int64_t dim : {0, 1, -1}) {
    rows.push_back({fmt::format("softmax dim {}", dim),
                    [dim](const auto& in) { return tg::softmax(in[0], dim); },
                    {randn64({3, 5})}});
    rows.push_back({fmt::format("log_softmax dim {}", dim),
                    [dim](const auto& in) { return tg::log_softmax(in[0], dim); },
                    {randn64({3, 5})}});
    rows.push_back({fmt::format("log_softmax 3-d dim {}", dim),
                    [dim](const auto& in) { return tg::log_softmax(in[0], dim); },
                    {randn64({2, 3, 4})}});
  }
  check_rows(rows);
}

TEST_CASE("gradcheck: matmul in every rank combination", "[gradcheck]") {
  tg::manual_seed(6);
  const auto mm = [](const std::vector<Tensor>& in) { return tg::matmul(in[0], in[1]); };
  check_rows({
      {"[3, 4] @ [4, 5]", mm, {randn64({3, 4}), randn64({4, 5})}},
      {"[1, 4] @ [4, 1]", mm, {randn64({1, 4}), randn64({4, 1})}},
      {"[4] @ [4, 5]", mm, {randn64({4}), randn64({4, 5})}},
      {"[3, 4] @ [4]", mm, {randn64({3, 4}), randn64({4})}},
      {"[4] @ [4]", mm, {randn64({4}), randn64({4})}},
  });
}

TEST_CASE("gradcheck: layout and broadcasting ops", "[gradcheck]") {
  tg::manual_seed(7);
  check_rows({
      {"reshape",
       [](const auto& in) {
         return in[0].reshape({4, -1});
       },
       {randn64({2, 3, 2})}},
      {"transpose 2-d", [](const auto& in) { return in[0].transpose(0, 1); }, {randn64({3, 4})}},
      {"transpose 3-d", [](const auto& in) { return in[0].transpose(0, 2); }, {randn64({2, 3, 4})}},
      {"t", [](const auto& in) { return in[0].t(); }, {randn64({3, 4})}},
      {"clone", [](const auto& in) { return in[0].clone(); }, {randn64({3, 4})}},
      {"broadcast_to",
       [](const auto& in) {
         return tg::broadcast_to(in[0], {2, 3, 4});
       },
       {randn64({3, 1})}},
      {"sum_to",
       [](const auto& in) {
         return tg::sum_to(in[0], {3, 1});
       },
       {randn64({2, 3, 4})}},
  });
}

TEST_CASE("gradcheck: composite expressions reuse tensors", "[gradcheck]") {
  tg::manual_seed(8);
  check_rows({
      {"x * x + x", [](const auto& in) { return in[0] * in[0] + in[0]; }, {randn64({3, 4})}},
      {"mlp",
       [](const auto& in) {
         Tensor h = tg::tanh(tg::matmul(in[0], in[1]) + in[2]);
         return tg::mean(tg::square(tg::matmul(h, in[3]) - 1.0));
       },
       {randn64({5, 3}), randn64({3, 4}), randn64({4}), randn64({4, 2})}},
      {"cross-entropy by hand",
       [](const auto& in) { return -tg::mean(tg::log_softmax(in[0], 1) * in[1]); },
       {randn64({4, 3}),
        tg::tensor({1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0}, {4, 3}, {.dtype = tg::Dtype::Float64})}},
  });
}

TEST_CASE("gradcheck: fused linear and losses", "[gradcheck]") {
  tg::manual_seed(11);
  using tg::nn::Reduction;
  const Tensor classes = tg::tensor({2, 0, 1, 2}, {4}, {.dtype = tg::Dtype::Int64});
  std::vector<Row> rows{
      {"linear",
       [](const auto& in) { return tg::linear(in[0], in[1], in[2]); },
       {randn64({5, 3}), randn64({4, 3}), randn64({4})}},
      {"linear without bias",
       [](const auto& in) { return tg::linear(in[0], in[1]); },
       {randn64({5, 3}), randn64({4, 3})}},
      {"linear of a vector",
       [](const auto& in) { return tg::linear(in[0], in[1], in[2]); },
       {randn64({3}), randn64({4, 3}), randn64({4})}},
      {"linear of [T, N, in] (a sequence's outputs)",
       [](const auto& in) { return tg::linear(in[0], in[1], in[2]); },
       {randn64({2, 3, 3}), randn64({4, 3}), randn64({4})}},
  };
  for (Reduction reduction : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
    const std::string name = reduction == Reduction::Mean  ? "mean"
                             : reduction == Reduction::Sum ? "sum"
                                                           : "none";
    rows.push_back(
        {"mse_loss " + name,
         [reduction](const auto& in) { return tg::nn::mse_loss(in[0], in[1], reduction); },
         {randn64({4, 3}), randn64({4, 3})}});
    rows.push_back({"cross_entropy " + name,
                    [reduction, classes](const auto& in) {
                      return tg::nn::cross_entropy(
                          in[0], classes, {.reduction = reduction, .label_smoothing = 0.1});
                    },
                    {randn64({4, 3})}});
  }
  check_rows(rows);
}

TEST_CASE("gradcheck reports a wrong backward rule", "[gradcheck]") {
  tg::manual_seed(9);
  // An op whose recorded gradient is deliberately off by a factor of two.
  const auto wrong_square = [](const std::vector<Tensor>& in) {
    Tensor y = tg::square(in[0].detach());
    return tg::record("wrong_square", y, {in[0]},
                      [x = in[0].detach()](const Tensor& gy) -> tg::Grads { return {gy * x}; });
  };
  CHECK_FALSE(tg::gradcheck(wrong_square, {randn64({3})}, {.print_mismatch = false}));
}

TEST_CASE("gradcheck converts Float32 inputs to Float64", "[gradcheck]") {
  tg::manual_seed(10);
  Tensor x = tg::randn({3, 2}, {.requires_grad = true});
  CHECK(tg::gradcheck([](const auto& in) { return tg::tanh(in[0]) * 2.0; }, {x}, kTight));
}
