#pragma once

#include <tapegrad/optim/optimizer.hpp>

#include <tuple>

namespace tg::optim {

/// Options of torch.optim.Adamax, in its order and with its defaults (foreach is not needed).
struct AdamaxOptions {
  double lr = 2e-3;
  std::tuple<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;
  bool maximize = false;

  static constexpr const char* kName = "Adamax";
  void validate() const;
  bool operator==(const AdamaxOptions&) const = default;
  template <class F>
  void for_each_field(F&& f) {
    f("lr", lr);
    f("beta1", std::get<0>(betas));
    f("beta2", std::get<1>(betas));
    f("eps", eps);
    f("weight_decay", weight_decay);
    f("maximize", maximize);
  }
};

/// Per-parameter state of Adamax.
struct AdamaxState : ParamState {
  Tensor exp_avg;  // m: moving average of g
  Tensor exp_inf;  // u: exponentially weighted infinity norm of g
  void init(const Tensor& param, const AdamaxOptions& options);
  template <class F>
  void for_each_buffer(F&& f) {
    f("exp_avg", exp_avg);
    f("exp_inf", exp_inf);
  }
};

/// Adamax: Adam with the infinity norm in place of the root mean square.
class Adamax : public OptimizerBase<AdamaxOptions, AdamaxState> {
 public:
  using OptimizerBase::OptimizerBase;

 private:
  void update(const AdamaxOptions& o, AdamaxState& s, Tensor& param,
              const Tensor& grad) const override;
};

}  // namespace tg::optim
