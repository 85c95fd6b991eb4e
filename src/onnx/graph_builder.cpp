#include <tapegrad/error.hpp>

#include "onnx/graph_builder.hpp"

#include <cstring>
#include <utility>

namespace tg::onnx::detail {

TensorData float_tensor(const std::string& name, const Tensor& tensor) {
  const std::vector<float> values = tensor.to_vector<float>();
  TensorData out{name, tensor.shape(), ElemType::Float, std::string(values.size() * 4, '\0')};
  std::memcpy(out.raw.data(), values.data(), out.raw.size());
  return out;
}

TensorData int64_vector(const std::vector<int64_t>& values) {
  TensorData out{"",
                 {static_cast<int64_t>(values.size())},
                 ElemType::Int64,
                 std::string(values.size() * 8, '\0')};
  std::memcpy(out.raw.data(), values.data(), out.raw.size());
  return out;
}

void GraphBuilder::set_scope(const std::string& module_name) {
  scope_.clear();
  if (!module_name.empty()) scope_ += '/';
  for (const char c : module_name) scope_ += c == '.' ? '/' : c;
}

std::string GraphBuilder::add(const std::string& op_type, std::vector<std::string> inputs,
                              std::vector<Attribute> attributes) {
  std::string name = fmt::format("{}/{}", scope_, op_type);
  const int count = counts_[name]++;
  if (count > 0) name = fmt::format("{}_{}", name, count);
  std::string output = fmt::format("{}_output_0", name);
  graph_.nodes.push_back(
      {op_type, std::move(name), std::move(inputs), {output}, std::move(attributes)});
  return output;
}

std::string GraphBuilder::constant(TensorData value) {
  return add("Constant", {}, {{"value", std::move(value)}});
}

std::string GraphBuilder::scalar(float value) {
  TensorData tensor{"", {}, ElemType::Float, std::string(4, '\0')};
  std::memcpy(tensor.raw.data(), &value, 4);
  return constant(std::move(tensor));
}

std::string GraphBuilder::initializer(const std::string& name, const Tensor& tensor) {
  for (const auto& existing : graph_.initializers) {
    if (existing.name == name) fail("onnx::export_model: two initializers named '{}'", name);
  }
  graph_.initializers.push_back(float_tensor(name, tensor));
  return name;
}

}  // namespace tg::onnx::detail
