// Derivatives of derivatives: create_graph, gradgradcheck, torch.autograd.functional's products
// and matrices, against closed forms and PyTorch 1.13
// (tests/fixtures/make_higher_order_fixtures.py).

#include "fixture.hpp"
#include "helpers.hpp"

#include <cmath>
#include <functional>
#include <map>

using tg::Dtype;
using tg::Tensor;
using tg::testing::kTight;
using tg::testing::randn64;
namespace F = tg::nn::functional;

namespace {

using Inputs = std::map<std::string, Tensor>;

// |a − e| ≤ 1e-10·max(1, |e|) elementwise (the bar for Float64 against PyTorch).
void check_close(const Tensor& actual, const Tensor& expected, const std::string& what) {
  INFO(what);
  REQUIRE(actual.defined());
  REQUIRE(actual.shape() == expected.shape());
  const std::vector<double> a = actual.to_vector<double>();
  const std::vector<double> e = expected.to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("element " << i << ": " << a[i] << " vs PyTorch's " << e[i]);
    CHECK(std::abs(a[i] - e[i]) <= 1e-10 * std::max(1.0, std::abs(e[i])));
  }
}

// The fixture's scalar functions, by case name (the same expressions as the script's).
const std::map<std::string, std::function<Tensor(const Inputs&)>> kFunctions = {
    {"tanh_linear",
     [](const Inputs& in) {
       return tg::sum(
           tg::matmul(tg::tanh(tg::linear(in.at("x"), in.at("W"), in.at("b"))), in.at("w2")));
     }},
    {"sigmoid_matmul",
     [](const Inputs& in) {
       return tg::sum(tg::sigmoid(tg::matmul(in.at("x"), in.at("W"))) * in.at("c_const"));
     }},
    {"softplus_gelu",
     [](const Inputs& in) {
       const Tensor z = tg::matmul(in.at("x"), in.at("W"));
       return tg::sum(F::softplus(z, 2.0) + F::gelu(z) + F::gelu(in.at("x"), "tanh"));
     }},
    {"silu_elu_mish",
     [](const Inputs& in) {
       const Tensor z = tg::matmul(in.at("x"), in.at("W"));
       return tg::sum(F::silu(z) * F::elu(z, 0.7) + F::mish(z));
     }},
    {"softmax_log_softmax",
     [](const Inputs& in) {
       const Tensor z = tg::matmul(in.at("x"), in.at("W"));
       return tg::sum(tg::softmax(z, 1) * in.at("c_const")) +
              tg::sum(tg::log_softmax(z, 0) * in.at("c_const"));
     }},
    {"cross_entropy",
     [](const Inputs& in) {
       return tg::nn::cross_entropy(tg::linear(in.at("x"), in.at("W"), in.at("b")),
                                    in.at("target_const").to(Dtype::Int64));
     }},
    {"mse_tanh",
     [](const Inputs& in) {
       return tg::nn::mse_loss(tg::tanh(tg::linear(in.at("x"), in.at("W"))), in.at("y_const"));
     }},
    {"bce_with_logits",
     [](const Inputs& in) {
       return tg::nn::binary_cross_entropy_with_logits(tg::matmul(in.at("x"), in.at("W")),
                                                       in.at("y_const"));
     }},
    {"mlp_two_layers",
     [](const Inputs& in) {
       const Tensor h = tg::tanh(tg::linear(in.at("x"), in.at("W1"), in.at("b1")));
       return tg::sum(tg::linear(h, in.at("W2"), in.at("b2")));
     }},
    {"mlp_loss",
     [](const Inputs& in) {
       const Tensor h = tg::sigmoid(tg::linear(in.at("x_const"), in.at("W1"), in.at("b1")));
       return tg::nn::mse_loss(tg::linear(h, in.at("W2")), in.at("y_const"));
     }},
    {"log_sum_exp_quartic",
     [](const Inputs& in) {
       const Tensor& a = in.at("a");
       const Tensor& B = in.at("B");
       return tg::logsumexp(tg::matmul(B, a), 0) + tg::sum(tg::pow(a, 4.0)) * 0.1 + tg::prod(B * B);
     }},
};

