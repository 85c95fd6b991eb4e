#pragma once

#include <tapegrad/optim/optimizer.hpp>

#include <limits>

namespace tg::optim {

/// Options of plain SGD (torch.optim.SGD without momentum). lr has no default, as in PyTorch.
struct SGDOptions {
  double lr = std::numeric_limits<double>::quiet_NaN();
  double weight_decay = 0;

  static constexpr const char* kName = "SGD";
  void validate() const;
  bool operator==(const SGDOptions&) const = default;
  template <class F>
  void for_each_field(F&& f) {
    f("lr", lr);
    f("weight_decay", weight_decay);
  }
};

/// Plain SGD keeps no per-parameter buffers.
struct SGDState : ParamState {
  void init(const Tensor&, const SGDOptions&) {}
  template <class F>
  void for_each_buffer(F&&) {}
};

/// Plain stochastic gradient descent: p ← p − lr·(g + λp).
class SGD : public OptimizerBase<SGDOptions, SGDState> {
 public:
  using OptimizerBase::OptimizerBase;

 private:
  void update(const SGDOptions& o, SGDState& s, Tensor& param, const Tensor& grad) const override;
};

}  // namespace tg::optim
