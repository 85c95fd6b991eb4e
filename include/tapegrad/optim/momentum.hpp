#pragma once

#include <tapegrad/optim/optimizer.hpp>

#include <limits>

namespace tg::optim {

/// Options of torch.optim.SGD with momentum; lr has no default, as in PyTorch.
struct MomentumOptions {
  double lr = std::numeric_limits<double>::quiet_NaN();
  double momentum = 0.9;
  double dampening = 0;
  bool nesterov = false;
  double weight_decay = 0;

  static constexpr const char* kName = "Momentum";
  void validate() const;
  bool operator==(const MomentumOptions&) const = default;
  template <class F>
  void for_each_field(F&& f) {
    f("lr", lr);
    f("momentum", momentum);
    f("dampening", dampening);
    f("nesterov", nesterov);
    f("weight_decay", weight_decay);
  }
};

/// Per-parameter state of Momentum.
struct MomentumState : ParamState {
  Tensor momentum_buffer;
  void init(const Tensor& param, const MomentumOptions& options);
  template <class F>
  void for_each_buffer(F&& f) {
    f("momentum_buffer", momentum_buffer);
  }
};

/// SGD with (Nesterov) momentum: the same numbers as torch.optim.SGD(momentum=…).
class Momentum : public OptimizerBase<MomentumOptions, MomentumState> {
 public:
  using OptimizerBase::OptimizerBase;

 private:
  void update(const MomentumOptions& o, MomentumState& s, Tensor& param,
              const Tensor& grad) const override;
};

}  // namespace tg::optim