bool is_input_label(const std::string& label) {
  return label != "out" && label.rfind("grad_", 0) != 0 && label.rfind("hvp_", 0) != 0 &&
         label.rfind("v_", 0) != 0;
}

// The fixture's inputs as fresh leaves; those not ending in "_const" require grad.
Inputs inputs_of(const tg::testing::FixtureCase& fixture) {
  Inputs inputs;
  for (const auto& [label, t] : fixture.tensors) {
    if (!is_input_label(label)) continue;
    inputs[label] = t.clone().set_requires_grad(label.find("_const") == std::string::npos);
  }
  return inputs;
}

}  // namespace

TEST_CASE("gradient penalties and Hessian-vector products match PyTorch in Float64",
          "[higher_order]") {
  const auto cases = tg::testing::read_fixture("higher_order.txt");
  REQUIRE(cases.size() == kFunctions.size());
  for (const auto& fixture : cases) {
    DYNAMIC_SECTION(fixture.name) {
      Inputs inputs = inputs_of(fixture);
      std::vector<std::string> names;
      std::vector<Tensor> wrt;
      for (const auto& [label, t] : inputs) {
        if (t.requires_grad()) {
          names.push_back(label);
          wrt.push_back(t);
        }
      }
      if (fixture.name.rfind("penalty_", 0) == 0) {
        const auto& f = kFunctions.at(fixture.name.substr(8));
        // P = ‖∂f/∂x‖², the gradient taken with create_graph, then P differentiated.
        const Tensor dx = tg::grad(f(inputs), {inputs.at("x")}, {}, false, true)[0];
        const Tensor penalty = tg::sum(dx * dx);
        check_close(penalty, fixture.at("out"), "penalty");
        const std::vector<Tensor> grads = tg::grad(penalty, wrt);
        for (size_t i = 0; i < wrt.size(); ++i) {
          const Tensor g = grads[i].defined() ? grads[i] : tg::zeros_like(wrt[i]);
          check_close(g, fixture.at("grad_" + names[i]), "d penalty / d " + names[i]);
        }
      } else {
        const auto& f = kFunctions.at(fixture.name.substr(4));
        std::vector<Tensor> v;
        for (const std::string& name : names) v.push_back(fixture.at("v_" + name));
        const auto as_inputs = [&](const std::vector<Tensor>& args) {
          Inputs all = inputs;
          for (size_t i = 0; i < names.size(); ++i) all[names[i]] = args[i];
          return f(all);
        };
        const auto [value, hvp] = tg::autograd::hvp(as_inputs, wrt, v);
        check_close(value, fixture.at("out"), "value");
        for (size_t i = 0; i < wrt.size(); ++i) {
          check_close(hvp[i], fixture.at("hvp_" + names[i]), "hvp of " + names[i]);
        }
      }
    }
  }
}

TEST_CASE("create_graph differentiates x³ three times, and plain backward records nothing",
          "[higher_order]") {
  const Tensor x = tg::tensor({0.5, -1.5, 2.0}, {3}, {.dtype = Dtype::Float64}).set_requires_grad();
  const Tensor y = tg::sum(x * x * x);
  const Tensor d1 = tg::grad(y, {x}, {}, false, true)[0];            // 3x²
  const Tensor d2 = tg::grad(tg::sum(d1), {x}, {}, false, true)[0];  // 6x
  const Tensor d3 = tg::grad(tg::sum(d2), {x})[0];                   // 6
  CHECK(d1.to_vector<double>() == std::vector<double>{0.75, 6.75, 12.0});
  CHECK(d2.to_vector<double>() == std::vector<double>{3.0, -9.0, 12.0});
  CHECK(d3.to_vector<double>() == std::vector<double>{6.0, 6.0, 6.0});
  CHECK(d1.requires_grad());
  CHECK_FALSE(d3.requires_grad());

  SECTION("backward(create_graph) leaves a differentiable .grad()") {
    const Tensor w = tg::tensor({2.0}, {1}, {.dtype = Dtype::Float64}).set_requires_grad();
    tg::sum(tg::sin(w)).backward({}, false, true);
    REQUIRE(w.grad().requires_grad());
    // d/dw cos(w) = −sin(w)
    CHECK(tg::grad(tg::sum(w.grad()), {w})[0].item<double>() == Approx(-std::sin(2.0)));
  }
  SECTION("without create_graph, backward adds no node and .grad() has no history") {
    const Tensor w = tg::tensor({2.0}, {1}, {.dtype = Dtype::Float64}).set_requires_grad();
    const Tensor loss = tg::sum(tg::sin(w) * w);
    const int64_t before = tg::debug::live_nodes();
    loss.backward();
    CHECK(tg::debug::live_nodes() == before);
    CHECK_FALSE(w.grad().requires_grad());
  }
}

