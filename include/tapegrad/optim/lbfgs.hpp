#pragma once

#include <tapegrad/optim/optimizer.hpp>

#include <functional>
#include <vector>

namespace tg::optim {

/// L-BFGS's step-length rule: a fixed step lr, or torch's strong-Wolfe line search.
enum class LineSearch { None = 0, StrongWolfe = 1 };

/// Options of torch.optim.LBFGS, in its order and with its defaults.
struct LBFGSOptions {
  double lr = 1;
  int64_t max_iter = 20;
  int64_t max_eval = 0;  // 0 means torch's None: max_iter·5/4
  double tolerance_grad = 1e-7;
  double tolerance_change = 1e-9;
  int64_t history_size = 100;
  LineSearch line_search_fn = LineSearch::None;

  static constexpr const char* kName = "LBFGS";
  void validate() const;
  bool operator==(const LBFGSOptions&) const = default;
  template <class F>
  void for_each_field(F&& f) {
    f("lr", lr);
    f("max_iter", max_iter);
    f("max_eval", max_eval);
    f("tolerance_grad", tolerance_grad);
    f("tolerance_change", tolerance_change);
    f("history_size", history_size);
    f("line_search_fn", line_search_fn);
  }
};

/// L-BFGS (torch.optim.LBFGS 1.13): quasi-Newton steps from the last history_size updates, on
/// all parameters as one flat vector; one parameter group, one dtype. step(closure) runs up to
/// max_iter iterations and needs the closure, which re-evaluates the loss and its gradients.
class LBFGS : public Optimizer {
 public:
  /// The options aggregate (for generic code such as the shared tests).
  using options_type = LBFGSOptions;
  LBFGS(std::vector<Tensor> params, LBFGSOptions options = {});
  using Optimizer::step;
  /// A tg::Error: L-BFGS needs a closure.
  void step() override;
  Tensor step(std::function<Tensor()> closure) override;
  const char* name() const override { return LBFGSOptions::kName; }
  std::string describe(size_t group = 0) const override;
  /// The options (L-BFGS has one group).
  const LBFGSOptions& options(size_t group = 0) const;
  size_t param_group_count() const override { return 1; }
  double group_lr(size_t group) const override { return options(group).lr; }
  void set_group_lr(size_t group, double lr) override;
  std::vector<Tensor> parameters() const override { return params_; }
  StateDict state_dict() const override;
  void load_state_dict(const StateDict& state) override;

  /// What torch keeps in state[params[0]]; vectors hold the flat parameter's values.
  struct State {
    int64_t func_evals = 0, n_iter = 0;
    std::vector<double> d, prev_flat_grad;
    std::vector<std::vector<double>> old_dirs, old_stps;  // y and s of the kept updates
    std::vector<double> ro;                               // 1/(yᵀs) of each
    double t = 0, H_diag = 1, prev_loss = 0;
  };

 private:
  std::vector<double> flat_grad() const;
  void add_to_params(double step_size, const std::vector<double>& direction);
  void direction(const std::vector<double>& g);
  // To the parameters' dtype: torch computes Float32 parameters in float, and each value here
  // is one correctly rounded double operation on float inputs, whose rounding to float is
  // float's own result. Inline, as the two-loop recursion calls it per element.
  double round(double x) const { return float32_ ? static_cast<double>(static_cast<float>(x)) : x; }
  double evaluate(const std::function<Tensor()>& closure);

  std::vector<Tensor> params_;
  LBFGSOptions options_;
  State state_;
  bool float32_ = false;  // the parameters are Float32
};

}  // namespace tg::optim
