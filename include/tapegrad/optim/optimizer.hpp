#pragma once

#include <tapegrad/autograd.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/tensor.hpp>

#include <fmt/format.h>

#include <concepts>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace tg::optim {

/// An optimizer's complete state as named tensors, ready for a checkpoint:
/// "group.G.OPTION" (0-d Float64), "group.G.params" (Int64 indices),
/// "state.P.BUFFER" (the buffer) and "state.P.step" (0-d Int64).
using StateDict = std::map<std::string, Tensor>;

/// Anything whose complete state is a StateDict: optimizers and schedulers (for checkpoints).
class Stateful {
 public:
  virtual ~Stateful();
  /// The complete state as named tensors.
  virtual StateDict state_dict() const = 0;
  /// Restores a state_dict(); checks everything first and changes nothing if anything is wrong.
  virtual void load_state_dict(const StateDict& state) = 0;
};

/// The interface every algorithm implements; pluggable: one subclass per algorithm.
class Optimizer : public Stateful {
 public:
  virtual ~Optimizer();
  /// The algorithm's name ("RMSProp"), as used in error messages and checkpoints.
  virtual const char* name() const = 0;
  /// Applies one update to every parameter that has a gradient.
  virtual void step() = 0;
  /// Evaluates `closure` (which recomputes the loss and its gradients) with recording on, then
  /// steps; returns the closure's loss (undefined without a closure), as torch's step(closure).
  virtual Tensor step(std::function<Tensor()> closure);
  /// The options of one group as text, e.g. "Adam(lr=0.001, beta1=0.9, …)".
  virtual std::string describe(size_t group = 0) const = 0;
  /// Drops the gradient of every parameter (set_to_none, as PyTorch's default).
  void zero_grad();
  /// Learning rate of the first parameter group.
  double lr() const;
  /// Sets the learning rate of every parameter group.
  void set_lr(double lr);

  /// Number of parameter groups.
  virtual size_t param_group_count() const = 0;
  /// Learning rate of one group.
  virtual double group_lr(size_t group) const = 0;
  /// Sets the learning rate of one group.
  virtual void set_group_lr(size_t group, double lr) = 0;
  /// Every group's learning rate, in group order.
  std::vector<double> group_lrs() const;
  /// PyTorch's group['initial_lr']: each group's rate when the first scheduler was attached
  /// (set then, once, and for groups added later when a scheduler first sees them). Every
  /// scheduler's base rates, so a second scheduler starts from the configured rate, not from
  /// the one a warm-up has already lowered.
  std::vector<double> initial_lrs();
  /// Overwrites them (OneCycleLR starts from max_lr / div_factor, as in PyTorch).
  void set_initial_lrs(std::vector<double> lrs) { initial_lrs_ = std::move(lrs); }
  /// A numeric option of one group by its name in the options' field list ("momentum",
  /// "beta1"); nullopt when the algorithm has no such option (what schedulers such as
  /// OneCycleLR use to cycle the momentum).
  virtual std::optional<double> group_option(size_t group, std::string_view name) const;
  /// Sets that option, checked like the constructor's; an unknown name is a tg::Error.
  virtual void set_group_option(size_t group, std::string_view name, double value);
  /// Every parameter of every group, in order.
  virtual std::vector<Tensor> parameters() const = 0;
  /// Exports options, per-parameter buffers and step counts (see StateDict).
  StateDict state_dict() const override = 0;
  /// Restores a state_dict() of an optimizer with the same parameters; checks everything first.
  void load_state_dict(const StateDict& state) override = 0;

 private:
  std::vector<double> initial_lrs_;
};

/// What every per-parameter state has: whether it was allocated, and how many updates it saw.
struct ParamState {
  bool ready = false;
  int64_t step = 0;
};

