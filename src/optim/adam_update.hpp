#pragma once

// The update Adam and AdamW share; they differ only in where weight decay enters.

#include <tapegrad/optim/adam.hpp>

#include "optim/element_ranges.hpp"

#include <algorithm>
#include <cmath>

namespace tg::optim {

// torch/optim/adam.py and adamw.py (1.13), with t the step count starting at 1:
//   AdamW: p ← p·(1 − lr·λ)          Adam: d = g + λ·p   (AdamW: d = g)
//   m ← β₁·m + (1 − β₁)·d
//   v ← β₂·v + (1 − β₂)·d²
//   v̂max ← max(v̂max, v)                               (amsgrad; v̂max replaces v below)
//   den = √v / √(1 − β₂ᵗ) + ε
//   p ← p − (lr / (1 − β₁ᵗ))·m / den
// Weight decay and amsgrad are template flags, so each combination is a branch-free loop that
// vectorizes.
template <class Options>
void adam_update(const Options& o, AdamState& s, Tensor& param, const Tensor& grad,
                 bool decoupled) {
  detail::update_elements(
      s, param, grad,
      [&]<bool kDecoupled, bool kWeightDecay, bool kAmsgrad, class T>(
          T* __restrict p, const T* __restrict g, int64_t begin, int64_t end) {
        const int64_t t = s.step;  // already counted for this step
        const auto [beta1, beta2] = o.betas;
        const T step_size = static_cast<T>(o.lr / (1 - std::pow(beta1, static_cast<double>(t))));
        const T bias_correction2_sqrt =
            static_cast<T>(std::sqrt(1 - std::pow(beta2, static_cast<double>(t))));
        const T b1 = static_cast<T>(beta1), b2 = static_cast<T>(beta2);
        const T one_minus_b1 = static_cast<T>(1 - beta1), one_minus_b2 = static_cast<T>(1 - beta2);
        const T eps = static_cast<T>(o.eps), weight_decay = static_cast<T>(o.weight_decay);
        const T shrink = static_cast<T>(1 - o.lr * o.weight_decay);
        T* __restrict m = s.exp_avg.data<T>();
        T* __restrict v = s.exp_avg_sq.data<T>();
        T* __restrict v_max = kAmsgrad ? s.max_exp_avg_sq.data<T>() : nullptr;
        for (int64_t i = begin; i < end; ++i) {
          if constexpr (kDecoupled) p[i] = p[i] * shrink;
          T d = g[i];
          if constexpr (!kDecoupled && kWeightDecay) d = d + weight_decay * p[i];
          m[i] = m[i] * b1 + one_minus_b1 * d;
          v[i] = v[i] * b2 + one_minus_b2 * d * d;
          T second = v[i];
          if constexpr (kAmsgrad) second = v_max[i] = std::max(v_max[i], v[i]);
          const T den = std::sqrt(second) / bias_correction2_sqrt + eps;
          p[i] = p[i] + (-step_size) * (m[i] / den);
        }
      },
      decoupled, decoupled || o.weight_decay != 0, o.amsgrad);
}

// Betas in [0, 1), lr, eps and weight_decay non-negative: torch's checks.
template <class Options>
void validate_adam_options(const Options& o) {
  detail::check_option(o.lr >= 0, Options::kName, "lr", o.lr, "lr >= 0");
  const auto [beta1, beta2] = o.betas;
  detail::check_option(beta1 >= 0 && beta1 < 1, Options::kName, "betas[0]", beta1,
                       "0 <= betas[0] < 1");
  detail::check_option(beta2 >= 0 && beta2 < 1, Options::kName, "betas[1]", beta2,
                       "0 <= betas[1] < 1");
  detail::check_option(o.eps >= 0, Options::kName, "eps", o.eps, "eps >= 0");
  detail::check_option(o.weight_decay >= 0, Options::kName, "weight_decay", o.weight_decay,
                       "weight_decay >= 0");
}

}  // namespace tg::optim
