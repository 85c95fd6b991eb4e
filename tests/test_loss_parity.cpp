// Losses and the fused linear against PyTorch (fixtures/make_loss_fixtures.py): values and
// input gradients for every reduction, with and without label smoothing, extreme logits too.

#include "fixture.hpp"
#include "helpers.hpp"

#include <cmath>

using tg::Tensor;
using tg::nn::Reduction;

namespace {

Reduction parse_reduction(const std::string& name) {
  if (name == "mean") return Reduction::Mean;
  if (name == "sum") return Reduction::Sum;
  return Reduction::None;
}

void check_close(const Tensor& actual, const Tensor& expected, double tolerance) {
  REQUIRE(actual.shape() == expected.shape());
  const std::vector<double> a = actual.to_vector<double>();
  const std::vector<double> e = expected.to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("element " << i);
    REQUIRE(std::isfinite(a[i]));
    CHECK(std::abs(a[i] - e[i]) <= tolerance * std::max(1.0, std::abs(e[i])));
  }
}

// Runs one fixture case in `dtype` and compares value and gradients.
void replay(const tg::testing::FixtureCase& c, tg::Dtype dtype, double tolerance) {
  const std::string loss = c.options.at("loss");
  std::map<std::string, Tensor> inputs;
  for (const auto& [label, t] : c.tensors) {
    if (label == "out" || label == "upstream" || label.rfind("grad_", 0) == 0) continue;
    inputs[label] = t.to(dtype).clone().set_requires_grad(c.tensors.count("grad_" + label) > 0);
  }
  Tensor out;
  if (loss == "cross_entropy") {
    const Tensor target = c.at("target").to(tg::Dtype::Int64);
    out = tg::nn::cross_entropy(inputs["logits"], target,
                                {.reduction = parse_reduction(c.options.at("reduction")),
                                 .label_smoothing = c.option("label_smoothing", 0)});
  } else if (loss == "mse") {
    out = tg::nn::mse_loss(inputs["input"], inputs["target"],
                           parse_reduction(c.options.at("reduction")));
  } else {
    out = tg::linear(inputs["x"], inputs["weight"], inputs["bias"]);
  }
  out.backward(c.at("upstream").to(dtype));
  check_close(out, c.at("out"), tolerance);
  for (auto& [label, t] : inputs) {
    if (!t.requires_grad()) continue;
    INFO("gradient of " << label);
    check_close(t.grad(), c.at("grad_" + label), tolerance);
  }
}

}  // namespace

TEST_CASE("losses and linear match PyTorch in Float64 and Float32", "[nn][parity]") {
  for (const auto& c : tg::testing::read_fixture("losses.txt")) {
    DYNAMIC_SECTION(c.name << " Float64") { replay(c, tg::Dtype::Float64, 1e-12); }
    DYNAMIC_SECTION(c.name << " Float32") { replay(c, tg::Dtype::Float32, 1e-5); }
  }
}