namespace detail {
/// Throws unless every tensor can be optimized: defined, floating, leaf, not already listed.
void check_parameters(const char* optimizer, const std::vector<Tensor>& params,
                      const std::vector<Tensor>& already_present);
/// Throws "OPTIMIZER: invalid OPTION: VALUE (expected EXPECTATION)" unless `valid`.
void check_option(bool valid, const char* optimizer, const char* option, double value,
                  const char* expectation);
/// Reads a 0-d tensor of a state dict as double; throws naming the key when absent or malformed.
double read_scalar(const StateDict& state, const std::string& key);
/// Reads a count (a step, an epoch): a whole number in [0, 2^53]; throws otherwise.
int64_t read_count(const StateDict& state, const std::string& key);
/// Reads an option field into `value` (double, bool or integer), rejecting values the field
/// cannot hold exactly (a bool must be 0 or 1, an integer a whole number in range).
template <class T>
void read_field(const StateDict& state, const std::string& key, T& value) {
  const double stored = read_scalar(state, key);
  if constexpr (std::is_same_v<T, bool>) {
    if (stored != 0 && stored != 1) fail("load_state_dict: '{}' = {} is not 0 or 1", key, stored);
    value = stored == 1;
  } else if constexpr (std::is_integral_v<T> || std::is_enum_v<T>) {
    value = static_cast<T>(read_count(state, key));
  } else {
    value = static_cast<T>(stored);
  }
}
/// Calls the closure with recording on (torch.enable_grad()) and returns its loss.
Tensor evaluate_closure(const std::function<Tensor()>& closure);
/// Throws naming the first key of `state` that is not in `known`.
void check_known_keys(const char* op, const StateDict& state, const std::set<std::string>& known);
/// An option field's value as a double, for state_dict() (bools 0/1, enums their number).
template <class T>
double field_value(const T& value) {
  if constexpr (std::is_enum_v<T>) {
    return static_cast<double>(static_cast<int64_t>(value));
  } else {
    return static_cast<double>(value);
  }
}
/// "NAME(field=value, …)" from an options struct's field list.
template <class Options>
std::string describe_options(Options options) {
  std::string text = std::string(Options::kName) + "(";
  const char* separator = "";
  options.for_each_field([&](const char* name, auto& value) {
    text += separator + std::string(name) + "=" + fmt::format("{}", field_value(value));
    separator = ", ";
  });
  return text + ")";
}
}  // namespace detail

/// What an optimizer's options provide: torch's name, the one field list (which drives
/// state_dict, load_state_dict, describe() and the shared tests), its checks, and equality.
template <class O>
concept OptimizerOptions = requires(O o, const O c) {
  { O::kName } -> std::convertible_to<const char*>;
  { o.lr } -> std::convertible_to<double>;
  c.validate();
  o.for_each_field([](const char*, auto&) {});
  { c == c } -> std::convertible_to<bool>;
};

/// What an optimizer's per-parameter state provides: ParamState, its buffers allocated from the
/// parameter and options, and the list of those buffers (for state_dict).
template <class S, class O>
concept OptimizerState = std::derived_from<S, ParamState> && requires(S s, const Tensor& p, O o) {
  s.init(p, o);
  s.for_each_buffer([](const char*, Tensor&) {});
};

/// The shared machinery: parameter groups with their Options, per-parameter State allocated on
/// the first step that has a gradient, state export/import, step() and step(closure). A
/// subclass supplies update(): one parameter's update (usually through detail::update_elements
/// in src/optim/element_ranges.hpp, which runs an elementwise loop on the CPU level and threads).
template <class Options, class State>
requires OptimizerOptions<Options> && OptimizerState<State, Options>
class OptimizerBase : public Optimizer {
 public:
  /// The options aggregate (for generic code such as the shared tests).
  using options_type = Options;
  /// Parameters with one group's options; an empty list is an error.
  OptimizerBase(std::vector<Tensor> params, Options options = {}) {
    if (params.empty()) fail("{}: got an empty parameter list", Options::kName);
    add_param_group(std::move(params), options);
  }

  using Optimizer::step;
  /// Updates every parameter that has a gradient.
  void step() final {
    for_each_parameter([this](const Options& o, State& s, Tensor& param, const Tensor& grad) {
      update(o, s, param, grad);
    });
  }
  std::string describe(size_t group = 0) const override {
    return detail::describe_options(group_at(group, "describe").options);
  }

  /// Adds parameters with their own options (e.g. a different lr for the last layer).
  void add_param_group(std::vector<Tensor> params, Options options) {
    options.validate();
    detail::check_parameters(Options::kName, params, parameters());
    groups_.push_back({options, std::move(params), {}});
    groups_.back().states.resize(groups_.back().params.size());
  }

