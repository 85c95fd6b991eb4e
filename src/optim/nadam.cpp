#include <tapegrad/optim/nadam.hpp>

#include "optim/adam_update.hpp"
#include "optim/element_ranges.hpp"

#include <cmath>

namespace tg::optim {

void NAdamOptions::validate() const {
  validate_adam_options(*this);
  detail::check_option(momentum_decay >= 0, kName, "momentum_decay", momentum_decay,
                       "momentum_decay >= 0");
}

void NAdamState::init(const Tensor& param, const NAdamOptions&) {
  exp_avg = zeros(param.shape(), {.dtype = param.dtype()});
  exp_avg_sq = zeros(param.shape(), {.dtype = param.dtype()});
  mu_product = full({}, 1.0, {.dtype = Dtype::Float32});
}

// torch/optim/nadam.py (1.13), _single_tensor_nadam, with t the step count starting at 1:
//   d = g + λ·p
//   μ_t = β₁·(1 − 0.5·0.96^(t·ψ)),  μ_{t+1} likewise   (ψ = momentum_decay)
//   Π ← Π·μ_t,  Π' = Π·μ_{t+1}                          (Float32 tensors in torch)
//   m ← β₁·m + (1 − β₁)·d;  v ← β₂·v + (1 − β₂)·d²
//   den = √(v / (1 − β₂ᵗ)) + ε
//   p ← p + (−lr·(1 − μ_t)/(1 − Π))·d / den
//   p ← p + (−lr·μ_{t+1}/(1 − Π'))·m / den
void NAdam::update(const NAdamOptions& o, NAdamState& s, Tensor& param, const Tensor& grad) const {
  // Not a structured binding: clang 14 cannot capture one in a lambda.
  const double beta1 = std::get<0>(o.betas), beta2 = std::get<1>(o.betas);
  const double t = static_cast<double>(s.step + 1);  // this step's count
  const double mu = beta1 * (1. - 0.5 * std::pow(0.96, t * o.momentum_decay));
  const double mu_next = beta1 * (1. - 0.5 * std::pow(0.96, (t + 1) * o.momentum_decay));
  float& product = *s.mu_product.data<float>();
  product = product * static_cast<float>(mu);
  const float product_next = product * static_cast<float>(mu) * static_cast<float>(mu_next);
  const double grad_value = -o.lr * (1. - mu) / (1. - static_cast<double>(product));
  const double avg_value = -o.lr * mu_next / (1. - static_cast<double>(product_next));
  const double bias_correction2 = 1 - std::pow(beta2, t);
  detail::update_elements(
      s, param, grad,
      [&]<bool kWeightDecay, class T>(T* __restrict p, const T* __restrict g, int64_t begin,
                                      int64_t end) {
        const T b1 = static_cast<T>(beta1), one_minus_b1 = static_cast<T>(1 - beta1);
        const T b2 = static_cast<T>(beta2), one_minus_b2 = static_cast<T>(1 - beta2);
        const T eps = static_cast<T>(o.eps), weight_decay = static_cast<T>(o.weight_decay);
        const T bc2 = static_cast<T>(bias_correction2);
        const T c_grad = static_cast<T>(grad_value), c_avg = static_cast<T>(avg_value);
        T* __restrict m = s.exp_avg.data<T>();
        T* __restrict v = s.exp_avg_sq.data<T>();
        for (int64_t i = begin; i < end; ++i) {
          T d = g[i];
          if constexpr (kWeightDecay) d = d + weight_decay * p[i];
          m[i] = m[i] * b1 + one_minus_b1 * d;
          v[i] = v[i] * b2 + one_minus_b2 * d * d;
          const T den = std::sqrt(v[i] / bc2) + eps;
          p[i] = p[i] + c_grad * d / den;
          p[i] = p[i] + c_avg * m[i] / den;
        }
      },
      o.weight_decay != 0);
}

}  // namespace tg::optim
