// Convolutions, transposed convolutions and pooling as torch.onnx.export (1.13, opset 13, eval
// mode) writes them, including its folding of a BatchNorm into the convolution before it.

#include <tapegrad/nn/conv.hpp>
#include <tapegrad/nn/normalization.hpp>
#include <tapegrad/nn/pooling.hpp>

#include "onnx/layers.hpp"
#include "ops/conv_padding.hpp"

#include <cmath>

namespace tg::onnx::detail {
namespace {

namespace functional = nn::functional;
using functional::Pair;

// ONNX lists one value per spatial axis; pads are all the starts, then all the ends.
std::vector<int64_t> per_axis(Pair pair, int spatial) {
  return spatial == 2 ? std::vector<int64_t>{pair.h, pair.w} : std::vector<int64_t>{pair.h};
}

std::vector<int64_t> pads(Pair padding, int spatial) {
  std::vector<int64_t> out = per_axis(padding, spatial);
  out.insert(out.end(), out.begin(), out.end());
  return out;
}

// padding="same" as explicit pads, the odd extra at the end (ONNX's pads may differ per side).
// torch.onnx.export (1.13) cannot export "same" or "valid" at all (aten::_convolution_mode).
std::vector<int64_t> conv_pads(const Tensor& weight, const functional::ConvOptions& o,
                               int spatial) {
  const int64_t kernel_w = weight.size(-1), kernel_h = spatial == 2 ? weight.size(2) : kernel_w;
  const nn::conv_padding::Sides p = nn::conv_padding::sides(o, kernel_h, kernel_w);
  if (spatial == 2) return {p.top, p.left, p.bottom, p.right};
  return {p.left, p.right};
}

std::vector<Attribute> conv_attributes(const Tensor& weight, const functional::ConvOptions& o) {
  const int spatial = static_cast<int>(weight.dim()) - 2;
  const Shape kernel(weight.shape().begin() + 2, weight.shape().end());
  return {{"dilations", per_axis(o.dilation, spatial)},
          {"group", o.groups},
          {"kernel_shape", kernel},
          {"pads", conv_pads(weight, o, spatial)},
          {"strides", per_axis(o.stride, spatial)}};
}

// torch writes a padding_mode as a graph of Pad, Slice and Concat nodes; not done yet.
void require_zeros_padding_mode(const nn::Module& layer, const functional::ConvOptions& o,
                                const LayerInput& in) {
  if (o.padding_mode != "zeros") {
    fail_layer(
        layer, in.name,
        fmt::format("padding_mode \"{}\" is not exported yet (only \"zeros\")", o.padding_mode));
  }
}

std::string conv(const Tensor& weight, const Tensor& bias, const functional::ConvOptions& o,
                 const LayerInput& in) {
  GraphBuilder& g = in.graph;
  std::vector<std::string> inputs{in.value, g.initializer(in.param("weight"), weight)};
  if (bias.defined()) inputs.push_back(g.initializer(in.param("bias"), bias));
  return g.add("Conv", std::move(inputs), conv_attributes(weight, o));
}

// As torch writes it: `output_padding` only when one is not 0.
std::string conv_transpose(const Tensor& weight, const Tensor& bias,
                           const functional::ConvTransposeOptions& o, const LayerInput& in) {
  const int spatial = static_cast<int>(weight.dim()) - 2;
  std::vector<Attribute> attributes{
      {"dilations", per_axis(o.dilation, spatial)},
      {"group", o.groups},
      {"kernel_shape", Shape(weight.shape().begin() + 2, weight.shape().end())}};
  if (o.output_padding.h != 0 || o.output_padding.w != 0) {
    attributes.push_back({"output_padding", per_axis(o.output_padding, spatial)});
  }
  attributes.push_back({"pads", pads(o.padding, spatial)});
  attributes.push_back({"strides", per_axis(o.stride, spatial)});
  GraphBuilder& g = in.graph;
  std::vector<std::string> inputs{in.value, g.initializer(in.param("weight"), weight)};
  if (bias.defined()) inputs.push_back(g.initializer(in.param("bias"), bias));
  return g.add("ConvTranspose", std::move(inputs), attributes);
}

Pair stride_or_kernel(Pair stride, Pair kernel) { return stride.h == 0 ? kernel : stride; }

// As torch writes it: `dilations` only when one is not 1.
std::string max_pool(const nn::MaxPool2d& layer, const LayerInput& in) {
  std::vector<Attribute> attributes{{"ceil_mode", int64_t{layer.ceil_mode ? 1 : 0}}};
  if (layer.dilation.h != 1 || layer.dilation.w != 1) {
    attributes.push_back({"dilations", per_axis(layer.dilation, 2)});
  }
  attributes.push_back({"kernel_shape", per_axis(layer.kernel_size, 2)});
  attributes.push_back({"pads", pads(layer.padding, 2)});
  attributes.push_back({"strides", per_axis(stride_or_kernel(layer.stride, layer.kernel_size), 2)});
  return in.graph.add("MaxPool", {in.value}, attributes);
}

// count_include_pad=True: torch pads with zeros first (a Pad node, even for zero padding) and
// then averages the windows over the padded input; False: the padding goes to AveragePool,
// whose default count_include_pad=0 leaves it out of the divisor.
std::string avg_pool(const nn::AvgPool2d& layer, const LayerInput& in) {
  GraphBuilder& g = in.graph;
  const Pair p = layer.padding;
  std::string input = in.value;
  std::vector<int64_t> pool_pads = pads(p, 2);
  if (layer.count_include_pad) {
    const std::string amounts = g.constant(int64_vector({0, 0, p.h, p.w, 0, 0, p.h, p.w}));
    input = g.add("Pad", {in.value, amounts}, {{"mode", std::string("constant")}});
    pool_pads = {0, 0, 0, 0};
  }
  return g.add("AveragePool", {input},
               {{"ceil_mode", int64_t{layer.ceil_mode ? 1 : 0}},
                {"kernel_shape", per_axis(layer.kernel_size, 2)},
                {"pads", pool_pads},
                {"strides", per_axis(stride_or_kernel(layer.stride, layer.kernel_size), 2)}});
}

std::string adaptive_avg_pool(const nn::AdaptiveAvgPool2d& layer, const LayerInput& in) {
  if (layer.output_size.h != 1 || layer.output_size.w != 1) {
    fail_layer(layer, in.name,
               fmt::format("only output_size 1 (GlobalAveragePool) exports, got ({}, {})",
                           layer.output_size.h, layer.output_size.w));
  }
  return in.graph.add("GlobalAveragePool", {in.value});
}

// The convolution's weight, bias and options, for Conv1d and Conv2d alike.
struct ConvParts {
  const Tensor* weight;
  const Tensor* bias;
  const functional::ConvOptions* options;
};

std::optional<ConvParts> conv_parts(nn::Module& module) {
  if (auto* c = exactly<nn::Conv2d>(module)) return ConvParts{&c->weight, &c->bias, &c->options};
  if (auto* c = exactly<nn::Conv1d>(module)) return ConvParts{&c->weight, &c->bias, &c->options};
  return std::nullopt;
}

// torch/csrc/jit/passes/onnx/eval_peephole.cpp (1.13), fuseConvBatchNorm, in Float32 and in its
// order of operations: scale = γ / √(var + ε), W'[o] = W[o]·scale[o],
// b' = β − (mean − b)·scale (β − mean·scale without a bias).
std::pair<Tensor, Tensor> fold(const ConvParts& conv, const nn::BatchNorm& bn) {
  const auto eps = static_cast<float>(bn.options().eps);
  std::vector<float> scale = bn.weight.to_vector<float>();
  const std::vector<float> var = bn.running_var.to_vector<float>();
  const std::vector<float> mean = bn.running_mean.to_vector<float>();
  const std::vector<float> beta = bn.bias.to_vector<float>();
  const std::vector<float> bias =
      conv.bias->defined() ? conv.bias->to_vector<float>() : std::vector<float>(scale.size(), 0);
  std::vector<float> weight = conv.weight->to_vector<float>();
  const size_t per_output = weight.size() / scale.size();
  std::vector<float> folded_bias(scale.size());
  for (size_t o = 0; o < scale.size(); ++o) {
    scale[o] /= std::sqrt(var[o] + eps);
    for (size_t i = 0; i < per_output; ++i) weight[o * per_output + i] *= scale[o];
    const float shifted = conv.bias->defined() ? mean[o] - bias[o] : mean[o];
    folded_bias[o] = beta[o] - shifted * scale[o];
  }
  return {from_vector(weight, conv.weight->shape()),
          from_vector(folded_bias, {static_cast<int64_t>(scale.size())})};
}

}  // namespace

std::vector<Exporter> conv_exporters() {
  return {
      exporter_for<nn::Conv2d>([](const nn::Conv2d& layer, const LayerInput& in) {
        require_zeros_padding_mode(layer, layer.options, in);
        return conv(layer.weight, layer.bias, layer.options, in);
      }),
      exporter_for<nn::Conv1d>([](const nn::Conv1d& layer, const LayerInput& in) {
        require_zeros_padding_mode(layer, layer.options, in);
        return conv(layer.weight, layer.bias, layer.options, in);
      }),
      exporter_for<nn::ConvTranspose2d>([](const nn::ConvTranspose2d& layer, const LayerInput& in) {
        return conv_transpose(layer.weight, layer.bias, layer.options, in);
      }),
      exporter_for<nn::ConvTranspose1d>([](const nn::ConvTranspose1d& layer, const LayerInput& in) {
        return conv_transpose(layer.weight, layer.bias, layer.options, in);
      }),
      exporter_for<nn::MaxPool2d>(max_pool),
      exporter_for<nn::AvgPool2d>(avg_pool),
      exporter_for<nn::AdaptiveAvgPool2d>(adaptive_avg_pool),
  };
}

// torch names the folded tensors "onnx::Conv_N" (N counts its graph's values); here "onnx::Conv_"
// and both layers' names ("onnx::Conv_0+1.weight"): they are neither layer's parameters.
std::optional<std::string> export_conv_batch_norm(nn::Module& conv_module, nn::Module& bn_module,
                                                  const std::string& batch_norm_name,
                                                  const LayerInput& in) {
  const auto parts = conv_parts(conv_module);
  const nn::BatchNorm* bn = exactly<nn::BatchNorm1d>(bn_module);
  if (bn == nullptr) bn = exactly<nn::BatchNorm2d>(bn_module);
  if (!parts || bn == nullptr || !bn->running_mean.defined() || !bn->weight.defined() ||
      parts->options->padding_mode != "zeros") {
    return std::nullopt;  // exported one by one (a padding_mode then fails there)
  }
  const auto [weight, bias] = fold(*parts, *bn);
  const LayerInput folded{in.graph, in.value, in.shape,
                          "onnx::Conv_" + in.name + "+" + batch_norm_name};
  return conv(weight, bias, *parts->options, folded);
}

}  // namespace tg::onnx::detail