  /// The options of one group.
  const Options& options(size_t group = 0) const { return group_at(group, "options").options; }
  /// The per-parameter state of parameter `index` (in parameters() order); null before its
  /// first update.
  const State* state(size_t index) const {
    const auto at = locate(index);
    if (!at) return nullptr;
    const State& state = groups_[at->first].states[at->second];
    return state.ready ? &state : nullptr;
  }

  /// The group that parameter `index` (in parameters() order) belongs to.
  size_t group_of(size_t index) const {
    const auto at = locate(index);
    if (!at) fail("{}: parameter index {} out of range", Options::kName, index);
    return at->first;
  }

  size_t param_group_count() const override { return groups_.size(); }
  double group_lr(size_t group) const override { return group_at(group, "group_lr").options.lr; }
  void set_group_lr(size_t group, double lr) override {
    Options changed = group_at(group, "set_group_lr").options;
    changed.lr = lr;
    changed.validate();
    groups_[group].options = changed;
  }
  std::optional<double> group_option(size_t group, std::string_view name) const override {
    Options options = group_at(group, "group_option").options;
    std::optional<double> found;
    options.for_each_field([&](const char* field, auto& value) {
      if constexpr (std::is_same_v<std::decay_t<decltype(value)>, double>) {
        if (name == field) found = value;
      }
    });
    return found;
  }
  void set_group_option(size_t group, std::string_view name, double value) override {
    Options changed = group_at(group, "set_group_option").options;
    bool found = false;
    changed.for_each_field([&](const char* field, auto& option) {
      if constexpr (std::is_same_v<std::decay_t<decltype(option)>, double>) {
        if (name == field) {
          option = value;
          found = true;
        }
      }
    });
    if (!found) fail("{}.set_group_option: no numeric option '{}'", Options::kName, name);
    changed.validate();
    groups_[group].options = changed;
  }
  std::vector<Tensor> parameters() const override {
    std::vector<Tensor> all;
    for (const auto& group : groups_)
      all.insert(all.end(), group.params.begin(), group.params.end());
    return all;
  }
  const char* name() const override { return Options::kName; }
  StateDict state_dict() const override;
  void load_state_dict(const StateDict& state) override;

 protected:
  /// One parameter's update; `grad` matches `param` in shape and dtype (Float32 or Float64).
  virtual void update(const Options& options, State& state, Tensor& param,
                      const Tensor& grad) const = 0;

  /// Calls update(options, state, param, grad) for every parameter with a gradient, with
  /// recording off, allocating each state on its parameter's first update.
  template <class F>
  void for_each_parameter(F&& update) {
    NoGradGuard no_grad;
    for (auto& group : groups_) {
      for (size_t i = 0; i < group.params.size(); ++i) {
        Tensor& param = group.params[i];
        Tensor grad = param.grad();
        if (!grad.defined()) continue;  // skipped entirely, as in PyTorch
        if (grad.shape() != param.shape() || grad.dtype() != param.dtype()) {
          fail("{}.step: gradient {} {} does not match parameter {} {}", Options::kName,
               grad.dtype(), shape_str(grad.shape()), param.dtype(), shape_str(param.shape()));
        }
        State& state = group.states[i];
        if (!state.ready) {
          state.init(param, group.options);
          state.ready = true;
        }
        update(group.options, state, param, static_cast<const Tensor&>(grad));
      }
    }
  }

 private:
  // (group, position in that group) of parameter `index` in parameters() order, if it exists.
  std::optional<std::pair<size_t, size_t>> locate(size_t index) const {
    for (size_t g = 0; g < groups_.size(); ++g) {
      if (index < groups_[g].params.size()) return std::pair{g, index};
      index -= groups_[g].params.size();
    }
    return std::nullopt;
  }

  // first, first + 1, …: the parameters() indices of a group's parameters.
  static std::vector<int64_t> group_indices(int64_t first, size_t count);

  struct Group {
    Options options;
    std::vector<Tensor> params;
    std::vector<State> states;
  };
  std::vector<Group> groups_;

  // groups_[group], or a tg::Error naming `method` when there is no such group.
  const Group& group_at(size_t group, const char* method) const {
    if (group >= groups_.size()) {
      fail("{}.{}: parameter group {} out of range [0, {})", Options::kName, method, group,
           groups_.size());
    }
    return groups_[group];
  }
};

}  // namespace tg::optim

#include <tapegrad/optim/state_dict.ipp>
