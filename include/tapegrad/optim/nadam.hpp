#pragma once

#include <tapegrad/optim/optimizer.hpp>

#include <tuple>

namespace tg::optim {

/// Options of torch.optim.NAdam, in its order and with its defaults (foreach is not needed).
struct NAdamOptions {
  double lr = 2e-3;
  std::tuple<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum_decay = 4e-3;

  static constexpr const char* kName = "NAdam";
  void validate() const;
  bool operator==(const NAdamOptions&) const = default;
  template <class F>
  void for_each_field(F&& f) {
    f("lr", lr);
    f("beta1", std::get<0>(betas));
    f("beta2", std::get<1>(betas));
    f("eps", eps);
    f("weight_decay", weight_decay);
    f("momentum_decay", momentum_decay);
  }
};

/// Per-parameter state of NAdam.
struct NAdamState : ParamState {
  Tensor exp_avg;     // m: moving average of g
  Tensor exp_avg_sq;  // v: moving average of g²
  Tensor mu_product;  // Π μ_t so far: 0-d Float32, as torch keeps it
  void init(const Tensor& param, const NAdamOptions& options);
  template <class F>
  void for_each_buffer(F&& f) {
    f("exp_avg", exp_avg);
    f("exp_avg_sq", exp_avg_sq);
    f("mu_product", mu_product);
  }
};

/// NAdam: Adam with Nesterov momentum and a warming-up momentum schedule.
class NAdam : public OptimizerBase<NAdamOptions, NAdamState> {
 public:
  using OptimizerBase::OptimizerBase;

 private:
  void update(const NAdamOptions& o, NAdamState& s, Tensor& param,
              const Tensor& grad) const override;
};

}  // namespace tg::optim
