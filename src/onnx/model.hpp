// An ONNX model in memory: the subset of onnx.proto (IR version 7) that the exporter fills in,
// field for field, and its serialization.
#pragma once

#include <tapegrad/shape.hpp>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace tg::onnx::detail {

/// TensorProto.DataType values.
enum class ElemType : int32_t { Float = 1, Int64 = 7 };

/// TensorProto: an initializer (named) or a Constant's value (unnamed), as raw little-endian
/// bytes, which is how torch.onnx.export writes both.
struct TensorData {
  std::string name;
  Shape dims;
  ElemType type = ElemType::Float;
  std::string raw;
};

/// AttributeProto with one value: FLOAT, INT, INTS, STRING or TENSOR.
struct Attribute {
  std::string name;
  std::variant<float, int64_t, std::vector<int64_t>, std::string, TensorData> value;
};

/// NodeProto.
struct Node {
  std::string op_type, name;
  std::vector<std::string> inputs, outputs;
  std::vector<Attribute> attributes;
};

/// A dimension of a graph input or output: a size, or a name (dim_param) for one left free.
using Dim = std::variant<int64_t, std::string>;

/// ValueInfoProto of a tensor-typed graph input or output.
struct ValueInfo {
  std::string name;
  ElemType type = ElemType::Float;
  std::vector<Dim> dims;
};

/// GraphProto.
struct Graph {
  std::string name;
  std::vector<Node> nodes;
  std::vector<TensorData> initializers;
  std::vector<ValueInfo> inputs, outputs;
};

/// ModelProto with one opset import (the default domain).
struct Model {
  int64_t ir_version = 7;
  int64_t opset = 13;
  std::string producer_name, producer_version;
  Graph graph;
};

/// The model's bytes as an ONNX file holds them.
std::string serialize(const Model& model);

}  // namespace tg::onnx::detail
