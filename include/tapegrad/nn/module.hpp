#pragma once

#include <tapegrad/tensor.hpp>

#include <concepts>
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

  /// Every parameter, this module's first, then each child's in registration order. A tensor
  /// reachable under several names (a tied weight, a child registered twice) appears once, under
  /// its first name, as in PyTorch.
  std::vector<Tensor> parameters() const;
  /// Parameters with PyTorch's dotted names ("0.weight", "fc1.bias"), without repeats.
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
  /// Every buffer, this module's first, then each child's (without repeats).
  std::vector<Tensor> buffers() const;
  /// Buffers with dotted names ("bn.running_mean"), without repeats.
  std::vector<std::pair<std::string, Tensor>> named_buffers() const;
  /// Parameters and buffers in PyTorch's state_dict order: for each module, its parameters,
  /// then its buffers, then its children's. What tg::save writes and tg::load reads. A tied
  /// tensor is listed under each of its names, as in PyTorch.
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
  /// Registers a tensor member of the derived module (`register_parameter("weight",
  /// &Linear::weight)`), marked requires_grad. The registry reads the member on every lookup,
  /// so assigning it, as in `decoder->weight = encoder->weight`, ties the two as in PyTorch.
  template <std::derived_from<Module> M>
  void register_parameter(std::string name, Tensor M::*member) {
    Tensor& tensor = static_cast<M&>(*this).*member;
    if (tensor.defined() && !tensor.requires_grad()) tensor.set_requires_grad(true);
    add_member(parameters_, std::move(name), member_reader(member), "register_parameter");
  }
  /// Registers a tensor member as a buffer (detached), read through the member like the above.
  template <std::derived_from<Module> M>
  void register_buffer(std::string name, Tensor M::*member) {
    Tensor& tensor = static_cast<M&>(*this).*member;
    if (tensor.defined() && tensor.requires_grad()) tensor = tensor.detach();
    add_member(buffers_, std::move(name), member_reader(member), "register_buffer");
  }
  /// Throws a tg::Error naming `layer` unless x has the dtype of this module's own floating
  /// parameters and buffers (the first defined one decides; none: anything goes), so a layer's
  /// error says "GRU: expected Float32 input ..." rather than what an op inside it met.
  void require_input_dtype(const Tensor& x, const char* layer) const;
  /// Adds a child module under `name` and returns it.
  template <class M>
  std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> module) {
    add_child(std::move(name), module);
    return module;
  }

 private:
  /// A registered tensor: held by the registry, or a member of the derived module read through
  /// `member`. A pointer to member, unlike a pointer, stays right when the module is copied.
  struct Slot {
    std::string name;
    Tensor held;
    std::function<const Tensor&(const Module&)> member;
    const Tensor& get(const Module& self) const { return member ? member(self) : held; }
  };
  template <class M>
  static std::function<const Tensor&(const Module&)> member_reader(Tensor M::*member) {
    return [member](const Module& self) -> const Tensor& {
      return static_cast<const M&>(self).*member;
    };
  }
  void add_member(std::deque<Slot>& slots, std::string name,
                  std::function<const Tensor&(const Module&)> reader, const char* op);
  void add_child(std::string name, std::shared_ptr<Module> module);
  struct Collect {
    bool parameters = false, buffers = false;
  };
  void collect(const std::string& prefix, Collect what,
               std::vector<std::pair<std::string, Tensor>>& out) const;
  std::vector<std::pair<std::string, Tensor>> collect_once(Collect what) const;
  void check_new_name(const std::string& name, const char* op) const;

  std::deque<Slot> parameters_;  // deque: references to `held` stay valid
  std::deque<Slot> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace tg::nn
