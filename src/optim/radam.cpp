#include <tapegrad/optim/radam.hpp>

#include "optim/adam_update.hpp"
#include "optim/element_ranges.hpp"

#include <cmath>

namespace tg::optim {

void RAdamOptions::validate() const { validate_adam_options(*this); }

void RAdamState::init(const Tensor& param, const RAdamOptions&) {
  exp_avg = zeros(param.shape(), {.dtype = param.dtype()});
  exp_avg_sq = zeros(param.shape(), {.dtype = param.dtype()});
}

// torch/optim/radam.py (1.13), _single_tensor_radam, with t the step count starting at 1:
//   d = g + λ·p
//   m ← β₁·m + (1 − β₁)·d;  v ← β₂·v + (1 − β₂)·d²
//   ρ∞ = 2/(1 − β₂) − 1;  ρ_t = ρ∞ − 2t·β₂ᵗ/(1 − β₂ᵗ)
//   ρ_t > 5: r = √((ρ_t − 4)(ρ_t − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρ_t))
//            p ← p − (m/(1 − β₁ᵗ))·lr·(1/(√v + ε))·√(1 − β₂ᵗ)·r
//   else:    p ← p − (m/(1 − β₁ᵗ))·lr
// (torch computes √(1 − β₂ᵗ)/(√v + ε) as a reciprocal times the scalar: Tensor.__rtruediv__.)
void RAdam::update(const RAdamOptions& o, RAdamState& s, Tensor& param, const Tensor& grad) const {
  // Not a structured binding: clang 14 cannot capture one in a lambda.
  const double beta1 = std::get<0>(o.betas), beta2 = std::get<1>(o.betas);
  const double t = static_cast<double>(s.step + 1);  // this step's count
  const double bias_correction1 = 1 - std::pow(beta1, t);
  const double bias_correction2 = 1 - std::pow(beta2, t);
  const double rho_inf = 2 / (1 - beta2) - 1;
  const double rho_t = rho_inf - 2 * t * std::pow(beta2, t) / bias_correction2;
  const bool rectified = rho_t > 5.;
  const double rect =
      rectified
          ? std::sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
          : 0;
  detail::update_elements(
      s, param, grad,
      [&]<bool kWeightDecay, bool kRectified, class T>(T* __restrict p, const T* __restrict g,
                                                       int64_t begin, int64_t end) {
        const T b1 = static_cast<T>(beta1), one_minus_b1 = static_cast<T>(1 - beta1);
        const T b2 = static_cast<T>(beta2), one_minus_b2 = static_cast<T>(1 - beta2);
        const T eps = static_cast<T>(o.eps), weight_decay = static_cast<T>(o.weight_decay);
        const T bc1 = static_cast<T>(bias_correction1), lr = static_cast<T>(o.lr);
        const T bc2_sqrt = static_cast<T>(std::sqrt(bias_correction2));
        const T r = static_cast<T>(rect);
        T* __restrict m = s.exp_avg.data<T>();
        T* __restrict v = s.exp_avg_sq.data<T>();
        for (int64_t i = begin; i < end; ++i) {
          T d = g[i];
          if constexpr (kWeightDecay) d = d + weight_decay * p[i];
          m[i] = m[i] * b1 + one_minus_b1 * d;
          v[i] = v[i] * b2 + one_minus_b2 * d * d;
          const T corrected = m[i] / bc1 * lr;
          if constexpr (kRectified) {
            const T adaptive = T(1) / (std::sqrt(v[i]) + eps) * bc2_sqrt;
            p[i] = p[i] - corrected * adaptive * r;
          } else {
            p[i] = p[i] - corrected;
          }
        }
      },
      o.weight_decay != 0, rectified);
}

}  // namespace tg::optim
