#pragma once

// ONNX export: a trained model as a file that other runtimes (ONNX Runtime, OpenCV's dnn,
// TensorRT, PyTorch via onnx2torch) load. docs/exchange.md lists the layers that export.

#include <tapegrad/nn/module.hpp>
#include <tapegrad/tensor.hpp>

#include <cstdint>
#include <filesystem>
#include <string>

namespace tg::onnx {

/// Options of export_model; the names of the graph's input, output and batch dimension are
/// those that torch.onnx.export is usually given (input_names, output_names, dynamic_axes).
struct OnnxOptions {
  int64_t opset = 13;                ///< the ONNX operator set; only 13 is written
  std::string input_name = "input";  ///< the graph's input
  std::string output_name = "output";
  std::string batch_dim = "batch";  ///< dim_param of dimension 0 of the input and output
};

/// Writes `module` (a Sequential of the layers docs/exchange.md lists, possibly nested, or one
/// such layer) as an ONNX model, the graph torch.onnx.export (1.13, eval mode) writes for the
/// same model: same op types, attributes, initializer names and layouts, dimension 0 dynamic.
/// `example_input` (a batch as forward takes it) fixes the other dimensions. The module is run
/// in evaluation mode and its training flags are restored. A layer without an ONNX equivalent,
/// Float64 parameters, or a bad option is a tg::Error naming it, and then no file is written;
/// the write is atomic like tg::save's.
void export_model(nn::Module& module, const Tensor& example_input,
                  const std::filesystem::path& path, const OnnxOptions& options = {});

}  // namespace tg::onnx
