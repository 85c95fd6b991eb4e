// Every public op, layer and loss on zero-size shapes, forward and backward, against PyTorch
// 1.13: the torch expression beside each row gave its output shape, its value (sum of nothing is
// 0, mean of nothing NaN) and its gradients (the inputs' shapes, all zero). This file runs in the
// ASan+UBSan pass, where an op that touches row 0 of an empty batch fails (issue 19: linear's
// bias copy did).

#include "helpers.hpp"

#include <cmath>
#include <functional>
#include <optional>
#include <string>
#include <vector>

using tg::Dtype;
using tg::Shape;
using tg::Tensor;
namespace nn = tg::nn;

namespace {

using Inputs = std::vector<Tensor>;

struct Case {
  std::string name;
  std::vector<Shape> inputs;  // each one zeros that requires grad
  std::function<Tensor(const Inputs&)> op;
  Shape output;
  std::optional<double> fill;  // the value of every output element, when there are any
};

Dtype other_floating(Dtype dtype) {
  return dtype == Dtype::Float32 ? Dtype::Float64 : Dtype::Float32;
}

// The torch expression of each row is applied to torch.zeros(shape, requires_grad=True) inputs
// and backpropagated with y.backward(torch.ones(y.shape)).
std::vector<Case> op_cases() {
  using X = const Inputs&;
  const auto matmul = [](X x) { return tg::matmul(x[0], x[1]); };
  const auto linear = [](X x) { return tg::linear(x[0], x[1], x.size() > 2 ? x[2] : Tensor()); };
  return {
      // torch.zeros(0, 3) + torch.zeros(0, 3), and so on down the arithmetic
      {"a + b", {{0, 3}, {0, 3}}, [](X x) { return x[0] + x[1]; }, {0, 3}, {}},
      {"a + b, b broadcast", {{0, 3}, {3}}, [](X x) { return x[0] + x[1]; }, {0, 3}, {}},
      {"a - b, both broadcast", {{0, 1}, {3}}, [](X x) { return x[0] - x[1]; }, {0, 3}, {}},
      {"a * b, both broadcast", {{1, 3}, {0, 1}}, [](X x) { return x[0] * x[1]; }, {0, 3}, {}},
      {"a / b", {{0, 3}, {0, 3}}, [](X x) { return x[0] / x[1]; }, {0, 3}, {}},
      {"x + 1", {{0, 3}}, [](X x) { return x[0] + 1.0; }, {0, 3}, {}},
      {"1 + x", {{0, 3}}, [](X x) { return 1.0 + x[0]; }, {0, 3}, {}},
      {"x - 1", {{0, 3}}, [](X x) { return x[0] - 1.0; }, {0, 3}, {}},
      {"1 - x", {{0, 3}}, [](X x) { return 1.0 - x[0]; }, {0, 3}, {}},
      {"x * 2", {{0, 3}}, [](X x) { return x[0] * 2.0; }, {0, 3}, {}},
      {"2 * x", {{0, 3}}, [](X x) { return 2.0 * x[0]; }, {0, 3}, {}},
      {"x / 2", {{0, 3}}, [](X x) { return x[0] / 2.0; }, {0, 3}, {}},
      {"2 / x", {{0, 3}}, [](X x) { return 2.0 / x[0]; }, {0, 3}, {}},
      {"-x", {{0, 3}}, [](X x) { return -x[0]; }, {0, 3}, {}},
      // torch.matmul(torch.zeros(0, 3), torch.zeros(3, 2)), …; a sum over k = 0 terms is 0
      {"matmul [0, 3] @ [3, 2]", {{0, 3}, {3, 2}}, matmul, {0, 2}, {}},
      {"matmul [2, 0] @ [0, 3]", {{2, 0}, {0, 3}}, matmul, {2, 3}, 0},
      {"matmul [0] @ [0]", {{0}, {0}}, matmul, {}, 0},
      {"matmul [0, 3] @ [3]", {{0, 3}, {3}}, matmul, {0}, {}},
      {"matmul [3] @ [3, 0]", {{3}, {3, 0}}, matmul, {0}, {}},
      {"matmul [2, 3] @ [3, 0]", {{2, 3}, {3, 0}}, matmul, {2, 0}, {}},
      // F.linear(torch.zeros(0, 4), torch.zeros(3, 4), torch.zeros(3)), …
      {"linear, empty batch", {{0, 4}, {3, 4}, {3}}, linear, {0, 3}, {}},
      {"linear, empty batch, no bias", {{0, 4}, {3, 4}}, linear, {0, 3}, {}},
      {"linear, no outputs", {{5, 4}, {0, 4}, {0}}, linear, {5, 0}, {}},
      {"linear, no inputs or outputs", {{2, 0}, {0, 0}, {0}}, linear, {2, 0}, {}},
      // torch.exp(torch.zeros(0, 3)), …, torch.zeros(0, 3).pow(2.5)
      {"exp", {{0, 3}}, [](X x) { return tg::exp(x[0]); }, {0, 3}, {}},
      {"log", {{0, 3}}, [](X x) { return tg::log(x[0]); }, {0, 3}, {}},
      {"sqrt", {{0, 3}}, [](X x) { return tg::sqrt(x[0]); }, {0, 3}, {}},
      {"abs", {{0, 3}}, [](X x) { return tg::abs(x[0]); }, {0, 3}, {}},
      {"relu", {{0, 3}}, [](X x) { return tg::relu(x[0]); }, {0, 3}, {}},
      {"sigmoid", {{0, 3}}, [](X x) { return tg::sigmoid(x[0]); }, {0, 3}, {}},
      {"tanh", {{0, 3}}, [](X x) { return tg::tanh(x[0]); }, {0, 3}, {}},
      {"pow", {{0, 3}}, [](X x) { return tg::pow(x[0], 2.5); }, {0, 3}, {}},
      {"square", {{0, 3}}, [](X x) { return tg::square(x[0]); }, {0, 3}, {}},
      // torch.zeros(0, 3).sum() is 0, .mean() NaN (0/0), .sum(0) [0, 0, 0], .mean(0) [NaN × 3]
      {"sum", {{0, 3}}, [](X x) { return tg::sum(x[0]); }, {}, 0},
      {"sum(0)", {{0, 3}}, [](X x) { return tg::sum(x[0], 0); }, {3}, 0},
      {"sum(1)", {{0, 3}}, [](X x) { return tg::sum(x[0], 1); }, {0}, {}},
      {"sum(0, keepdim)", {{0, 3}}, [](X x) { return tg::sum(x[0], 0, true); }, {1, 3}, 0},
      {"sum(-1, keepdim)", {{0, 3}}, [](X x) { return tg::sum(x[0], -1, true); }, {0, 1}, {}},
      {"mean", {{0, 3}}, [](X x) { return tg::mean(x[0]); }, {}, NAN},
      {"mean(0)", {{0, 3}}, [](X x) { return tg::mean(x[0], 0); }, {3}, NAN},
      {"mean(1)", {{0, 3}}, [](X x) { return tg::mean(x[0], 1); }, {0}, {}},
      // torch.softmax(torch.zeros(0, 3), 1), …
      {"softmax(1)", {{0, 3}}, [](X x) { return tg::softmax(x[0], 1); }, {0, 3}, {}},
      {"softmax(0)", {{0, 3}}, [](X x) { return tg::softmax(x[0], 0); }, {0, 3}, {}},
      {"softmax over an empty dim", {{3, 0}}, [](X x) { return tg::softmax(x[0], 1); }, {3, 0}, {}},
      {"log_softmax(1)", {{0, 3}}, [](X x) { return tg::log_softmax(x[0], 1); }, {0, 3}, {}},
      {"log_softmax over an empty dim",
       {{3, 0}},
       [](X x) { return tg::log_softmax(x[0], 1); },
       {3, 0},
       {}},
      // torch.broadcast_to(torch.zeros(0), (2, 0)), torch.zeros(0, 3).sum_to_size(3), …
      {"broadcast_to [0] -> [2, 0]",
       {{0}},
       [](X x) {
         return tg::broadcast_to(x[0], {2, 0});
       },
       {2, 0},
       {}},
      {"broadcast_to [1, 3] -> [0, 3]",
       {{1, 3}},
       [](X x) {
         return tg::broadcast_to(x[0], {0, 3});
       },
       {0, 3},
       {}},
      {"sum_to [0, 3] -> [3]", {{0, 3}}, [](X x) { return tg::sum_to(x[0], {3}); }, {3}, 0},
      {"sum_to [0, 3] -> [1, 3]",
       {{0, 3}},
       [](X x) {
         return tg::sum_to(x[0], {1, 3});
       },
       {1, 3},
       0},
      {"sum_to [2, 0] -> [0]", {{2, 0}}, [](X x) { return tg::sum_to(x[0], {0}); }, {0}, {}},
      // torch.zeros(0, 3).reshape(-1, 3), .reshape(3, 0), .transpose(0, 1), .t(), .double(),
      // .clone()
      {"reshape(-1, 3)",
       {{0, 3}},
       [](X x) {
         return x[0].reshape({-1, 3});
       },
       {0, 3},
       {}},
      {"reshape(3, 0)",
       {{0, 3}},
       [](X x) {
         return x[0].reshape({3, 0});
       },
       {3, 0},
       {}},
      {"reshape(0, 5, 0)",
       {{0, 3}},
       [](X x) {
         return x[0].reshape({0, 5, 0});
       },
       {0, 5, 0},
       {}},
      {"transpose", {{0, 3}}, [](X x) { return x[0].transpose(0, 1); }, {3, 0}, {}},
      {"t", {{0, 3}}, [](X x) { return x[0].t(); }, {3, 0}, {}},
      {"to and back",
       {{0, 3}},
       [](X x) { return x[0].to(other_floating(x[0].dtype())).to(x[0].dtype()); },
       {0, 3},
       {}},
      {"clone", {{0, 3}}, [](X x) { return x[0].clone(); }, {0, 3}, {}},
      // F.mse_loss(torch.zeros(0, 3), torch.zeros(0, 3)) is NaN (0/0), with reduction="sum" 0
      {"mse_loss mean", {{0, 3}, {0, 3}}, [](X x) { return nn::mse_loss(x[0], x[1]); }, {}, NAN},
      {"mse_loss sum",
       {{0, 3}, {0, 3}},
       [](X x) { return nn::mse_loss(x[0], x[1], nn::Reduction::Sum); },
       {},
       0},
      {"mse_loss none",
       {{0, 3}, {0, 3}},
       [](X x) { return nn::mse_loss(x[0], x[1], nn::Reduction::None); },
       {0, 3},
       {}},
      {"MSELoss", {{0, 3}, {0, 3}}, [](X x) { return nn::MSELoss()(x[0], x[1]); }, {}, NAN},
  };
}

bool same_value(double actual, double expected) {
  return std::isnan(expected) ? std::isnan(actual) : actual == expected;
}

// The output's shape and dtype, and every element equal to `fill`.
void check_output(const Tensor& y, const Shape& shape, Dtype dtype, std::optional<double> fill) {
  CHECK(y.shape() == shape);
  CHECK(y.dtype() == dtype);
  if (!fill) return;
  for (double value : y.to(Dtype::Float64).to_vector<double>()) CHECK(same_value(value, *fill));
}

// Every input got a gradient of its own shape and dtype, all zero (torch gives zeros for the
// inputs that are not themselves empty: they only ever met empty gradients).
void check_zero_gradients(const Inputs& inputs) {
  for (const Tensor& x : inputs) {
    REQUIRE(x.grad().defined());
    CHECK(x.grad().shape() == x.shape());
    CHECK(x.grad().dtype() == x.dtype());
    for (double g : x.grad().to(Dtype::Float64).to_vector<double>()) CHECK(g == 0);
  }
}

void backward_with_ones(const Tensor& y) { y.backward(tg::ones(y.shape(), {.dtype = y.dtype()})); }

}  // namespace

