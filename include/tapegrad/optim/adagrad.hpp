#pragma once

#include <tapegrad/optim/optimizer.hpp>

namespace tg::optim {

/// Options of torch.optim.Adagrad, with its defaults.
struct AdagradOptions {
  double lr = 0.01;
  double lr_decay = 0;
  double weight_decay = 0;
  double initial_accumulator_value = 0;
  double eps = 1e-10;

  static constexpr const char* kName = "Adagrad";
  void validate() const;
  bool operator==(const AdagradOptions&) const = default;
  template <class F>
  void for_each_field(F&& f) {
    f("lr", lr);
    f("lr_decay", lr_decay);
    f("weight_decay", weight_decay);
    f("initial_accumulator_value", initial_accumulator_value);
    f("eps", eps);
  }
};

/// Per-parameter state of Adagrad.
struct AdagradState : ParamState {
  Tensor sum;  // Σ g², starting at initial_accumulator_value
  void init(const Tensor& param, const AdagradOptions& options);
  template <class F>
  void for_each_buffer(F&& f) {
    f("sum", sum);
  }
};

/// Adagrad: per-element steps shrink with the accumulated squared gradients.
class Adagrad : public OptimizerBase<AdagradOptions, AdagradState> {
 public:
  using OptimizerBase::OptimizerBase;

 private:
  void update(const AdagradOptions& o, AdagradState& s, Tensor& param,
              const Tensor& grad) const override;
};

}  // namespace tg::optim
