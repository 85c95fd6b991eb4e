#pragma once

// Runs the cases of tests/fixtures/tensor_api.txt (make_tensor_api_fixtures.py, PyTorch 1.13):
// each op family's test file maps the fixture's `option op NAME` to a call of tapegrad's op, and
// check_tensor_api_cases compares the outputs and the gradients of Σ out·cot with PyTorch's.
// Labels: inputs (x, a, b, c, u, v; *_const ones do not require grad: index_const becomes Int64,
// mask_const and cond_const Bool), out or out0, out1, … with cot, cot0, …, indices, grad_NAME.

#include "fixture.hpp"
#include "helpers.hpp"

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace tg::testing {

/// The op under test: the fixture case (for its options) and the named inputs → its outputs.
using TensorApiOp =
    std::function<std::vector<Tensor>(const FixtureCase&, const std::map<std::string, Tensor>&)>;

/// A comma list option ("2,0,1") as integers.
inline std::vector<int64_t> option_list(const FixtureCase& c, const std::string& key) {
  auto it = c.options.find(key);
  if (it == c.options.end()) fail("fixture: case '{}' has no option '{}'", c.name, key);
  std::vector<int64_t> values;
  std::stringstream text(it->second);
  for (std::string item; std::getline(text, item, ',');) values.push_back(std::stoll(item));
  return values;
}

inline bool is_input_label(const std::string& label) {
  const auto starts = [&](const char* prefix) { return label.rfind(prefix, 0) == 0; };
  return !(starts("out") || starts("cot") || starts("grad_") || label == "indices");
}

/// The case's inputs: Float64 leaves that require grad, and the *_const ones converted.
inline std::map<std::string, Tensor> fixture_inputs(const FixtureCase& c) {
  std::map<std::string, Tensor> inputs;
  for (const auto& [label, value] : c.tensors) {
    if (!is_input_label(label)) continue;
    if (label == "index_const") {
      inputs[label] = value.to(Dtype::Int64);
    } else if (label == "mask_const" || label == "cond_const") {
      inputs[label] = value.to(Dtype::Int64).to(Dtype::Bool);
    } else if (label.ends_with("_const")) {
      inputs[label] = value;
    } else {
      inputs[label] = value.clone().detach().set_requires_grad(true);
    }
  }
  return inputs;
}

/// Largest |a − b| / max(1, |b|) over all elements (shapes must match).
inline double max_relative_error(const Tensor& a, const Tensor& b) {
  const std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    worst = std::max(worst, std::abs(x[i] - y[i]) / std::max(1.0, std::abs(y[i])));
  }
  return worst;
}

/// Checks every case whose op is in `ops` against PyTorch's numbers; returns the ops it saw.
inline std::set<std::string> check_tensor_api_cases(const std::map<std::string, TensorApiOp>& ops,
                                                    double tolerance = 1e-10,
                                                    const std::string& file = "tensor_api.txt") {
  std::set<std::string> seen;
  for (const FixtureCase& c : read_fixture(file)) {
    const auto op_name = c.options.find("op");
    if (op_name == c.options.end()) continue;
    const auto op = ops.find(op_name->second);
    if (op == ops.end()) continue;
    seen.insert(op_name->second);
    INFO("fixture case " << c.name);
    std::map<std::string, Tensor> inputs = fixture_inputs(c);
    const std::vector<Tensor> outputs = op->second(c, inputs);
    Tensor objective = zeros({}, {.dtype = Dtype::Float64});
    for (size_t i = 0; i < outputs.size(); ++i) {
      const bool single = c.tensors.count("out") != 0;
      const std::string suffix = single ? "" : std::to_string(i);
      if (single && i > 0) {  // max/min: the second output is "indices"
        REQUIRE(c.tensors.count("indices"));
        CHECK(outputs[i].to_vector<int64_t>() == c.at("indices").to_vector<int64_t>());
        continue;
      }
      const Tensor& expected = c.at("out" + suffix);
      REQUIRE(outputs[i].shape() == expected.shape());
      CHECK(max_relative_error(outputs[i], expected) <= tolerance);
      if (is_floating(outputs[i].dtype())) {
        objective = objective + sum(outputs[i] * c.at("cot" + suffix));
      }
    }
    if (!objective.requires_grad()) continue;
    objective.backward();
    for (const auto& [label, input] : inputs) {
      const auto expected = c.tensors.find("grad_" + label);
      if (expected == c.tensors.end()) continue;
      INFO("gradient of " << label);
      REQUIRE(input.grad().defined());
      REQUIRE(input.grad().shape() == expected->second.shape());
      CHECK(max_relative_error(input.grad(), expected->second) <= tolerance);
    }
  }
  return seen;
}

}  // namespace tg::testing