TEST_CASE("every op gives PyTorch's shapes, values and gradients on zero-size inputs",
          "[zero_size]") {
  for (Dtype dtype : {Dtype::Float32, Dtype::Float64}) {
    for (const Case& c : op_cases()) {
      INFO(c.name << " in " << tg::dtype_name(dtype));
      Inputs inputs;
      for (const Shape& shape : c.inputs) {
        inputs.push_back(tg::zeros(shape, {.dtype = dtype, .requires_grad = true}));
      }
      const Tensor y = c.op(inputs);
      check_output(y, c.output, dtype, c.fill);
      backward_with_ones(y);
      check_zero_gradients(inputs);
    }
  }
}

TEST_CASE("linear on an empty batch gives shape (0, out) and zero weight and bias gradients",
          "[zero_size]") {
  // Issue 19: the bias was copied into row 0 of a [0, 256] output. torch.nn.Linear(784, 256)
  // (torch.zeros(0, 784)) has shape [0, 256]; after .sum().backward() both gradients are zero.
  nn::Linear layer(784, 256);
  const Tensor x = tg::zeros({0, 784}, {.requires_grad = true});
  const Tensor y = layer(x);
  CHECK(y.shape() == Shape{0, 256});
  tg::sum(y).backward();
  CHECK(x.grad().shape() == Shape{0, 784});
  CHECK(layer.weight.grad().to_vector<float>() == std::vector<float>(256 * 784, 0.0f));
  CHECK(layer.bias.grad().to_vector<float>() == std::vector<float>(256, 0.0f));
}

