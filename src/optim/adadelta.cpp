#include <tapegrad/optim/adadelta.hpp>

#include "optim/element_ranges.hpp"

#include <cmath>

namespace tg::optim {

// torch's checks, in its order.
void AdadeltaOptions::validate() const {
  detail::check_option(lr >= 0, kName, "lr", lr, "lr >= 0");
  detail::check_option(rho >= 0 && rho <= 1, kName, "rho", rho, "0 <= rho <= 1");
  detail::check_option(eps >= 0, kName, "eps", eps, "eps >= 0");
  detail::check_option(weight_decay >= 0, kName, "weight_decay", weight_decay, "weight_decay >= 0");
}

void AdadeltaState::init(const Tensor& param, const AdadeltaOptions&) {
  square_avg = zeros(param.shape(), {.dtype = param.dtype()});
  acc_delta = zeros(param.shape(), {.dtype = param.dtype()});
}

// torch/optim/adadelta.py (1.13), _single_tensor_adadelta:
//   d = −g (maximize) or g;  d ← d + λ·p
//   v ← ρ·v + (1 − ρ)·d²
//   Δ = √(u + ε) / √(v + ε) · d
//   u ← ρ·u + (1 − ρ)·Δ²
//   p ← p − lr·Δ
void Adadelta::update(const AdadeltaOptions& o, AdadeltaState& s, Tensor& param,
                      const Tensor& grad) const {
  detail::update_elements(
      s, param, grad,
      [&]<bool kWeightDecay, bool kMaximize, class T>(T* __restrict p, const T* __restrict g,
                                                      int64_t begin, int64_t end) {
        T* __restrict v = s.square_avg.data<T>();
        T* __restrict u = s.acc_delta.data<T>();
        const T rho = static_cast<T>(o.rho), one_minus_rho = static_cast<T>(1 - o.rho);
        const T eps = static_cast<T>(o.eps), weight_decay = static_cast<T>(o.weight_decay);
        const T lr = static_cast<T>(o.lr);
        for (int64_t i = begin; i < end; ++i) {
          T d = kMaximize ? -g[i] : g[i];
          if constexpr (kWeightDecay) d = d + weight_decay * p[i];
          v[i] = v[i] * rho + one_minus_rho * d * d;  // addcmul: v + (value·d)·d
          const T std = std::sqrt(v[i] + eps);
          const T delta = std::sqrt(u[i] + eps) / std * d;
          u[i] = u[i] * rho + one_minus_rho * delta * delta;
          p[i] = p[i] + (-lr) * delta;
        }
      },
      o.weight_decay != 0, o.maximize);
}

}  // namespace tg::optim
