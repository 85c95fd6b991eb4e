// Building an ONNX graph layer by layer, with torch.onnx.export's (1.13) names: a node of
// layer "0" is "/0/Gemm", a second Constant in it "/0/Constant_1", and its output
// "/0/Gemm_output_0".
#pragma once

#include <tapegrad/tensor.hpp>

#include "onnx/model.hpp"

#include <map>
#include <string>
#include <vector>

namespace tg::onnx::detail {

/// A Float32 tensor's bytes, name and shape as a TensorProto.
TensorData float_tensor(const std::string& name, const Tensor& tensor);
/// An unnamed Int64 vector (Pad's pads) as a TensorProto.
TensorData int64_vector(const std::vector<int64_t>& values);

/// Appends nodes and initializers to a graph.
class GraphBuilder {
 public:
  explicit GraphBuilder(Graph& graph) : graph_(graph) {}

  /// Names the nodes added from now on after the module named `module_name` ("0", "fc.1").
  void set_scope(const std::string& module_name);
  /// Adds a node with one output and returns that output's name.
  std::string add(const std::string& op_type, std::vector<std::string> inputs,
                  std::vector<Attribute> attributes = {});
  /// Adds a Constant node holding `value` and returns its output.
  std::string constant(TensorData value);
  /// A Constant holding a Float32 scalar, as torch writes the numbers in a decomposed formula.
  std::string scalar(float value);
  /// Adds a Float32 initializer and returns its name.
  std::string initializer(const std::string& name, const Tensor& tensor);

 private:
  Graph& graph_;
  std::string scope_;
  std::map<std::string, int> counts_;  // nodes per scope and op type, for the "_1" suffixes
};

}  // namespace tg::onnx::detail
