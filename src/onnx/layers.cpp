// Linear, the shape layers, Embedding and the normalizations as torch.onnx.export (1.13,
// opset 13, eval mode) writes them.

#include <tapegrad/nn/embedding.hpp>
#include <tapegrad/nn/layers.hpp>
#include <tapegrad/nn/linear.hpp>
#include <tapegrad/nn/normalization.hpp>

#include "onnx/layers.hpp"

namespace tg::onnx::detail {
namespace {

// torch writes y = x Wᵀ + b on a 2-d input as a Gemm; without a bias, or on an input of another
// rank (Gemm takes only 2-d), as a MatMul with Wᵀ stored transposed (an initializer torch names
// "onnx::MatMul_N", here after the weight), then Add(b, ·).
std::string linear(const nn::Linear& layer, const LayerInput& in) {
  GraphBuilder& g = in.graph;
  if (!layer.bias.defined() || in.shape.size() != 2) {
    const std::string weight_t =
        g.initializer("onnx::MatMul_" + in.param("weight"), layer.weight.t().contiguous());
    const std::string product = g.add("MatMul", {in.value, weight_t});
    if (!layer.bias.defined()) return product;
    return g.add("Add", {g.initializer(in.param("bias"), layer.bias), product});
  }
  const std::string weight = g.initializer(in.param("weight"), layer.weight);
  const std::string bias = g.initializer(in.param("bias"), layer.bias);
  return g.add("Gemm", {in.value, weight, bias},
               {{"alpha", 1.0f}, {"beta", 1.0f}, {"transB", int64_t{1}}});
}

// ONNX's Flatten(axis = 1) is torch's flatten(1, -1); torch writes other ranges as a
// Shape/Slice/Concat/Reshape computation, which this exporter does not.
std::string flatten(const nn::Flatten& layer, const LayerInput& in) {
  const auto rank = static_cast<int64_t>(in.shape.size());
  const int64_t start = layer.start_dim() < 0 ? layer.start_dim() + rank : layer.start_dim();
  const int64_t end = layer.end_dim() < 0 ? layer.end_dim() + rank : layer.end_dim();
  if (start != 1 || end != rank - 1) {
    fail_layer(layer, in.name,
               fmt::format("only Flatten(start_dim=1, end_dim=-1) exports, got start_dim={}, "
                           "end_dim={} on a {}-d input",
                           layer.start_dim(), layer.end_dim(), rank));
  }
  return in.graph.add("Flatten", {in.value}, {{"axis", int64_t{1}}});
}

std::string embedding(const nn::Embedding& layer, const LayerInput& in) {
  const std::string weight = in.graph.initializer(in.param("weight"), layer.weight);
  return in.graph.add("Gather", {weight, in.value});
}

// opset 13 has no LayerNormalization (it came in 17); torch writes the formula
// (x − E[x]) / √(E[(x − E[x])²] + eps) · weight + bias over the last k axes.
std::string layer_norm(const nn::LayerNorm& layer, const LayerInput& in) {
  GraphBuilder& g = in.graph;
  std::vector<int64_t> axes;
  const auto k = static_cast<int64_t>(layer.normalized_shape().size());
  for (int64_t axis = -k; axis < 0; ++axis) axes.push_back(axis);
  const std::string mean = g.add("ReduceMean", {in.value}, {{"axes", axes}});
  const std::string centered = g.add("Sub", {in.value, mean});
  const std::string square = g.add("Pow", {centered, g.scalar(2)});
  const std::string var = g.add("ReduceMean", {square}, {{"axes", axes}});
  const std::string shifted = g.add("Add", {var, g.scalar(static_cast<float>(layer.eps()))});
  std::string y = g.add("Div", {centered, g.add("Sqrt", {shifted})});
  if (layer.weight.defined())
    y = g.add("Mul", {y, g.initializer(in.param("weight"), layer.weight)});
  if (layer.bias.defined()) y = g.add("Add", {y, g.initializer(in.param("bias"), layer.bias)});
  return y;
}

// Evaluation mode with running statistics; ONNX's momentum is the weight of the old running
// value (1 − PyTorch's).
std::string batch_norm(const nn::BatchNorm& layer, const LayerInput& in) {
  if (!layer.running_mean.defined()) {
    fail_layer(layer, in.name,
               "BatchNorm without running statistics (track_running_stats=false) normalizes "
               "with each batch's statistics even in evaluation, which does not export");
  }
  if (!layer.weight.defined()) {
    fail_layer(layer, in.name, "BatchNorm without affine parameters does not export");
  }
  GraphBuilder& g = in.graph;
  const auto& options = layer.options();
  const auto momentum = static_cast<float>(1 - options.momentum.value_or(0));
  return g.add("BatchNormalization",
               {in.value, g.initializer(in.param("weight"), layer.weight),
                g.initializer(in.param("bias"), layer.bias),
                g.initializer(in.param("running_mean"), layer.running_mean),
                g.initializer(in.param("running_var"), layer.running_var)},
               {{"epsilon", static_cast<float>(options.eps)}, {"momentum", momentum}});
}

// Layers that are the identity in evaluation mode: torch writes no node for them.
template <class M>
Exporter identity() {
  return exporter_for<M>([](const M&, const LayerInput& in) { return in.value; });
}

}  // namespace

std::vector<Exporter> layer_exporters() {
  return {
      exporter_for<nn::Linear>(linear),
      exporter_for<nn::Flatten>(flatten),
      exporter_for<nn::Embedding>(embedding),
      exporter_for<nn::LayerNorm>(layer_norm),
      exporter_for<nn::BatchNorm1d>(batch_norm),
      exporter_for<nn::BatchNorm2d>(batch_norm),
      identity<nn::Dropout>(),
      identity<nn::Identity>(),
  };
}

}  // namespace tg::onnx::detail
