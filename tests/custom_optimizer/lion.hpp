// Lion (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms"): the sign of an
// interpolated momentum. A whole optimizer: everything else comes from OptimizerBase.
#pragma once

#include <tapegrad/optim/optimizer.hpp>

#include "optim/element_ranges.hpp"

#include <tuple>

namespace tg::optim {

struct LionOptions {
  double lr = 1e-4;
  std::tuple<double, double> betas = {0.9, 0.99};
  double weight_decay = 0;

  static constexpr const char* kName = "Lion";
  void validate() const {
    detail::check_option(lr >= 0, kName, "lr", lr, "lr >= 0");
    const auto [beta1, beta2] = betas;
    detail::check_option(beta1 >= 0 && beta1 < 1, kName, "betas[0]", beta1, "0 <= betas[0] < 1");
    detail::check_option(beta2 >= 0 && beta2 < 1, kName, "betas[1]", beta2, "0 <= betas[1] < 1");
    detail::check_option(weight_decay >= 0, kName, "weight_decay", weight_decay,
                         "weight_decay >= 0");
  }
  bool operator==(const LionOptions&) const = default;
  template <class F>
  void for_each_field(F&& f) {  // validation, state_dict, printing and equality use this list
    f("lr", lr);
    f("beta1", std::get<0>(betas));
    f("beta2", std::get<1>(betas));
    f("weight_decay", weight_decay);
  }
};

struct LionState : ParamState {
  Tensor exp_avg;  // m
  void init(const Tensor& param, const LionOptions&) {
    exp_avg = zeros(param.shape(), {.dtype = param.dtype()});
  }
  template <class F>
  void for_each_buffer(F&& f) {
    f("exp_avg", exp_avg);
  }
};

class Lion : public OptimizerBase<LionOptions, LionState> {
 public:
  using OptimizerBase::OptimizerBase;

 private:
  //   c ← β₁·m + (1 − β₁)·g
  //   p ← p·(1 − lr·λ) − lr·sign(c)
  //   m ← β₂·m + (1 − β₂)·g
  void update(const LionOptions& o, LionState& s, Tensor& param,
              const Tensor& grad) const override {
    detail::update_elements(
        s, param, grad,
        [&]<bool kWeightDecay, class T>(T* __restrict p, const T* __restrict g, int64_t begin,
                                        int64_t end) {
          const auto [beta1, beta2] = o.betas;
          const T lr = static_cast<T>(o.lr), decay = static_cast<T>(1 - o.lr * o.weight_decay);
          const T b1 = static_cast<T>(beta1), one_minus_b1 = static_cast<T>(1 - beta1);
          const T b2 = static_cast<T>(beta2), one_minus_b2 = static_cast<T>(1 - beta2);
          T* __restrict m = s.exp_avg.data<T>();
          for (int64_t i = begin; i < end; ++i) {
            const T c = b1 * m[i] + one_minus_b1 * g[i];
            const T sign = static_cast<T>((c > 0) - (c < 0));
            if constexpr (kWeightDecay) p[i] = p[i] * decay;
            p[i] = p[i] - lr * sign;
            m[i] = b2 * m[i] + one_minus_b2 * g[i];
          }
        },
        o.weight_decay != 0);
  }
};

}  // namespace tg::optim