TEST_CASE("linear with no input features is the bias in every row", "[zero_size]") {
  // F.linear(torch.zeros(5, 0), torch.zeros(3, 0), b) is b in each of the 5 rows; with
  // y.backward(torch.ones(5, 3)) the bias gradient is 5 = Σ over the rows of 1.
  const Tensor x = tg::zeros({5, 0}, {.dtype = Dtype::Float64, .requires_grad = true});
  const Tensor w = tg::zeros({3, 0}, {.dtype = Dtype::Float64, .requires_grad = true});
  const Tensor b = tg::tensor({1, 2, 3}, {3}, {.dtype = Dtype::Float64, .requires_grad = true});
  const Tensor y = tg::linear(x, w, b);
  CHECK(y.to_vector<double>() == std::vector<double>{1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3});
  backward_with_ones(y);
  CHECK(b.grad().to_vector<double>() == std::vector<double>{5, 5, 5});
  CHECK(w.grad().shape() == Shape{3, 0});
  CHECK(x.grad().shape() == Shape{5, 0});
  // A 1-d empty input: F.linear(torch.zeros(0), torch.zeros(3, 0), b) is b.
  CHECK(tg::linear(tg::zeros({0}, {.dtype = Dtype::Float64}), w, b).to_vector<double>() ==
        std::vector<double>{1, 2, 3});
}