TEST_CASE("grad of several outputs sums their vector-Jacobian products", "[higher_order]") {
  const Tensor x = randn64({3});
  const Tensor a = x * x, b = tg::sin(x);
  const Tensor u = randn64({3}).detach(), v = randn64({3}).detach();
  const Tensor both = tg::grad({a, b}, {x}, {u, v})[0];
  // d/dx (u·x² + v·sin x) = 2ux + v cos x
  const Tensor expected = 2.0 * u * x.detach() + v * tg::cos(x.detach());
  CHECK(tg::max(tg::abs(both - expected)).item<double>() < 1e-15);
  CHECK_TG_ERROR(tg::grad({a, b}, {x}, {u}), "grad: 1 grad_outputs for 2 outputs");
}

// torch 1.13: x = [-1, 0.5, 2] requiring grad, g = grad(relu(x).sum(), x, create_graph=True)
// gives g.requires_grad True, and (g * g).sum().backward() gives x.grad = [0, 0, 0]; the same for
// leaky_relu, hardtanh and abs (their backward depends on x with a zero derivative).
TEST_CASE("a gradient through relu, leaky_relu, hardtanh or abs is on the tape, as torch's",
          "[higher_order]") {
  const std::vector<std::pair<const char*, std::function<Tensor(const Tensor&)>>> ops = {
      {"relu", [](const Tensor& x) { return tg::relu(x); }},
      {"leaky_relu", [](const Tensor& x) { return F::leaky_relu(x, 0.1); }},
      {"hardtanh", [](const Tensor& x) { return F::hardtanh(x); }},
      {"abs", [](const Tensor& x) { return tg::abs(x); }},
  };
  for (const auto& [name, op] : ops) {
    INFO(name);
    const Tensor x = tg::testing::leaf64({-1, 0.5, 2}, {3});
    const Tensor g = tg::grad(op(x).sum(), {x}, {}, false, /*create_graph=*/true)[0];
    CHECK(g.requires_grad());
    (g * g).sum().backward();
    REQUIRE(x.grad().defined());
    CHECK(x.grad().to_vector<double>() == std::vector<double>{0, 0, 0});
  }
  // A gradient penalty of a ReLU RNN reaches every parameter (zeros where torch gives zeros).
  tg::manual_seed(5);
  tg::nn::RNN rnn(3, 4, {.nonlinearity = "relu"});
  const Tensor x = randn64({5, 2, 3});
  const Tensor out = std::get<0>(rnn.forward(x.to(Dtype::Float32)));
  const Tensor g = tg::grad(out.sum(), {x}, {}, false, true)[0];
  (g * g).sum().backward();
  for (const auto& [name, p] : rnn.named_parameters()) {
    INFO(name);
    CHECK(p.grad().defined());
  }
}

