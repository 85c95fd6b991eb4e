// Activations as torch.onnx.export (1.13, opset 13) writes them: one node where ONNX has the
// function, else torch's decomposition, op for op and operand for operand (symbolic_opset9.py).

#include <tapegrad/nn/activation.hpp>

#include "onnx/layers.hpp"

#include <cmath>
#include <numbers>

namespace tg::onnx::detail {
namespace {

template <class M>
Exporter single_node(const char* op_type) {
  return exporter_for<M>(
      [op_type](const M&, const LayerInput& in) { return in.graph.add(op_type, {in.value}); });
}

template <class M>
Exporter with_axis(const char* op_type) {
  return exporter_for<M>([op_type](const M& layer, const LayerInput& in) {
    return in.graph.add(op_type, {in.value}, {{"axis", layer.dim()}});
  });
}

// x·½(1 + erf(x/√2)), written by torch as ((x · (erf(x / √2) + 1)) · 0.5).
std::string gelu_exact(const LayerInput& in) {
  GraphBuilder& g = in.graph;
  const std::string x = in.value;
  const std::string div = g.add("Div", {x, g.scalar(std::numbers::sqrt2_v<float>)});
  const std::string erf = g.add("Erf", {div});
  const std::string add = g.add("Add", {erf, g.scalar(1)});
  const std::string mul = g.add("Mul", {x, add});
  return g.add("Mul", {mul, g.scalar(0.5f)});
}

// ½x(1 + tanh(√(2/π)(x + 0.044715x³))), torch's operand order.
std::string gelu_tanh(const LayerInput& in) {
  GraphBuilder& g = in.graph;
  const std::string x = in.value;
  const std::string x2 = g.add("Mul", {x, x});
  const std::string x3 = g.add("Mul", {x, x2});
  const std::string cubic = g.add("Mul", {g.scalar(0.044715f), x3});
  const std::string inner = g.add("Add", {x, cubic});
  const float sqrt_2_over_pi = static_cast<float>(std::sqrt(2 / std::numbers::pi));
  const std::string scaled = g.add("Mul", {g.scalar(sqrt_2_over_pi), inner});
  const std::string tanh = g.add("Tanh", {scaled});
  const std::string one_plus = g.add("Add", {g.scalar(1), tanh});
  const std::string mul = g.add("Mul", {x, one_plus});
  return g.add("Mul", {g.scalar(0.5f), mul});
}

std::string gelu(const nn::GELU& layer, const LayerInput& in) {
  return layer.approximate() == "tanh" ? gelu_tanh(in) : gelu_exact(in);
}

std::string silu(const nn::SiLU&, const LayerInput& in) {
  return in.graph.add("Mul", {in.value, in.graph.add("Sigmoid", {in.value})});
}

std::string mish(const nn::Mish&, const LayerInput& in) {
  GraphBuilder& g = in.graph;
  return g.add("Mul", {in.value, g.add("Tanh", {g.add("Softplus", {in.value})})});
}

// ONNX's Softplus is log(1 + eˣ) everywhere; tapegrad's (and torch's) is x itself where
// βx > threshold, and torch exports it as if the threshold were not there. The two agree in
// Float32 when the threshold t ≥ 15: the gap, log(1 + e^−βx)/β, is below e^−t/t < 2^−24 of
// the output. A smaller threshold changes the function, so it is refused.
std::string softplus(const nn::Softplus& layer, const LayerInput& in, const std::string& name) {
  if (!(layer.threshold() >= 15)) {
    fail_layer(layer, name,
               fmt::format("Softplus threshold {} < 15 has no ONNX equivalent (ONNX's Softplus "
                           "has no threshold, which only a threshold of 15 or more makes moot "
                           "in Float32)",
                           layer.threshold()));
  }
  GraphBuilder& g = in.graph;
  if (layer.beta() == 1) return g.add("Softplus", {in.value});
  const auto beta = static_cast<float>(layer.beta());
  const std::string scaled = g.add("Mul", {in.value, g.scalar(beta)});
  return g.add("Div", {g.add("Softplus", {scaled}), g.scalar(beta)});
}

std::string hardtanh(const nn::Hardtanh& layer, const LayerInput& in) {
  GraphBuilder& g = in.graph;
  const std::string lo = g.scalar(static_cast<float>(layer.min_val()));
  const std::string hi = g.scalar(static_cast<float>(layer.max_val()));
  return g.add("Clip", {in.value, lo, hi});
}

}  // namespace

std::vector<Exporter> activation_exporters() {
  return {
      single_node<nn::ReLU>("Relu"),
      single_node<nn::Tanh>("Tanh"),
      single_node<nn::Sigmoid>("Sigmoid"),
      with_axis<nn::Softmax>("Softmax"),
      with_axis<nn::LogSoftmax>("LogSoftmax"),
      exporter_for<nn::LeakyReLU>([](const nn::LeakyReLU& layer, const LayerInput& in) {
        const auto alpha = static_cast<float>(layer.negative_slope());
        return in.graph.add("LeakyRelu", {in.value}, {{"alpha", alpha}});
      }),
      exporter_for<nn::ELU>([](const nn::ELU& layer, const LayerInput& in) {
        return in.graph.add("Elu", {in.value}, {{"alpha", static_cast<float>(layer.alpha())}});
      }),
      exporter_for<nn::GELU>(gelu),
      exporter_for<nn::SiLU>(silu),
      exporter_for<nn::Mish>(mish),
      exporter_for<nn::Hardtanh>(hardtanh),
      exporter_for<nn::Softplus>([](const nn::Softplus& layer, const LayerInput& in) {
        return softplus(layer, in, in.name);
      }),
  };
}

}  // namespace tg::onnx::detail
