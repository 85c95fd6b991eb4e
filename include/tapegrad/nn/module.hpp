#pragma once

#include <tapegrad/tensor.hpp>

#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tg::nn {

/// Base of every layer: an ordered registry of named parameters and child modules.
class Module {
 public:
  virtual ~Module();
  /// The layer's computation.
  virtual Tensor forward(const Tensor& x) = 0;
  /// Same as forward(x).
  Tensor operator()(const Tensor& x);

  /// Every parameter, this module's first, then each child's in registration order.
  std::vector<Tensor> parameters() const;
  /// Parameters with PyTorch's dotted names ("0.weight", "fc1.bias").
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  /// Direct children with their names.
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const;

  /// Switches this module and its children to training (or evaluation) mode.
  void train(bool on = true);
  /// Same as train(false).
  void eval();
  bool is_training() const;
  /// Drops every parameter's gradient.
  void zero_grad();
  /// Converts every parameter to `dtype` in place (PyTorch's model.to(dtype) / .double()).
  Module& to(Dtype dtype);

 protected:
  /// Adds a parameter (marked requires_grad) under `name`; the reference stays valid.
  Tensor& register_parameter(std::string name, Tensor tensor);
  /// Adds a child module under `name` and returns it.
  template <class M>
  std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> module) {
    add_child(std::move(name), module);
    return module;
  }

 private:
  void add_child(std::string name, std::shared_ptr<Module> module);
  void collect(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const;

  std::deque<std::pair<std::string, Tensor>> parameters_;  // deque: references stay valid
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace tg::nn