TEST_CASE("gradgradcheck catches a backward that is right only to first order", "[higher_order]") {
  // x³ whose backward computes 3x² with a detached factor: its first derivative is right, its
  // second is 0 instead of 6x·gy.
  const auto first_order_only = [](const std::vector<Tensor>& in) {
    const Tensor& x = in[0];
    const Tensor y = (x * x * x).detach();
    return tg::record("cube", y, {x}, [s = tg::SavedTensor(x)](const Tensor& gy) -> tg::Grads {
      return {gy * (3.0 * s.get() * s.get()).detach()};
    });
  };
  const Tensor x = randn64({4});
  CHECK(tg::gradcheck(first_order_only, {x}, kTight));
  CHECK_FALSE(tg::gradgradcheck(first_order_only, {x}, {.print_mismatch = false}));
}

TEST_CASE("Hessians, Jacobians and their products against closed forms", "[higher_order]") {
  tg::manual_seed(18);
  const Tensor A = randn64({3, 3}).detach();
  const Tensor x0 = randn64({3}).detach();
  SECTION("the Hessian of xᵀAx is A + Aᵀ") {
    const auto quadratic = [&](const std::vector<Tensor>& in) {
      return tg::dot(in[0], tg::matmul(A, in[0]));
    };
    const auto H = tg::autograd::hessian(quadratic, {x0});
    CHECK(tg::max(tg::abs(H[0][0] - (A + A.t()))).item<double>() < 1e-14);
    const Tensor v = randn64({3}).detach();
    const auto [value, hv] = tg::autograd::hvp(quadratic, {x0}, {v});
    const auto [same_value, vh] = tg::autograd::vhp(quadratic, {x0}, {v});
    const Tensor expected = tg::matmul(A + A.t(), v);
    CHECK(tg::max(tg::abs(hv[0] - expected)).item<double>() < 1e-14);
    CHECK(tg::max(tg::abs(vh[0] - expected)).item<double>() < 1e-14);
    CHECK(value.item<double>() == Approx(tg::dot(x0, tg::matmul(A, x0)).item<double>()));
    CHECK_FALSE(hv[0].requires_grad());
  }
  SECTION("the Hessian of Σ log(1 + eˣ) is diag(σ(1 − σ))") {
    const auto softplus_sum = [](const std::vector<Tensor>& in) {
      return tg::sum(tg::log1p(tg::exp(in[0])));
    };
    const Tensor s = tg::sigmoid(x0);
    const auto H = tg::autograd::hessian(softplus_sum, {x0});
    const Tensor expected = tg::eye(3, {.dtype = Dtype::Float64}) * (s * (1.0 - s));
    CHECK(tg::max(tg::abs(H[0][0] - expected)).item<double>() < 1e-15);
  }
  SECTION("the Jacobian of tanh(Ax) is diag(1 − tanh²)·A, and jvp/vjp are its products") {
    const auto layer = [&](const std::vector<Tensor>& in) {
      return tg::tanh(tg::matmul(A, in[0]));
    };
    const Tensor t = tg::tanh(tg::matmul(A, x0));
    const Tensor expected = (1.0 - t * t).reshape({3, 1}) * A;
    const auto J = tg::autograd::jacobian(layer, {x0});
    CHECK(J[0].shape() == tg::Shape{3, 3});
    CHECK(tg::max(tg::abs(J[0] - expected)).item<double>() < 1e-15);
    const Tensor v = randn64({3}).detach();
    const auto [value, jv] = tg::autograd::jvp(layer, {x0}, {v});
    CHECK(tg::max(tg::abs(jv - tg::matmul(expected, v))).item<double>() < 1e-14);
    const auto [same, vj] = tg::autograd::vjp(layer, {x0}, v);
    CHECK(tg::max(tg::abs(vj[0] - tg::matmul(v, expected))).item<double>() < 1e-14);
  }
  SECTION("mixed blocks: the Hessian of Σ a·b² over two inputs") {
    const auto f = [](const std::vector<Tensor>& in) { return tg::sum(in[0] * in[1] * in[1]); };
    const Tensor a = randn64({2}).detach(), b = randn64({2}).detach();
    const auto H = tg::autograd::hessian(f, {a, b});
    // ∂²/∂a² = 0, ∂²/∂a∂b = diag(2b), ∂²/∂b² = diag(2a)
    const Tensor I = tg::eye(2, {.dtype = Dtype::Float64});
    CHECK(tg::max(tg::abs(H[0][0])).item<double>() == 0.0);
    CHECK(tg::max(tg::abs(H[0][1] - I * (2.0 * b))).item<double>() < 1e-15);
    CHECK(tg::max(tg::abs(H[1][0] - I * (2.0 * b))).item<double>() < 1e-15);
    CHECK(tg::max(tg::abs(H[1][1] - I * (2.0 * a))).item<double>() < 1e-15);
  }
  SECTION("bad arguments are errors naming the function and the shapes") {
    const auto vector_valued = [](const std::vector<Tensor>& in) { return in[0] * 2.0; };
    CHECK_TG_ERROR(tg::autograd::hessian(vector_valued, {x0}),
                   "hessian: the function must return a one-element tensor, got shape [3]");
    CHECK_TG_ERROR(tg::autograd::jvp(vector_valued, {x0}, {randn64({2})}),
                   "jvp: v[0] must match input 0 (Float64 [3]), got [2]");
    CHECK_TG_ERROR(tg::autograd::hvp(vector_valued, {x0}, {}), "hvp: expected one v per input");
  }
}

