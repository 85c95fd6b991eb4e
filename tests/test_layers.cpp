// nn beyond Linear: module buffers and traversal, the activations of tg::nn::functional against
// PyTorch 1.13 (tests/fixtures/activations.txt, make_activation_fixtures.py), and their layers.

#include "helpers.hpp"
#include "scratch.hpp"
#include "tensor_api_fixture.hpp"

using tg::Dtype;
using tg::Tensor;
using tg::testing::FixtureCase;
using tg::testing::randn64;
using D = std::vector<double>;
namespace F = tg::nn::F;

namespace {

// A module with a buffer and a forward of two arguments, as BatchNorm and RNN cells have.
struct Scaler : tg::nn::Module {
  Scaler() {
    weight = register_parameter("weight", tg::ones({2}));
    count = register_buffer("count", tg::zeros({}, {.dtype = Dtype::Int64}));
    scale = register_buffer("scale", tg::full({2}, 3));
  }
  Tensor forward(const Tensor& x, const Tensor& y) { return x * weight * scale + y; }
  Tensor weight, count, scale;
};

struct Pair : tg::nn::Module {
  Pair() {
    first = register_module("first", std::make_shared<Scaler>());
    register_module("second", std::make_shared<tg::nn::Linear>(2, 1));
  }
  std::shared_ptr<Scaler> first;
};

}  // namespace

TEST_CASE("buffers are state: listed, saved, loaded and converted, never given gradients",
          "[layers]") {
  Pair model;
  CHECK(model.first->weight.requires_grad());
  CHECK_FALSE(model.first->scale.requires_grad());
  std::vector<std::string> names;
  for (const auto& [name, tensor] : model.state_dict()) names.push_back(name);
  // PyTorch's state_dict order: a module's parameters, its buffers, then its children's.
  CHECK(names == std::vector<std::string>{"first.weight", "first.count", "first.scale",
                                          "second.weight", "second.bias"});
  CHECK(model.named_buffers().size() == 2);
  CHECK(model.buffers().size() == 2);
  CHECK(model.parameters().size() == 3);  // buffers are not parameters

  tg::testing::ScratchDir dir;
  tg::save(model, dir / "pair.safetensors");
  Pair other;
  {
    tg::NoGradGuard no_grad;
    other.first->scale.fill_(9);
  }
  tg::load(other, dir / "pair.safetensors");
  CHECK(other.first->scale.to_vector<float>() == std::vector<float>{3, 3});

  model.to(Dtype::Float64);
  CHECK(model.first->scale.dtype() == Dtype::Float64);
  CHECK(model.first->count.dtype() == Dtype::Int64);  // integer buffers keep their dtype
  CHECK_TG_ERROR(model.first->register_buffer("weight", tg::zeros({1})),
                 "register_buffer: the module already has a parameter, buffer or child named "
                 "'weight'");
}

TEST_CASE("a module may define its own forward and is still a child", "[layers]") {
  Pair model;
  const Tensor out = model.first->forward(tg::ones({2}), tg::ones({2}));
  CHECK(out.to_vector<float>() == std::vector<float>{4, 4});  // 1·1·3 + 1
  CHECK_TG_ERROR((*model.first)(tg::ones({2})), "has no forward(Tensor)");
}

TEST_CASE("children, named_modules and apply walk the tree in PyTorch's order", "[layers]") {
  tg::nn::Sequential model{tg::nn::Linear(2, 3), tg::nn::Tanh(), tg::nn::Linear(3, 1)};
  CHECK(model.children().size() == 3);
  std::vector<std::string> names;
  for (const auto& [name, module] : model.named_modules()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"", "0", "1", "2"});
  Pair pair;
  names.clear();
  for (const auto& [name, module] : pair.named_modules()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"", "first", "second"});
  int visited = 0;
  std::vector<tg::nn::Module*> order;
  model.apply([&](tg::nn::Module& m) {
    ++visited;
    order.push_back(&m);
  });
  CHECK(visited == 4);
  CHECK(order.back() == &model);  // children first, then the module itself
  model.eval();
  for (const auto& [name, module] : model.named_modules()) CHECK_FALSE(module->is_training());
}

