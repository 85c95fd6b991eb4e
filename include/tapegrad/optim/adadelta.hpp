#pragma once

#include <tapegrad/optim/optimizer.hpp>

namespace tg::optim {

/// Options of torch.optim.Adadelta, in its order and with its defaults (foreach is not needed).
struct AdadeltaOptions {
  double lr = 1.0;
  double rho = 0.9;
  double eps = 1e-6;
  double weight_decay = 0;
  bool maximize = false;

  static constexpr const char* kName = "Adadelta";
  void validate() const;
  bool operator==(const AdadeltaOptions&) const = default;
  template <class F>
  void for_each_field(F&& f) {
    f("lr", lr);
    f("rho", rho);
    f("eps", eps);
    f("weight_decay", weight_decay);
    f("maximize", maximize);
  }
};

/// Per-parameter state of Adadelta.
struct AdadeltaState : ParamState {
  Tensor square_avg;  // moving average of g²
  Tensor acc_delta;   // moving average of the squared updates
  void init(const Tensor& param, const AdadeltaOptions& options);
  template <class F>
  void for_each_buffer(F&& f) {
    f("square_avg", square_avg);
    f("acc_delta", acc_delta);
  }
};

/// Adadelta: steps scaled by the ratio of the updates' and the gradients' running RMS.
class Adadelta : public OptimizerBase<AdadeltaOptions, AdadeltaState> {
 public:
  using OptimizerBase::OptimizerBase;

 private:
  void update(const AdadeltaOptions& o, AdadeltaState& s, Tensor& param,
              const Tensor& grad) const override;
};

}  // namespace tg::optim