TEST_CASE("a .grad() recorded by backward(create_graph) does not keep its parameter alive",
          "[higher_order][memory]") {
  // w.grad() = cos(w)·w + sin(w) is recorded from nodes that lead back to w; in PyTorch that is
  // a reference cycle (a leak until .grad is reset). Here the tape points at parameters weakly.
  const int64_t nodes = tg::debug::live_nodes();
  const int64_t storages = tg::debug::live_storages();
  {
    const Tensor w = tg::tensor({2.0}, {1}, {.dtype = Dtype::Float64}).set_requires_grad();
    tg::sum(tg::sin(w) * w).backward({}, false, true);
    REQUIRE(w.grad().requires_grad());
    CHECK(tg::debug::live_nodes() > nodes);
    // The recorded gradient still reaches w: d/dw (w cos w + sin w) = 2 cos w − w sin w.
    CHECK(tg::grad(tg::sum(w.grad()), {w})[0].item<double>() ==
          Approx(2 * std::cos(2.0) - 2 * std::sin(2.0)));
  }
  CHECK(tg::debug::live_nodes() == nodes);
  CHECK(tg::debug::live_storages() == storages);
}

TEST_CASE("a parameter dropped before backward still lends its values to the others' gradients",
          "[higher_order]") {
  const Tensor a = tg::tensor({1.0, 2.0}, {2}, {.dtype = Dtype::Float64}).set_requires_grad();
  Tensor loss;
  {
    const Tensor b = tg::tensor({3.0, -4.0}, {2}, {.dtype = Dtype::Float64}).set_requires_grad();
    loss = tg::sum(a * b);
  }
  loss.backward();  // b is gone, and so is its .grad(); a's gradient is b's values
  CHECK(a.grad().to_vector<double>() == std::vector<double>{3.0, -4.0});
}

TEST_CASE("10,000 gradient-penalty steps leave no nodes behind", "[higher_order][memory]") {
  tg::manual_seed(7);
  tg::nn::Linear layer(3, 1);
  tg::optim::SGD optimizer(layer.parameters(), {.lr = 1e-3});
  Tensor x = tg::randn({8, 3}).set_requires_grad();
  const Tensor y = tg::randn({8, 1});
  const int64_t start = tg::debug::live_nodes();
  for (int step = 0; step < 10000; ++step) {
    optimizer.zero_grad();
    const Tensor out = tg::tanh(layer(x));
    const Tensor dx = tg::grad(out, {x}, tg::ones_like(out), false, true)[0];
    const Tensor loss = tg::nn::mse_loss(out, y) + 0.1 * tg::sum(dx * dx);
    loss.backward();
    optimizer.step();
  }
  x.zero_grad();
  CHECK(tg::debug::live_nodes() == start);
}