// torch 1.13: a module registered under two names is one child; named_modules lists it once,
// under its first name, and apply reaches it once.
TEST_CASE("a module registered twice is one child, as in torch", "[layers]") {
  struct Twice : tg::nn::Module {
    Twice() {
      auto shared = register_module("a", std::make_shared<tg::nn::Linear>(2, 2));
      register_module("b", shared);
    }
  } twice;
  CHECK(twice.children().size() == 1);
  std::vector<std::string> names;
  for (const auto& [name, module] : twice.named_modules()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"", "a"});
  int visited = 0;
  twice.apply([&](tg::nn::Module&) { ++visited; });
  CHECK(visited == 2);
  CHECK(twice.parameters().size() == 2);
}

TEST_CASE("Module::to keeps a parameter's gradient, converted, as torch's module.double()",
          "[layers]") {
  tg::nn::Linear layer(3, 2);
  layer(tg::ones({4, 3})).sum().backward();
  const std::vector<float> before = layer.weight.grad().to_vector<float>();
  layer.to(Dtype::Float64);
  REQUIRE(layer.weight.grad().defined());
  CHECK(layer.weight.grad().dtype() == Dtype::Float64);
  const std::vector<double> after = layer.weight.grad().to_vector<double>();
  CHECK(std::vector<double>(before.begin(), before.end()) == after);
}

TEST_CASE("activations give PyTorch 1.13's values and gradients", "[layers]") {
  const auto number = [](const FixtureCase& c, const char* key, double fallback) {
    return c.option(key, fallback);
  };
  using Inputs = std::map<std::string, Tensor>;
  const std::map<std::string, tg::testing::TensorApiOp> ops = {
      {"leaky_relu",
       [&](const FixtureCase& c, const Inputs& in) -> std::vector<Tensor> {
         return {F::leaky_relu(in.at("x"), number(c, "negative_slope", 0.01))};
       }},
      {"elu",
       [&](const FixtureCase& c, const Inputs& in) -> std::vector<Tensor> {
         return {F::elu(in.at("x"), number(c, "alpha", 1))};
       }},
      {"gelu",
       [](const FixtureCase& c, const Inputs& in) -> std::vector<Tensor> {
         return {F::gelu(in.at("x"), c.options.at("approximate"))};
       }},
      {"silu",
       [](const FixtureCase&, const Inputs& in) -> std::vector<Tensor> {
         return {F::silu(in.at("x"))};
       }},
      {"softplus",
       [&](const FixtureCase& c, const Inputs& in) -> std::vector<Tensor> {
         return {F::softplus(in.at("x"), number(c, "beta", 1), number(c, "threshold", 20))};
       }},
      {"hardtanh",
       [&](const FixtureCase& c, const Inputs& in) -> std::vector<Tensor> {
         return {F::hardtanh(in.at("x"), number(c, "min_val", -1), number(c, "max_val", 1))};
       }},
      {"mish",
       [](const FixtureCase&, const Inputs& in) -> std::vector<Tensor> {
         return {F::mish(in.at("x"))};
       }},
  };
  const std::set<std::string> seen =
      tg::testing::check_tensor_api_cases(ops, 1e-10, "activations.txt");
  CHECK(seen.size() == ops.size());
}

TEST_CASE("activations pass gradcheck", "[layers][gradcheck]") {
  tg::manual_seed(21);
  using Fn = std::function<Tensor(const Tensor&)>;
  const std::vector<std::pair<std::string, Fn>> rows = {
      {"leaky_relu", [](const Tensor& x) { return F::leaky_relu(x, 0.1); }},
      {"elu", [](const Tensor& x) { return F::elu(x, 0.7); }},
      {"gelu", [](const Tensor& x) { return F::gelu(x); }},
      {"gelu tanh", [](const Tensor& x) { return F::gelu(x, "tanh"); }},
      {"silu", [](const Tensor& x) { return F::silu(x); }},
      {"softplus", [](const Tensor& x) { return F::softplus(x, 2, 1); }},
      {"hardtanh", [](const Tensor& x) { return F::hardtanh(x, -0.7, 0.9); }},
      {"mish", [](const Tensor& x) { return F::mish(x); }},
  };
  for (const auto& [name, fn] : rows) {
    DYNAMIC_SECTION(name) {
      const Tensor x = randn64({4, 3});
      const auto of_input = [&](const auto& in) { return fn(in[0]); };
      CHECK(tg::gradcheck(of_input, {x}, tg::testing::kTight));
      CHECK(tg::gradgradcheck(of_input, {x}, tg::testing::kTight));
    }
  }
}

