// Composite Float64 expressions: value and gradients against PyTorch's, to 1e-12 relative.
// The reference numbers come from fixtures/make_autograd_fixtures.py.

#include "fixture.hpp"
#include "helpers.hpp"

#include <cmath>
#include <functional>

using tg::Tensor;
using Inputs = std::map<std::string, Tensor>;

namespace {

// The same expressions as CASES in make_autograd_fixtures.py.
const std::map<std::string, std::function<Tensor(Inputs&)>> kExpressions = {
    {"mlp_tanh_sigmoid",
     [](Inputs& in) {
       Tensor z = tg::matmul(in["x"], in["w"]) + in["b"];
       return tg::sum(tg::tanh(z) * tg::sigmoid(z));
     }},
    {"log_softmax_nll",
     [](Inputs& in) {
       return -tg::mean(
           tg::sum(tg::log_softmax(tg::matmul(in["x"], in["w"]), 1) * in["t_const"], 1));
     }},
    {"broadcast_mix",
     [](Inputs& in) {
       Tensor a = in["a"], b = in["b"];
       return tg::sum(tg::sqrt(tg::abs(a) + 1.0) / (tg::exp(b) + 2.0) - tg::pow(a, 3) * b);
     }},
    {"softmax_weighted",
     [](Inputs& in) {
       return tg::sum(tg::softmax(in["x"], 0) * in["w"]) +
              tg::sum(tg::softmax(in["x"], -1) * in["w"]);
     }},
    {"extremes_relu",
     [](Inputs& in) {
       Tensor x = in["x"];
       return tg::max(x) + 2.0 * tg::min(x) + tg::sum(tg::mean(tg::relu(x), 0)) +
              tg::mean(tg::square(x));
     }},
    {"matvec_chain",
     [](Inputs& in) {
       Tensor v = in["v"];
       return tg::matmul(in["u"], tg::tanh(tg::matmul(in["A"], v))) / (1.0 + tg::sum(v * v));
     }},
    {"reshape_transpose",
     [](Inputs& in) {
       Tensor h = tg::matmul(in["x"].transpose(0, 2).reshape({4, 6}), in["W"]);
       return tg::sum(tg::log(1.0 + tg::square(h)));
     }},
    {"division_chain",
     [](Inputs& in) {
       Tensor p = in["p"], q = in["q"];
       return tg::sum((p / (q * q + 1.0)) - 3.0 / (p * p + 2.0) + tg::mean(p - q, 1, true));
     }},
};

void check_close(const Tensor& actual, const Tensor& expected, const std::string& what) {
  INFO(what);
  REQUIRE(actual.shape() == expected.shape());
  const std::vector<double> a = actual.to_vector<double>();
  const std::vector<double> e = expected.to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(std::abs(a[i] - e[i]) <= 1e-12 * std::max(1.0, std::abs(e[i])));
  }
}

}  // namespace

TEST_CASE("composite Float64 expressions match PyTorch's values and gradients", "[parity]") {
  const auto cases = tg::testing::read_fixture("autograd_parity.txt");
  REQUIRE(cases.size() == kExpressions.size());
  for (const auto& fixture : cases) {
    DYNAMIC_SECTION(fixture.name) {
      Inputs inputs;
      for (const auto& [label, t] : fixture.tensors) {
        const bool is_input = label != "out" && label.rfind("grad_", 0) != 0;
        if (is_input)
          inputs[label] = t.clone().set_requires_grad(label.find("_const") == std::string::npos);
      }
      Tensor out = kExpressions.at(fixture.name)(inputs);
      out.backward();
      check_close(out, fixture.at("out"), "value");
      for (auto& [label, t] : inputs) {
        if (t.requires_grad())
          check_close(t.grad(), fixture.at("grad_" + label), "grad of " + label);
      }
    }
  }
}
