// tg::onnx::export_model: runs the model once on the example input, layer by layer, and writes
// each layer's nodes; then the file, atomically.

#include <tapegrad/autograd.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/nn/sequential.hpp>
#include <tapegrad/onnx.hpp>
#include <tapegrad/version.hpp>

#include "io/file.hpp"
#include "onnx/layers.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <typeinfo>

namespace tg::onnx {
namespace detail {

void fail_layer(const nn::Module& layer, const std::string& name, const std::string& problem) {
  int status = 0;
  const std::unique_ptr<char, void (*)(void*)> type(
      abi::__cxa_demangle(typeid(layer).name(), nullptr, nullptr, &status), std::free);
  fail("onnx::export_model: layer '{}' ({}): {}", name,
       status == 0 ? type.get() : typeid(layer).name(), problem);
}

namespace {

/// A layer in the order the model runs them, named as named_modules() names it.
struct Layer {
  std::string name;
  nn::Module* module;
};

// The leaves of nested Sequentials, in order (an explicit stack, as everywhere in tapegrad).
std::vector<Layer> layers_of(nn::Module& model) {
  std::vector<Layer> out;
  std::vector<Layer> stack{{"", &model}};
  while (!stack.empty()) {
    const Layer layer = stack.back();
    stack.pop_back();
    auto* sequential = detail::exactly<nn::Sequential>(*layer.module);
    if (sequential == nullptr) {
      out.push_back(layer);
      continue;
    }
    const auto& children = sequential->named_children();
    for (auto child = children.rbegin(); child != children.rend(); ++child) {
      const std::string prefix = layer.name.empty() ? "" : layer.name + ".";
      stack.push_back({prefix + child->first, child->second.get()});
    }
  }
  return out;
}

std::string export_layer(nn::Module& module, const LayerInput& in) {
  static const std::vector<Exporter> exporters = [] {
    std::vector<Exporter> all = layer_exporters();
    for (auto list : {activation_exporters(), conv_exporters()}) {
      all.insert(all.end(), list.begin(), list.end());
    }
    return all;
  }();
  for (const Exporter& exporter : exporters) {
    if (auto output = exporter(module, in)) return *output;
  }
  fail_layer(module, in.name,
             "has no ONNX export (docs/exchange.md lists the layers that export; a module with "
             "its own forward cannot be traced: build the model as a Sequential)");
}

// Restores every module's training flag when the export ends, however it ends.
class EvalGuard {
 public:
  explicit EvalGuard(nn::Module& model) {
    for (const auto& [name, module] : model.named_modules()) {
      flags_.push_back({module, module->is_training()});
    }
    model.eval();
  }
  ~EvalGuard() {
    // named_modules is depth first, parents before children: train() sets a whole subtree, so
    // each module is set last by its own entry.
    for (const auto& [module, training] : flags_) module->train(training);
  }
  EvalGuard(const EvalGuard&) = delete;
  EvalGuard& operator=(const EvalGuard&) = delete;

 private:
  std::vector<std::pair<nn::Module*, bool>> flags_;
};

void check_inputs(const nn::Module& model, const Tensor& example, const OnnxOptions& options) {
  if (options.opset != 13) {
    fail("onnx::export_model: opset {} is not supported; the exporter writes opset 13",
         options.opset);
  }
  if (!example.defined() || example.dim() < 1) {
    fail(
        "onnx::export_model: the example input must be a batch (dimension 0 is the batch), "
        "got {}",
        example.defined() ? shape_str(example.shape()) : "an undefined tensor");
  }
  for (const auto& [name, tensor] : model.state_dict()) {
    if (tensor.dtype() == Dtype::Float64) {
      fail(
          "onnx::export_model: '{}' is Float64; the exporter writes Float32 models only: call "
          "module.to(tg::Dtype::Float32) first",
          name);
    }
  }
  if (example.dtype() != Dtype::Float32 && example.dtype() != Dtype::Int64) {
    fail(
        "onnx::export_model: the example input is {}; the exported graph takes Float32 (or "
        "Int64 indices for an Embedding)",
        example.dtype());
  }
  for (const std::string* name : {&options.input_name, &options.output_name, &options.batch_dim}) {
    if (name->empty()) fail("onnx::export_model: the input, output and batch names must be set");
  }
  if (options.input_name == options.output_name) {
    fail("onnx::export_model: input and output are both named '{}'", options.input_name);
  }
}

detail::ValueInfo value_info(const std::string& name, detail::ElemType type, const Shape& shape,
                             const std::string& batch_dim) {
  detail::ValueInfo info{name, type, {batch_dim}};
  for (size_t d = 1; d < shape.size(); ++d) info.dims.emplace_back(shape[d]);
  return info;
}

// The last value becomes the graph's output under its given name.
void name_output(Graph& graph, const std::string& last, const std::string& input,
                 const std::string& output) {
  if (last == input) {  // only identities: ONNX still needs a node between input and output
    graph.nodes.push_back({"Identity", "Identity_0", {input}, {output}, {}});
    return;
  }
  for (Node& node : graph.nodes) {
    for (auto* names : {&node.inputs, &node.outputs}) {
      for (std::string& name : *names) {
        if (name == last) name = output;
      }
    }
  }
}

// The graph of `model`, run in evaluation mode on `example`.
Graph build_graph(nn::Module& model, const Tensor& example, const OnnxOptions& options) {
  Graph graph{"tapegrad", {}, {}, {}, {}};
  GraphBuilder builder(graph);
  NoGradGuard no_grad;
  const std::vector<Layer> layers = layers_of(model);
  Tensor x = example;
  std::string value = options.input_name;
  for (size_t i = 0; i < layers.size(); ++i) {
    builder.set_scope(layers[i].name);
    const LayerInput in{builder, value, x.shape(), layers[i].name};
    // Exported before it runs: a layer without an export may have no one-tensor forward either.
    std::optional<std::string> folded;
    if (i + 1 < layers.size()) {
      folded = detail::export_conv_batch_norm(*layers[i].module, *layers[i + 1].module,
                                              layers[i + 1].name, in);
    }
    value = folded ? *folded : export_layer(*layers[i].module, in);
    x = layers[i].module->forward(x);
    if (folded) x = layers[++i].module->forward(x);
  }
  const auto input_type = example.dtype() == Dtype::Int64 ? ElemType::Int64 : ElemType::Float;
  graph.inputs.push_back(
      value_info(options.input_name, input_type, example.shape(), options.batch_dim));
  graph.outputs.push_back(
      value_info(options.output_name, ElemType::Float, x.shape(), options.batch_dim));
  name_output(graph, value, options.input_name, options.output_name);
  return graph;
}

}  // namespace
}  // namespace detail

void export_model(nn::Module& module, const Tensor& example_input,
                  const std::filesystem::path& path, const OnnxOptions& options) {
  detail::check_inputs(module, example_input, options);
  detail::Model model;
  model.producer_name = "tapegrad";
  model.producer_version = version();
  {
    const detail::EvalGuard eval(module);
    model.graph = detail::build_graph(module, example_input, options);
  }
  const std::string bytes = detail::serialize(model);
  io::detail::write_atomically(path, "onnx::export_model", [&](io::detail::OutputFile& file) {
    file.write(bytes.data(), bytes.size());
  });
}

}  // namespace tg::onnx
