#include <tapegrad/optim/optimizer.hpp>

#include <algorithm>

namespace tg::optim {

Stateful::~Stateful() = default;
Optimizer::~Optimizer() = default;

std::optional<double> Optimizer::group_option(size_t, std::string_view) const {
  return std::nullopt;
}

void Optimizer::set_group_option(size_t, std::string_view name, double) {
  fail("{}.set_group_option: no numeric option '{}'", this->name(), name);
}

// torch/optim/optimizer.py: `with torch.enable_grad(): loss = closure()`, then the update.
Tensor Optimizer::step(std::function<Tensor()> closure) {
  Tensor loss = closure ? detail::evaluate_closure(closure) : Tensor();
  step();
  return loss;
}

void Optimizer::zero_grad() {
  for (Tensor& param : parameters()) param.zero_grad();
}

double Optimizer::lr() const { return group_lr(0); }

std::vector<double> Optimizer::group_lrs() const {
  std::vector<double> lrs;
  for (size_t group = 0; group < param_group_count(); ++group) lrs.push_back(group_lr(group));
  return lrs;
}

std::vector<double> Optimizer::initial_lrs() {
  for (size_t group = initial_lrs_.size(); group < param_group_count(); ++group)
    initial_lrs_.push_back(group_lr(group));
  return initial_lrs_;
}

void Optimizer::set_lr(double lr) {
  for (size_t group = 0; group < param_group_count(); ++group) set_group_lr(group, lr);
}

namespace detail {

Tensor evaluate_closure(const std::function<Tensor()>& closure) {
  struct EnableGrad {  // restores the caller's mode even when the closure throws
    bool previous = is_grad_enabled();
    EnableGrad() { set_grad_enabled(true); }
    ~EnableGrad() { set_grad_enabled(previous); }
  } enable_grad;
  return closure();
}

void check_parameters(const char* optimizer, const std::vector<Tensor>& params,
                      const std::vector<Tensor>& already_present) {
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    if (!p.defined()) fail("{}: parameter {} is undefined", optimizer, i);
    if (!is_floating(p.dtype())) {
      fail("{}: parameter {} is {} {}; only Float32 and Float64 tensors can be optimized",
           optimizer, i, p.dtype(), shape_str(p.shape()));
    }
    if (!p.is_leaf()) {
      fail(
          "{}: parameter {} {} is not a leaf (it was made by '{}'); optimize the leaf it came "
          "from, or detach() it",
          optimizer, i, shape_str(p.shape()), p.grad_fn()->name());
    }
    const auto same = [&](const Tensor& q) { return q.shared_impl() == p.shared_impl(); };
    if (std::any_of(already_present.begin(), already_present.end(), same) ||
        std::any_of(params.begin(), params.begin() + i, same)) {
      fail("{}: parameter {} {} appears more than once", optimizer, i, shape_str(p.shape()));
    }
  }
}

void check_option(bool valid, const char* optimizer, const char* option, double value,
                  const char* expectation) {
  if (valid) return;
  if (value != value) {
    fail("{}: {} is required (got no value or NaN; expected {})", optimizer, option, expectation);
  }
  fail("{}: invalid {}: {} (expected {})", optimizer, option, value, expectation);
}

double read_scalar(const StateDict& state, const std::string& key) {
  const auto it = state.find(key);
  if (it == state.end()) fail("load_state_dict: missing '{}'", key);
  if (it->second.numel() != 1) {
    fail("load_state_dict: '{}' should hold one value, got shape {}", key,
         shape_str(it->second.shape()));
  }
  return it->second.item<double>();
}

int64_t read_count(const StateDict& state, const std::string& key) {
  const double value = read_scalar(state, key);
  constexpr double kLargestExact = 9007199254740992.0;  // 2^53: every count below is exact
  if (!(value >= 0 && value <= kLargestExact) ||
      value != static_cast<double>(static_cast<int64_t>(value))) {
    fail("load_state_dict: '{}' = {} is not a count (a whole number from 0 to 2^53)", key, value);
  }
  return static_cast<int64_t>(value);
}

void check_known_keys(const char* op, const StateDict& state, const std::set<std::string>& known) {
  for (const auto& [key, value] : state) {
    if (known.count(key) == 0) fail("{}: unexpected entry '{}'", op, key);
  }
}

}  // namespace detail
}  // namespace tg::optim
