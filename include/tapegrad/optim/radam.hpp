#pragma once

#include <tapegrad/optim/optimizer.hpp>

#include <tuple>

namespace tg::optim {

/// Options of torch.optim.RAdam, in its order and with its defaults (foreach is not needed).
struct RAdamOptions {
  double lr = 1e-3;
  std::tuple<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;

  static constexpr const char* kName = "RAdam";
  void validate() const;
  bool operator==(const RAdamOptions&) const = default;
  template <class F>
  void for_each_field(F&& f) {
    f("lr", lr);
    f("beta1", std::get<0>(betas));
    f("beta2", std::get<1>(betas));
    f("eps", eps);
    f("weight_decay", weight_decay);
  }
};

/// Per-parameter state of RAdam.
struct RAdamState : ParamState {
  Tensor exp_avg;     // m: moving average of g
  Tensor exp_avg_sq;  // v: moving average of g²
  void init(const Tensor& param, const RAdamOptions& options);
  template <class F>
  void for_each_buffer(F&& f) {
    f("exp_avg", exp_avg);
    f("exp_avg_sq", exp_avg_sq);
  }
};

/// RAdam: Adam whose adaptive step is switched on, and rectified, once v's variance is tractable.
class RAdam : public OptimizerBase<RAdamOptions, RAdamState> {
 public:
  using OptimizerBase::OptimizerBase;

 private:
  void update(const RAdamOptions& o, RAdamState& s, Tensor& param,
              const Tensor& grad) const override;
};

}  // namespace tg::optim
