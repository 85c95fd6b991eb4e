#pragma once

#include <tapegrad/tensor.hpp>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tg::nn {

/// Base of every layer: an ordered registry of named parameters and child modules.
class Module {
 public:
  virtual ~Module();
  /// The layer's computation on one tensor (what Sequential calls). A module whose forward takes
  /// other arguments defines that instead; calling this one on it is then a tg::Error.
  virtual Tensor forward(const Tensor& x);
  /// Same as forward(x).
  Tensor operator()(const Tensor& x);

  /// Every parameter, this module's first, then each child's in registration order.
  std::vector<Tensor> parameters() const;
  /// Parameters with PyTorch's dotted names ("0.weight", "fc1.bias").
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  /// Direct children with their names.
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const;
  /// Direct children.
  std::vector<std::shared_ptr<Module>> children() const;
  /// This module (named "") and every descendant, depth first, with dotted names ("0", "fc.1").
  std::vector<std::pair<std::string, Module*>> named_modules();
  /// Calls fn on every descendant, then on this module (PyTorch's order), and returns *this.
  Module& apply(const std::function<void(Module&)>& fn);
  /// Adds a tensor that is state but not a parameter (BatchNorm's running_mean): saved by
  /// tg::save and checkpoints, converted by to(), never given a gradient. Returns a reference
  /// that stays valid.
  Tensor& register_buffer(std::string name, Tensor tensor);
  /// Every buffer, this module's first, then each child's.
  std::vector<Tensor> buffers() const;
  /// Buffers with dotted names ("bn.running_mean").
  std::vector<std::pair<std::string, Tensor>> named_buffers() const;
  /// Parameters and buffers in PyTorch's state_dict order: for each module, its parameters,
  /// then its buffers, then its children's. What tg::save writes and tg::load reads.
  std::vector<std::pair<std::string, Tensor>> state_dict() const;

  /// Switches this module and its children to training (or evaluation) mode.
  void train(bool on = true);
  /// Same as train(false).
  void eval();
  bool is_training() const;
  /// Drops every parameter's gradient.
  void zero_grad();
  /// Converts every parameter and floating buffer to `dtype` in place (PyTorch's
  /// model.to(dtype) / .double()).
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
  struct Collect {
    bool parameters = false, buffers = false;
  };
  void collect(const std::string& prefix, Collect what,
               std::vector<std::pair<std::string, Tensor>>& out) const;
  void check_new_name(const std::string& name, const char* op) const;

  std::deque<std::pair<std::string, Tensor>> parameters_;  // deque: references stay valid
  std::deque<std::pair<std::string, Tensor>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace tg::nn