TEST_CASE("cross_entropy over zero rows is NaN for the mean and 0 for the sum", "[zero_size]") {
  // F.cross_entropy(torch.zeros(0, 5), torch.zeros(0, dtype=torch.long)) is NaN (0/0) with and
  // without label_smoothing=0.1, 0 with reduction="sum", shape [0] with "none"; the logits'
  // gradient has shape [0, 5] each time.
  const Tensor target = tg::zeros({0}, {.dtype = Dtype::Int64});
  const struct {
    nn::CrossEntropyOptions options;
    Shape shape;
    std::optional<double> fill;
  } cases[] = {{nn::CrossEntropyOptions{}, {}, NAN},
               {nn::CrossEntropyOptions{.label_smoothing = 0.1}, {}, NAN},
               {nn::CrossEntropyOptions{.reduction = nn::Reduction::Sum}, {}, 0},
               {nn::CrossEntropyOptions{.reduction = nn::Reduction::None}, {0}, {}}};
  for (const auto& c : cases) {
    const Tensor logits = tg::zeros({0, 5}, {.requires_grad = true});
    const Tensor loss = nn::cross_entropy(logits, target, c.options);
    check_output(loss, c.shape, Dtype::Float32, c.fill);
    backward_with_ones(loss);
    check_zero_gradients({logits});
  }
  const Tensor logits = tg::zeros({0, 5}, {.requires_grad = true});
  const Tensor loss = nn::CrossEntropyLoss()(logits, target);
  check_output(loss, {}, Dtype::Float32, NAN);
}

TEST_CASE("layers pass an empty batch through, and the model's gradients are zero", "[zero_size]") {
  // torch: nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)) on torch.zeros(0, 4),
  // then F.cross_entropy(…, torch.zeros(0, dtype=torch.long)): loss NaN, every gradient zero.
  tg::manual_seed(19);
  nn::Sequential model{nn::Linear(4, 8), nn::ReLU(), nn::Linear(8, 3)};
  const Tensor logits = model(tg::zeros({0, 4}));
  CHECK(logits.shape() == Shape{0, 3});
  const Tensor loss = nn::cross_entropy(logits, tg::zeros({0}, {.dtype = Dtype::Int64}));
  CHECK(std::isnan(loss.item<float>()));
  loss.backward();
  check_zero_gradients(model.parameters());
  // torch.tanh / torch.sigmoid / torch.relu of torch.zeros(2, 0): shape [2, 0]
  const Tensor x = tg::zeros({2, 0});
  CHECK(nn::Tanh()(x).shape() == Shape{2, 0});
  CHECK(nn::Sigmoid()(x).shape() == Shape{2, 0});
  CHECK(nn::ReLU()(x).shape() == Shape{2, 0});
  // nn.utils.clip_grad_norm_ over one empty gradient returns a norm of 0.
  const Tensor p = tg::zeros({0}, {.requires_grad = true});
  tg::sum(p).backward();
  CHECK(nn::clip_grad_norm({p}, 1.0) == 0);
  Tensor filled = tg::empty({0, 3});
  nn::init::uniform_(filled, -1, 1);
  CHECK(filled.shape() == Shape{0, 3});
}

