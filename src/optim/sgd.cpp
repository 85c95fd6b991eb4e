#include <tapegrad/optim/sgd.hpp>

#include "optim/element_ranges.hpp"

namespace tg::optim {

void SGDOptions::validate() const {
  detail::check_option(lr >= 0, kName, "lr", lr, "lr >= 0");
  detail::check_option(weight_decay >= 0, kName, "weight_decay", weight_decay, "weight_decay >= 0");
}

// torch/optim/sgd.py (1.13), momentum = 0:
//   d = g + λ·p
//   p ← p − lr·d
void SGD::update(const SGDOptions& o, SGDState& s, Tensor& param, const Tensor& grad) const {
  detail::update_elements(
      s, param, grad,
      [&]<bool kWeightDecay, class T>(T* __restrict p, const T* __restrict g, int64_t begin,
                                      int64_t end) {
        const T lr = static_cast<T>(o.lr), weight_decay = static_cast<T>(o.weight_decay);
        for (int64_t i = begin; i < end; ++i) {
          const T d = kWeightDecay ? g[i] + weight_decay * p[i] : g[i];
          p[i] = p[i] + (-lr) * d;
        }
      },
      o.weight_decay != 0);
}

}  // namespace tg::optim