TEST_CASE("activation gradients at the kinks follow PyTorch", "[layers]") {
  // torch 1.13: leaky_relu'(0) = slope, elu'(0) = alpha, hardtanh'(±1) = 0.
  const auto slope_at = [](auto fn, double at) {
    Tensor x = tg::tensor({at}, {1}, {.dtype = Dtype::Float64, .requires_grad = true});
    fn(x).sum().backward();
    return x.grad().item<double>();
  };
  CHECK(slope_at([](const Tensor& x) { return F::leaky_relu(x, 0.2); }, 0) == 0.2);
  CHECK(slope_at([](const Tensor& x) { return F::elu(x, 0.5); }, 0) == 0.5);
  CHECK(slope_at([](const Tensor& x) { return F::hardtanh(x); }, 1) == 0);
  CHECK(slope_at([](const Tensor& x) { return F::hardtanh(x); }, -1) == 0);
  CHECK_TG_ERROR(F::gelu(tg::ones({1}), "fast"), "gelu: approximate must be \"none\" or \"tanh\"");
  CHECK_TG_ERROR(F::hardtanh(tg::ones({1}), 1, 0), "hardtanh: min_val 1 is greater than max_val 0");
}

TEST_CASE("dropout zeroes with probability p and scales the rest, only in training", "[layers]") {
  tg::manual_seed(5);
  const Tensor x = tg::ones({100000}, {.dtype = Dtype::Float64});
  const Tensor y = F::dropout(x, 0.25, true);
  const std::vector<double> values = y.to_vector<double>();
  int64_t kept = 0;
  for (double v : values) {
    CHECK((v == 0 || v == 1 / 0.75));
    kept += v != 0;
  }
  // Binomial(100000, 0.75): σ ≈ 137, so 6σ ≈ 822.
  CHECK(std::abs(kept - 75000) < 822);
  CHECK(F::dropout(x, 0.25, false).to_vector<double>() == x.to_vector<double>());
  CHECK_TG_ERROR(F::dropout(x, 1.5, true), "dropout: p must be in [0, 1], got 1.5");
}

TEST_CASE("one_hot makes PyTorch's Int64 rows", "[layers]") {
  const Tensor index = tg::tensor({0, 2, 1}, {3}, {.dtype = Dtype::Int64});
  CHECK(F::one_hot(index).to_vector<int64_t>() == std::vector<int64_t>{1, 0, 0, 0, 0, 1, 0, 1, 0});
  CHECK(F::one_hot(index, 4).shape() == tg::Shape{3, 4});
  CHECK_TG_ERROR(F::one_hot(index, 2), "one_hot: index 2 is out of range for num_classes 2");
  CHECK_TG_ERROR(F::one_hot(tg::tensor({-1}, {1}, {.dtype = Dtype::Int64})),
                 "one_hot: index -1 at position 0 is negative");
}

TEST_CASE("activation and small layers as modules", "[layers]") {
  const Tensor x = tg::tensor({-2, 0.5, 3}, {3});
  CHECK(tg::nn::LeakyReLU(0.5)(x).to_vector<float>() == std::vector<float>{-1, 0.5, 3});
  CHECK(tg::nn::Hardtanh()(x).to_vector<float>() == std::vector<float>{-1, 0.5, 1});
  CHECK(tg::nn::Identity()(x).to_vector<float>() == x.to_vector<float>());
  CHECK(tg::nn::GELU("tanh")(x).to_vector<float>() == F::gelu(x, "tanh").to_vector<float>());
  CHECK(tg::nn::Softmax(0)(x).to_vector<float>() == tg::softmax(x, 0).to_vector<float>());
  CHECK_TG_ERROR(tg::nn::GELU("fast"), "GELU: approximate must be");
  CHECK(tg::nn::Flatten()(tg::zeros({2, 3, 4})).shape() == tg::Shape{2, 12});
  tg::nn::Dropout dropout(0.5);
  dropout.eval();
  CHECK(dropout(x).to_vector<float>() == x.to_vector<float>());
  CHECK_TG_ERROR(tg::nn::Dropout(-0.1), "Dropout: p must be in [0, 1], got -0.1");
}
