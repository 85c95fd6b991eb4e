#include <tapegrad/optim/adagrad.hpp>

#include "optim/element_ranges.hpp"

#include <cmath>

namespace tg::optim {

void AdagradOptions::validate() const {
  detail::check_option(lr >= 0, kName, "lr", lr, "lr >= 0");
  detail::check_option(lr_decay >= 0, kName, "lr_decay", lr_decay, "lr_decay >= 0");
  detail::check_option(weight_decay >= 0, kName, "weight_decay", weight_decay, "weight_decay >= 0");
  detail::check_option(initial_accumulator_value >= 0, kName, "initial_accumulator_value",
                       initial_accumulator_value, "initial_accumulator_value >= 0");
  detail::check_option(eps >= 0, kName, "eps", eps, "eps >= 0");
}

void AdagradState::init(const Tensor& param, const AdagradOptions& options) {
  sum = full(param.shape(), options.initial_accumulator_value, {.dtype = param.dtype()});
}

// torch/optim/adagrad.py (1.13), with t the step count starting at 1:
//   d = g + λ·p
//   clr = lr / (1 + (t − 1)·lr_decay)
//   sum ← sum + d²
//   p ← p − clr·d / (√sum + ε)
void Adagrad::update(const AdagradOptions& o, AdagradState& s, Tensor& param,
                     const Tensor& grad) const {
  detail::update_elements(
      s, param, grad,
      [&]<bool kWeightDecay, class T>(T* __restrict p, const T* __restrict g, int64_t begin,
                                      int64_t end) {
        const int64_t t = s.step;  // already counted for this step
        const T clr = static_cast<T>(o.lr / (1 + static_cast<double>(t - 1) * o.lr_decay));
        const T weight_decay = static_cast<T>(o.weight_decay), eps = static_cast<T>(o.eps);
        T* __restrict sum = s.sum.data<T>();
        for (int64_t i = begin; i < end; ++i) {
          T d = g[i];
          if constexpr (kWeightDecay) d = d + weight_decay * p[i];
          sum[i] = sum[i] + d * d;
          p[i] = p[i] + (-clr) * (d / (std::sqrt(sum[i]) + eps));
        }
      },
      o.weight_decay != 0);
}

}  // namespace tg::optim
