// Model → protobuf bytes. Field numbers are onnx.proto's (onnx 1.12, IR version 8 schema; the
// fields used here are unchanged since IR version 3).

#include "onnx/model.hpp"
#include "onnx/protobuf.hpp"

#include <type_traits>

namespace tg::onnx::detail {
namespace {

ProtoWriter tensor_proto(const TensorData& tensor) {
  ProtoWriter out;
  for (const int64_t dim : tensor.dims) out.varint_field(1, dim);  // dims
  out.varint_field(2, static_cast<int32_t>(tensor.type));          // data_type
  if (!tensor.name.empty()) out.bytes_field(8, tensor.name);       // name
  out.bytes_field(9, tensor.raw);                                  // raw_data
  return out;
}

// AttributeProto: name = 1, f = 2, i = 3, s = 4, t = 5, ints = 8, type = 20.
enum AttributeType : int64_t { kFloat = 1, kInt = 2, kString = 3, kTensor = 4, kInts = 7 };

ProtoWriter attribute_proto(const Attribute& attribute) {
  ProtoWriter out;
  out.bytes_field(1, attribute.name);
  std::visit(
      [&](const auto& value) {
        using T = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<T, float>) {
          out.float_field(2, value);
          out.varint_field(20, kFloat);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          out.varint_field(3, value);
          out.varint_field(20, kInt);
        } else if constexpr (std::is_same_v<T, std::string>) {
          out.bytes_field(4, value);
          out.varint_field(20, kString);
        } else if constexpr (std::is_same_v<T, TensorData>) {
          out.message_field(5, tensor_proto(value));
          out.varint_field(20, kTensor);
        } else {
          for (const int64_t i : value) out.varint_field(8, i);
          out.varint_field(20, kInts);
        }
      },
      attribute.value);
  return out;
}

// NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5.
ProtoWriter node_proto(const Node& node) {
  ProtoWriter out;
  for (const auto& input : node.inputs) out.bytes_field(1, input);
  for (const auto& output : node.outputs) out.bytes_field(2, output);
  out.bytes_field(3, node.name);
  out.bytes_field(4, node.op_type);
  for (const auto& attribute : node.attributes) out.message_field(5, attribute_proto(attribute));
  return out;
}

// ValueInfoProto{name = 1, type = 2: TypeProto{tensor_type = 1: {elem_type = 1, shape = 2:
// TensorShapeProto{dim = 1: {dim_value = 1 | dim_param = 2}}}}}.
ProtoWriter value_info_proto(const ValueInfo& info) {
  ProtoWriter shape;
  for (const Dim& dim : info.dims) {
    ProtoWriter d;
    if (const auto* size = std::get_if<int64_t>(&dim)) {
      d.varint_field(1, *size);
    } else {
      d.bytes_field(2, std::get<std::string>(dim));
    }
    shape.message_field(1, d);
  }
  ProtoWriter tensor_type;
  tensor_type.varint_field(1, static_cast<int32_t>(info.type));
  tensor_type.message_field(2, shape);
  ProtoWriter type;
  type.message_field(1, tensor_type);
  ProtoWriter out;
  out.bytes_field(1, info.name);
  out.message_field(2, type);
  return out;
}

// GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12.
ProtoWriter graph_proto(const Graph& graph) {
  ProtoWriter out;
  for (const auto& node : graph.nodes) out.message_field(1, node_proto(node));
  out.bytes_field(2, graph.name);
  for (const auto& tensor : graph.initializers) out.message_field(5, tensor_proto(tensor));
  for (const auto& input : graph.inputs) out.message_field(11, value_info_proto(input));
  for (const auto& output : graph.outputs) out.message_field(12, value_info_proto(output));
  return out;
}

}  // namespace

// ModelProto: ir_version = 1, producer_name = 2, producer_version = 3, graph = 7,
// opset_import = 8: OperatorSetIdProto{domain = 1 (empty: the default), version = 2}.
std::string serialize(const Model& model) {
  ProtoWriter opset;
  opset.varint_field(2, model.opset);
  ProtoWriter out;
  out.varint_field(1, model.ir_version);
  out.bytes_field(2, model.producer_name);
  out.bytes_field(3, model.producer_version);
  out.message_field(7, graph_proto(model.graph));
  out.message_field(8, opset);
  return out.bytes();
}

}  // namespace tg::onnx::detail
