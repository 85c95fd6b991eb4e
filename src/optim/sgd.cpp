#include <tapegrad/optim/sgd.hpp>

namespace tg::optim {

void SGDOptions::validate() const {
  detail::check_option(lr >= 0, kName, "lr", lr, "lr >= 0");
  detail::check_option(weight_decay >= 0, kName, "weight_decay", weight_decay, "weight_decay >= 0");
}

SGD::SGD(std::vector<Tensor> params, SGDOptions options)
    : OptimizerBase(std::move(params), options) {}

// torch/optim/sgd.py (1.13), momentum = 0:
//   d = g + λ·p
//   p ← p − lr·d
void SGD::step() {
  for_each_parameter([]<class T>(const SGDOptions& o, SGDState& s, T* p, const T* g, int64_t n) {
    ++s.step;
    const T lr = static_cast<T>(o.lr), weight_decay = static_cast<T>(o.weight_decay);
    for (int64_t i = 0; i < n; ++i) {
      const T d = weight_decay != 0 ? g[i] + weight_decay * p[i] : g[i];
      p[i] = p[i] + (-lr) * d;
    }
  });
}

}  // namespace tg::optim
