#include <tapegrad/error.hpp>
#include <tapegrad/nn/module.hpp>

#include "tensor/tensor_impl.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <typeinfo>
#include <unordered_set>

namespace tg::nn {

namespace {

std::string type_name(const Module& module) {
  const char* mangled = typeid(module).name();
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> readable(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  return status == 0 && readable ? readable.get() : mangled;
}

}  // namespace

Module::~Module() = default;

Tensor Module::forward(const Tensor& x) {
  fail("forward: {} has no forward(Tensor) (got {}); call the forward it defines", type_name(*this),
       shape_str(x.shape()));
}

Tensor Module::operator()(const Tensor& x) { return forward(x); }

// Parameters, buffers and children share one namespace, as in PyTorch, so dotted names are unique.
void Module::check_new_name(const std::string& name, const char* op) const {
  if (name.empty() || name.find('.') != std::string::npos) {
    fail("{}: invalid name '{}' (non-empty, without '.')", op, name);
  }
  const auto taken = [&](const auto& slots) {
    for (const Slot& slot : slots) {
      if (slot.name == name) return true;
    }
    return false;
  };
  const auto child_taken = [&] {
    for (const auto& [existing, _] : children_) {
      if (existing == name) return true;
    }
    return false;
  };
  if (taken(parameters_) || taken(buffers_) || child_taken()) {
    fail("{}: the module already has a parameter, buffer or child named '{}'", op, name);
  }
}

void Module::require_input_dtype(const Tensor& x, const char* layer) const {
  for (const std::deque<Slot>* slots : {&parameters_, &buffers_}) {
    for (const Slot& slot : *slots) {
      const Tensor& t = slot.get(*this);
      if (!t.defined() || !is_floating(t.dtype())) continue;
      if (x.dtype() != t.dtype()) {
        fail("{}: expected {} input (the dtype of its {}), got {} {}", layer, t.dtype(), slot.name,
             x.dtype(), shape_str(x.shape()));
      }
      return;
    }
  }
}

Tensor& Module::register_parameter(std::string name, Tensor tensor) {
  check_new_name(name, "register_parameter");
  if (tensor.defined() && !tensor.requires_grad()) tensor.set_requires_grad(true);
  parameters_.push_back({.name = std::move(name), .held = std::move(tensor), .member = {}});
  return parameters_.back().held;
}

Tensor& Module::register_buffer(std::string name, Tensor tensor) {
  check_new_name(name, "register_buffer");
  if (tensor.defined() && tensor.requires_grad()) tensor = tensor.detach();
  buffers_.push_back({.name = std::move(name), .held = std::move(tensor), .member = {}});
  return buffers_.back().held;
}

void Module::add_member(std::deque<Slot>& slots, std::string name,
                        std::function<const Tensor&(const Module&)> reader, const char* op) {
  check_new_name(name, op);
  slots.push_back({.name = std::move(name), .held = {}, .member = std::move(reader)});
}

void Module::add_child(std::string name, std::shared_ptr<Module> module) {
  if (!module) fail("register_module: module '{}' is null", name);
  check_new_name(name, "register_module");
  children_.emplace_back(std::move(name), std::move(module));
}

void Module::collect(const std::string& prefix, Collect what,
                     std::vector<std::pair<std::string, Tensor>>& out) const {
  const auto add = [&](const std::deque<Slot>& slots) {
    for (const Slot& slot : slots) {
      const Tensor& tensor = slot.get(*this);
      if (tensor.defined()) out.emplace_back(prefix + slot.name, tensor);
    }
  };
  if (what.parameters) add(parameters_);
  if (what.buffers) add(buffers_);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", what, out);
}

// PyTorch's remove_duplicate: a tensor met again under another name is skipped.
std::vector<std::pair<std::string, Tensor>> Module::collect_once(Collect what) const {
  std::vector<std::pair<std::string, Tensor>> all, out;
  collect("", what, all);
  std::unordered_set<const TensorImpl*> seen;
  for (auto& entry : all) {
    if (seen.insert(&entry.second.impl()).second) out.push_back(std::move(entry));
  }
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  return collect_once({.parameters = true});
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers() const {
  return collect_once({.buffers = true});
}

std::vector<std::pair<std::string, Tensor>> Module::state_dict() const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect("", {.parameters = true, .buffers = true}, out);
  return out;
}

std::vector<Tensor> Module::buffers() const {
  std::vector<Tensor> out;
  for (auto& [name, tensor] : named_buffers()) out.push_back(tensor);
  return out;
}

// A module registered under two names is one child, as torch's named_children memo makes it.
std::vector<std::shared_ptr<Module>> Module::children() const {
  std::vector<std::shared_ptr<Module>> out;
  std::unordered_set<const Module*> seen;
  for (const auto& [name, child] : children_) {
    if (seen.insert(child.get()).second) out.push_back(child);
  }
  return out;
}

// Depth first, each module once under the first name it is met by (torch's memo).
std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out;
  std::vector<std::pair<std::string, Module*>> pending{{"", this}};  // a stack: no recursion
  std::unordered_set<const Module*> seen;
  while (!pending.empty()) {
    auto [name, module] = pending.back();
    pending.pop_back();
    if (!seen.insert(module).second) continue;
    out.emplace_back(name, module);
    const auto& kids = module->children_;
    for (auto it = kids.rbegin(); it != kids.rend(); ++it) {  // reversed: the first pops first
      pending.emplace_back(name.empty() ? it->first : name + "." + it->first, it->second.get());
    }
  }
  return out;
}

Module& Module::apply(const std::function<void(Module&)>& fn) {
  for (const std::shared_ptr<Module>& child : children()) child->apply(fn);
  fn(*this);
  return *this;
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
  for (auto& [name, param] : state_dict()) {
    if (param.dtype() == dtype || !is_floating(param.dtype())) continue;
    // Swap the storage inside the shared impl, so every handle (the registry's, a Linear's
    // `weight` member, an optimizer's list) sees the converted parameter.
    Tensor converted = param.detach().to(dtype);
    param.impl().storage = converted.impl().storage;
    param.impl().offset = converted.impl().offset;
    param.impl().dtype = dtype;
    // torch's module.double() keeps a gradient, converted with its tensor.
    if (const Tensor grad = param.grad(); grad.defined()) {
      param.impl().grad = grad.detach().to(dtype).shared_impl();
    }
  }
  return *this;
}

}  // namespace tg::nn
