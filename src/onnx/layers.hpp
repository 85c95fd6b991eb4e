// The exporters of single layers: each turns one module into the nodes torch.onnx.export
// (1.13, opset 13, eval mode) writes for it.
#pragma once

#include <tapegrad/nn/module.hpp>

#include "onnx/graph_builder.hpp"

#include <functional>
#include <optional>
#include <string>
#include <typeinfo>
#include <vector>

namespace tg::onnx::detail {

/// What a layer's exporter is given: the graph, the name of the layer's input value and that
/// value's shape in the example pass, and the module's name ("0", "" for the top level).
struct LayerInput {
  GraphBuilder& graph;
  std::string value;
  Shape shape;
  std::string name;
  /// The state_dict name of the layer's parameter `parameter` ("0.weight").
  std::string param(const std::string& parameter) const {
    return name.empty() ? parameter : name + "." + parameter;
  }
};

/// Exports `module` and returns its output's name if it is the exporter's kind of layer, else
/// returns nullopt.
using Exporter = std::function<std::optional<std::string>(nn::Module&, const LayerInput&)>;

/// Whether `module` is exactly an M: a subclass may override forward and compute something
/// else, so it is not exported as its base.
template <class M>
M* exactly(nn::Module& module) {
  return typeid(module) == typeid(M) ? static_cast<M*>(&module) : nullptr;
}

/// An Exporter for layers of type M (exactly), from a function of an M.
template <class M, class Emit>
Exporter exporter_for(Emit emit) {
  return [emit](nn::Module& module, const LayerInput& in) -> std::optional<std::string> {
    M* layer = exactly<M>(module);
    if (layer == nullptr) return std::nullopt;
    return emit(*layer, in);
  };
}

/// The activation functions (src/onnx/activations.cpp).
std::vector<Exporter> activation_exporters();
/// Linear, Flatten, Dropout, Identity, Embedding, LayerNorm, BatchNorm (src/onnx/layers.cpp).
std::vector<Exporter> layer_exporters();
/// Conv1d/2d and the pooling layers (src/onnx/conv.cpp).
std::vector<Exporter> conv_exporters();

/// A Conv1d/Conv2d followed by a BatchNorm, folded into one Conv as torch's eval-mode export
/// does; nullopt unless `conv` is a convolution and `batch_norm` a BatchNorm using running
/// statistics.
std::optional<std::string> export_conv_batch_norm(nn::Module& conv, nn::Module& batch_norm,
                                                  const std::string& batch_norm_name,
                                                  const LayerInput& in);

/// Throws the exporter's error for `layer`: "onnx::export_model: layer 'NAME' (TYPE): problem".
[[noreturn]] void fail_layer(const nn::Module& layer, const std::string& name,
                             const std::string& problem);

}  // namespace tg::onnx::detail
