#include <tapegrad/optim/adamax.hpp>

#include "optim/adam_update.hpp"
#include "optim/element_ranges.hpp"

#include <cmath>

namespace tg::optim {

void AdamaxOptions::validate() const { validate_adam_options(*this); }

void AdamaxState::init(const Tensor& param, const AdamaxOptions&) {
  exp_avg = zeros(param.shape(), {.dtype = param.dtype()});
  exp_inf = zeros(param.shape(), {.dtype = param.dtype()});
}

// torch/optim/adamax.py (1.13), _single_tensor_adamax, with t the step count starting at 1:
//   d = −g (maximize) or g;  d ← d + λ·p
//   m ← β₁·m + (1 − β₁)·d
//   u ← max(β₂·u, |d| + ε)            (torch.amax: a NaN wins)
//   p ← p + (−lr/(1 − β₁ᵗ))·m / u     (addcdiv: (value·m)/u)
void Adamax::update(const AdamaxOptions& o, AdamaxState& s, Tensor& param,
                    const Tensor& grad) const {
  detail::update_elements(
      s, param, grad,
      [&]<bool kWeightDecay, bool kMaximize, class T>(T* __restrict p, const T* __restrict g,
                                                      int64_t begin, int64_t end) {
        const auto [beta1, beta2] = o.betas;
        const double t = static_cast<double>(s.step);  // already counted for this step
        const T value = static_cast<T>(-(o.lr / (1 - std::pow(beta1, t))));
        const T b1 = static_cast<T>(beta1), one_minus_b1 = static_cast<T>(1 - beta1);
        const T b2 = static_cast<T>(beta2), eps = static_cast<T>(o.eps);
        const T weight_decay = static_cast<T>(o.weight_decay);
        T* __restrict m = s.exp_avg.data<T>();
        T* __restrict u = s.exp_inf.data<T>();
        for (int64_t i = begin; i < end; ++i) {
          T d = kMaximize ? -g[i] : g[i];
          if constexpr (kWeightDecay) d = d + weight_decay * p[i];
          m[i] = m[i] * b1 + one_minus_b1 * d;
          const T decayed = u[i] * b2, norm = std::abs(d) + eps;
          u[i] = (decayed < norm || norm != norm) ? norm : decayed;
          p[i] = p[i] + value * m[i] / u[i];
        }
      },
      o.weight_decay != 0, o.maximize);
}

}  // namespace tg::optim
