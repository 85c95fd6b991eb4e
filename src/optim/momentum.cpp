#include <tapegrad/optim/momentum.hpp>

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

Momentum::Momentum(std::vector<Tensor> params, MomentumOptions options)
    : OptimizerBase(std::move(params), options) {}

// torch/optim/sgd.py (1.13):
//   d = g + λ·p
//   buf ← d on the first step, else buf ← μ·buf + (1 − dampening)·d
//   d ← d + μ·buf (nesterov) or d ← buf
//   p ← p − lr·d
void Momentum::step() {
  for_each_parameter(
      []<class T>(const MomentumOptions& o, MomentumState& s, T* p, const T* g, int64_t n) {
        const bool first = s.step++ == 0;
        T* buf = s.momentum_buffer.data<T>();
        const T lr = static_cast<T>(o.lr), mu = static_cast<T>(o.momentum);
        const T weight_decay = static_cast<T>(o.weight_decay);
        const T keep = static_cast<T>(1 - o.dampening);
        for (int64_t i = 0; i < n; ++i) {
          T d = weight_decay != 0 ? g[i] + weight_decay * p[i] : g[i];
          buf[i] = first ? d : buf[i] * mu + keep * d;
          d = o.nesterov ? d + mu * buf[i] : buf[i];
          p[i] = p[i] + (-lr) * d;
        }
      });
}

}  // namespace tg::optim
