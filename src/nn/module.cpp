#include <tapegrad/error.hpp>
#include <tapegrad/nn/module.hpp>

#include "tensor/tensor_impl.hpp"

namespace tg::nn {

Module::~Module() = default;

Tensor Module::operator()(const Tensor& x) { return forward(x); }

Tensor& Module::register_parameter(std::string name, Tensor tensor) {
  if (name.empty() || name.find('.') != std::string::npos) {
    fail("register_parameter: invalid name '{}' (non-empty, without '.')", name);
  }
  for (const auto& [existing, _] : parameters_) {
    if (existing == name) fail("register_parameter: a parameter named '{}' already exists", name);
  }
  if (tensor.defined() && !tensor.requires_grad()) tensor.set_requires_grad(true);
  parameters_.emplace_back(std::move(name), std::move(tensor));
  return parameters_.back().second;
}

void Module::add_child(std::string name, std::shared_ptr<Module> module) {
  if (!module) fail("register_module: module '{}' is null", name);
  for (const auto& [existing, _] : children_) {
    if (existing == name) fail("register_module: a module named '{}' already exists", name);
  }
  children_.emplace_back(std::move(name), std::move(module));
}

void Module::collect(const std::string& prefix,
                     std::vector<std::pair<std::string, Tensor>>& out) const {
  for (const auto& [name, tensor] : parameters_) {
    if (tensor.defined()) out.emplace_back(prefix + name, tensor);
  }
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", out);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect("", out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, tensor] : named_parameters()) out.push_back(tensor);
  return out;
}

const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& Module::named_children() const {
  return children_;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::eval() { train(false); }

bool Module::is_training() const { return training_; }

void Module::zero_grad() {
  for (auto& [name, tensor] : named_parameters()) tensor.zero_grad();
}

Module& Module::to(Dtype dtype) {
  if (!is_floating(dtype)) fail("Module.to: parameters must be Float32 or Float64, got {}", dtype);
  for (auto& [name, param] : named_parameters()) {
    if (param.dtype() == dtype) continue;
    // Swap the storage inside the shared impl, so every handle (the registry's, a Linear's
    // `weight` member, an optimizer's list) sees the converted parameter.
    Tensor converted = param.detach().to(dtype);
    param.impl().storage = converted.impl().storage;
    param.impl().offset = converted.impl().offset;
    param.impl().dtype = dtype;
    param.zero_grad();
  }
  return *this;
}

}  // namespace tg::nn