TEST_CASE("factories make zero-size tensors of every dtype", "[zero_size]") {
  // torch.zeros(0, 3), torch.full((0,), 7), torch.arange(0), torch.randn(0, 3), torch.tensor([])
  for (Dtype dtype : {Dtype::Float32, Dtype::Float64, Dtype::Int64}) {
    CHECK(tg::zeros({0, 3}, {.dtype = dtype}).numel() == 0);
    CHECK(tg::full({0}, 7, {.dtype = dtype}).shape() == Shape{0});
    CHECK(tg::arange(0, {.dtype = dtype}).shape() == Shape{0});
    CHECK(tg::empty({2, 0}, {.dtype = dtype}).to(Dtype::Float64).shape() == Shape{2, 0});
  }
  CHECK(tg::randn({0, 3}).shape() == Shape{0, 3});
  CHECK(tg::rand({0}).shape() == Shape{0});
  CHECK(tg::tensor({}, {0}).shape() == Shape{0});
  CHECK(tg::from_vector<int64_t>({}, {3, 0}).shape() == Shape{3, 0});
  // torch.zeros(0, dtype=torch.long) + 1 is an empty Int64 tensor.
  CHECK((tg::zeros({0}, {.dtype = Dtype::Int64}) + 1.0).shape() == Shape{0});
  CHECK(tg::argmax(tg::zeros({0, 3}), 1).shape() == Shape{0});  // torch.zeros(0, 3).argmax(1)
}

TEST_CASE("what PyTorch refuses on zero-size inputs is a tg::Error here", "[zero_size]") {
  // torch.zeros(0, 3).max(): "max(): Expected reduction dim to be specified for input.numel()
  // == 0"; likewise min(); .argmax(0): "Expected reduction dim 0 to have non-zero size".
  CHECK_TG_ERROR(tg::max(tg::zeros({0, 3})), "max: expected a non-empty tensor, got shape [0, 3]");
  CHECK_TG_ERROR(tg::min(tg::zeros({0, 3})), "min: expected a non-empty tensor, got shape [0, 3]");
  CHECK_TG_ERROR(tg::argmax(tg::zeros({0, 3}), 0), "argmax: dimension 0 of shape [0, 3] is empty");
  // torch.zeros(0).reshape(0, -1): "the unspecified dimension size -1 can be any value"
  CHECK_TG_ERROR(tg::zeros({0}).reshape({0, -1}),
                 "reshape: cannot reshape [0] (0 elements) into [0, -1]");
  // F.cross_entropy(torch.zeros(3, 0), torch.zeros(3, dtype=torch.long)): "Target 0 is out of
  // bounds."
  CHECK_TG_ERROR(nn::cross_entropy(tg::zeros({3, 0}), tg::zeros({3}, {.dtype = Dtype::Int64})),
                 "cross_entropy: class index 0 at position 0 is out of range [0, 0)");
}

TEST_CASE("data_parallel_backward on an empty batch matches backward", "[zero_size][parallel]") {
  // Issue 19: an empty batch through data_parallel_backward. As with the plain backward above
  // (torch: loss NaN, every gradient zero), for 1 to 3 threads.
  const struct RestoreThreads {
    int count = tg::num_threads();
    ~RestoreThreads() { tg::set_num_threads(count); }
  } restore;
  for (int threads : {1, 2, 3}) {
    INFO(threads << " threads");
    tg::set_num_threads(threads);
    tg::manual_seed(19);
    nn::Sequential model{nn::Linear(4, 8), nn::ReLU(), nn::Linear(8, 3)};
    const nn::ShardLoss loss = [&](const Tensor& x, const Tensor& y) {
      return nn::cross_entropy(model(x), y);
    };
    const Tensor result = nn::data_parallel_backward(model.parameters(), tg::zeros({0, 4}),
                                                     tg::zeros({0}, {.dtype = Dtype::Int64}), loss);
    CHECK(std::isnan(result.item<float>()));
    check_zero_gradients(model.parameters());
  }
}
