#pragma once

#include <tapegrad/optim/optimizer.hpp>

#include <tuple>

namespace tg::optim {

/// Options of torch.optim.Adam, with its defaults.
struct AdamOptions {
  double lr = 1e-3;
  std::tuple<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;
  bool amsgrad = false;

  static constexpr const char* kName = "Adam";
  void validate() const;
  bool operator==(const AdamOptions&) const = default;
  template <class F>
  void for_each_field(F&& f) {
    f("lr", lr);
    f("beta1", std::get<0>(betas));
    f("beta2", std::get<1>(betas));
    f("eps", eps);
    f("weight_decay", weight_decay);
    f("amsgrad", amsgrad);
  }
};

/// Options of torch.optim.AdamW: Adam's, with decoupled weight decay defaulting to 1e-2.
struct AdamWOptions {
  double lr = 1e-3;
  std::tuple<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 1e-2;
  bool amsgrad = false;

  static constexpr const char* kName = "AdamW";
  void validate() const;
  bool operator==(const AdamWOptions&) const = default;
  template <class F>
  void for_each_field(F&& f) {
    f("lr", lr);
    f("beta1", std::get<0>(betas));
    f("beta2", std::get<1>(betas));
    f("eps", eps);
    f("weight_decay", weight_decay);
    f("amsgrad", amsgrad);
  }
};

/// Per-parameter state of Adam and AdamW.
struct AdamState : ParamState {
  Tensor exp_avg;         // m: moving average of g
  Tensor exp_avg_sq;      // v: moving average of g²
  Tensor max_exp_avg_sq;  // max over steps of v (amsgrad only)
  template <class Options>
  void init(const Tensor& param, const Options& options) {
    exp_avg = zeros(param.shape(), {.dtype = param.dtype()});
    exp_avg_sq = zeros(param.shape(), {.dtype = param.dtype()});
    if (options.amsgrad) max_exp_avg_sq = zeros(param.shape(), {.dtype = param.dtype()});
  }
  template <class F>
  void for_each_buffer(F&& f) {
    f("exp_avg", exp_avg);
    f("exp_avg_sq", exp_avg_sq);
    if (max_exp_avg_sq.defined()) f("max_exp_avg_sq", max_exp_avg_sq);
  }
};

/// Adam: momentum on g and RMSProp-style scaling, both bias-corrected.
class Adam : public OptimizerBase<AdamOptions, AdamState> {
 public:
  using OptimizerBase::OptimizerBase;

 private:
  void update(const AdamOptions& o, AdamState& s, Tensor& param, const Tensor& grad) const override;
};

/// AdamW: Adam with weight decay applied to the parameter, not added to the gradient.
class AdamW : public OptimizerBase<AdamWOptions, AdamState> {
 public:
  using OptimizerBase::OptimizerBase;

 private:
  void update(const AdamWOptions& o, AdamState& s, Tensor& param,
              const Tensor& grad) const override;
};

}  // namespace tg::optim
