#include <tapegrad/autograd.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/nn/clip_grad.hpp>

#include "ops/kernels.hpp"

#include <algorithm>
#include <cmath>

namespace tg::nn {

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
  if (!(max_norm >= 0)) fail("clip_grad_norm: invalid max_norm: {} (expected >= 0)", max_norm);
  NoGradGuard no_grad;
  double squares = 0;
  for (const Tensor& param : params) {
    const Tensor grad = param.grad();
    if (!grad.defined()) continue;
    for (double g : grad.to_vector<double>()) squares += g * g;
  }
  const double total_norm = std::sqrt(squares);
  const double scale = std::min(max_norm / (total_norm + 1e-6), 1.0);
  for (const Tensor& param : params) {
    Tensor grad = param.grad();
    if (!grad.defined()) continue;
    visit_floating(grad, "clip_grad_norm", [&]<class T>() {
      T* g = grad.data<T>();
      for (int64_t i = 0; i < grad.numel(); ++i) g[i] *= static_cast<T>(scale);
    });
  }
  return total_norm;
}

}  // namespace tg::nn
