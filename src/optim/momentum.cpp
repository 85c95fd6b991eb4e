#include <tapegrad/optim/momentum.hpp>

#include "optim/element_ranges.hpp"

namespace tg::optim {

void MomentumOptions::validate() const {
  detail::check_option(lr >= 0, kName, "lr", lr, "lr >= 0");
  detail::check_option(momentum >= 0, kName, "momentum", momentum, "momentum >= 0");
  detail::check_option(dampening >= 0 && dampening <= 1, kName, "dampening", dampening,
                       "0 <= dampening <= 1");
  detail::check_option(weight_decay >= 0, kName, "weight_decay", weight_decay, "weight_decay >= 0");
  if (nesterov && (momentum <= 0 || dampening != 0)) {
    fail(
        "Momentum: nesterov requires momentum > 0 and dampening = 0, got momentum={} "
        "dampening={}",
        momentum, dampening);
  }
}

void MomentumState::init(const Tensor& param, const MomentumOptions&) {
  momentum_buffer = zeros(param.shape(), {.dtype = param.dtype()});
}

// torch/optim/sgd.py (1.13):
//   d = g + λ·p
//   buf ← d on the first step, else buf ← μ·buf + (1 − dampening)·d
//   d ← d + μ·buf (nesterov) or d ← buf
//   p ← p − lr·d
void Momentum::update(const MomentumOptions& o, MomentumState& s, Tensor& param,
                      const Tensor& grad) const {
  detail::update_elements(
      s, param, grad,
      [&]<bool kFirst, bool kNesterov, bool kWeightDecay, class T>(
          T* __restrict p, const T* __restrict g, int64_t begin, int64_t end) {
        T* __restrict buf = s.momentum_buffer.data<T>();
        const T lr = static_cast<T>(o.lr), mu = static_cast<T>(o.momentum);
        const T weight_decay = static_cast<T>(o.weight_decay);
        const T keep = static_cast<T>(1 - o.dampening);
        for (int64_t i = begin; i < end; ++i) {
          T d = kWeightDecay ? g[i] + weight_decay * p[i] : g[i];
          buf[i] = kFirst ? d : buf[i] * mu + keep * d;
          d = kNesterov ? d + mu * buf[i] : buf[i];
          p[i] = p[i] + (-lr) * d;
        }
      },
      s.step == 0, o.nesterov, o.weight_decay != 0);
}

}  // namespace tg::optim
