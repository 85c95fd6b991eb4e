#include <tapegrad/optim/rmsprop.hpp>

#include "optim/element_ranges.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tg::optim {

RMSPropOptions RMSPropOptions::pytorch(double lr) { return {.lr = lr}; }

RMSPropOptions RMSPropOptions::keras(double lr) {
  return {.lr = lr, .alpha = 0.9, .eps = 1e-7, .eps_inside_sqrt = true, .lr_in_momentum = true};
}

RMSPropOptions RMSPropOptions::tf1(double lr) {
  return {.lr = lr,
          .alpha = 0.9,
          .eps = 1e-10,
          .eps_inside_sqrt = true,
          .initial_square_avg = 1.0,
          .lr_in_momentum = true};
}

RMSPropOptions RMSPropOptions::hinton(double lr) { return {.lr = lr, .alpha = 0.9}; }

void RMSPropOptions::validate() const {
  detail::check_option(lr >= 0, kName, "lr", lr, "lr >= 0");
  detail::check_option(alpha >= 0 && alpha < 1, kName, "alpha", alpha, "0 <= alpha < 1");
  detail::check_option(eps >= 0, kName, "eps", eps, "eps >= 0");
  detail::check_option(weight_decay >= 0, kName, "weight_decay", weight_decay, "weight_decay >= 0");
  detail::check_option(momentum >= 0, kName, "momentum", momentum, "momentum >= 0");
  detail::check_option(initial_square_avg >= 0, kName, "initial_square_avg", initial_square_avg,
                       "initial_square_avg >= 0");
}

void RMSPropState::init(const Tensor& param, const RMSPropOptions& options) {
  square_avg = full(param.shape(), options.initial_square_avg, {.dtype = param.dtype()});
  if (options.centered) grad_avg = zeros(param.shape(), {.dtype = param.dtype()});
  if (options.momentum > 0) momentum_buffer = zeros(param.shape(), {.dtype = param.dtype()});
}

namespace {

// The denominator d of the update from v (and ḡ when centered), in the selected flavour:
//   d = √(v − ḡ²) + ε   (PyTorch; v − ḡ² is just v when not centered)
//   d = √(v − ḡ² + ε)   (eps_inside_sqrt: TensorFlow, Keras)
template <class T>
T denominator(T v, T grad_avg, const RMSPropOptions& o) {
  T variance = o.centered ? v + (-grad_avg) * grad_avg : v;
  if (o.clamp_variance) variance = std::max(variance, T(0));
  const T eps = static_cast<T>(o.eps);
  return o.eps_inside_sqrt ? std::sqrt(variance + eps) : std::sqrt(variance) + eps;
}

}  // namespace

// torch/optim/rmsprop.py (1.13):
//   d   = g + λ·p
//   v   ← α·v + (1 − α)·d²
//   ḡ   ← α·ḡ + (1 − α)·d                      (centered)
//   den = √(v − ḡ²) + ε                         (√v + ε when not centered)
//   buf ← μ·buf + d/den,  p ← p − lr·buf        (momentum > 0)
//   p   ← p − lr·d/den                          (otherwise)
// Flavours: eps_inside_sqrt gives den = √(v − ḡ² + ε); clamp_variance takes max(v − ḡ², 0);
// lr_in_momentum (TensorFlow/Keras) moves lr into the buffer: buf ← μ·buf + lr·d/den, p ← p − buf.
// The flavours enter through loop-invariant scalars chosen so the arithmetic is bit-identical
// to these formulas (1·x = x, x + 0 = x, max(x, −∞) = x).
void RMSProp::update(const RMSPropOptions& o, RMSPropState& s, Tensor& param,
                     const Tensor& grad) const {
  detail::update_elements(
      s, param, grad,
      [&]<bool kWeightDecay, bool kCentered, bool kMomentum, class T>(
          T* __restrict p, const T* __restrict g, int64_t begin, int64_t end) {
        T* __restrict v = s.square_avg.data<T>();
        T* __restrict grad_avg = kCentered ? s.grad_avg.data<T>() : nullptr;
        T* __restrict buf = kMomentum ? s.momentum_buffer.data<T>() : nullptr;
        const T alpha = static_cast<T>(o.alpha), one_minus_alpha = static_cast<T>(1 - o.alpha);
        const T weight_decay = static_cast<T>(o.weight_decay), mu = static_cast<T>(o.momentum);
        const T eps_inside = o.eps_inside_sqrt ? static_cast<T>(o.eps) : T(0);
        const T eps_outside = o.eps_inside_sqrt ? T(0) : static_cast<T>(o.eps);
        const T floor = o.clamp_variance ? T(0) : -std::numeric_limits<T>::infinity();
        const T lr = static_cast<T>(o.lr);
        const T numerator_scale = o.lr_in_momentum ? lr : T(1);  // buf gets (lr·d)/den or d/den
        const T momentum_step = o.lr_in_momentum ? T(-1) : -lr;  // p ← p − buf or p − lr·buf
        for (int64_t i = begin; i < end; ++i) {
          T d = g[i];
          if constexpr (kWeightDecay) d = d + weight_decay * p[i];
          v[i] = v[i] * alpha + one_minus_alpha * d * d;
          T variance = v[i];
          if constexpr (kCentered) {
            grad_avg[i] = grad_avg[i] * alpha + one_minus_alpha * d;
            variance = std::max(v[i] + (-grad_avg[i]) * grad_avg[i], floor);
          }
          const T den = std::sqrt(variance + eps_inside) + eps_outside;
          if constexpr (kMomentum) {
            buf[i] = buf[i] * mu + numerator_scale * d / den;
            p[i] = p[i] + momentum_step * buf[i];
          } else {
            p[i] = p[i] + (-lr) * (d / den);
          }
        }
      },
      o.weight_decay != 0, o.centered, o.momentum > 0);
}

std::vector<StepSizeStats> RMSProp::stats() const {
  std::vector<StepSizeStats> out;
  const size_t count = parameters().size();
  for (size_t index = 0; index < count; ++index) {
    const RMSPropState* s = state(index);
    if (!s || s->square_avg.numel() == 0) continue;
    const RMSPropOptions& o = options(group_of(index));
    const std::vector<double> v = s->square_avg.to_vector<double>();
    const std::vector<double> grad_avg =
        s->grad_avg.defined() ? s->grad_avg.to_vector<double>() : std::vector<double>(v.size(), 0);
    std::vector<double> steps(v.size());
    for (size_t i = 0; i < v.size(); ++i) steps[i] = o.lr / denominator(v[i], grad_avg[i], o);
    std::sort(steps.begin(), steps.end());
    // Nearest-rank percentiles: enough to show the spread of step sizes.
    const auto at = [&](double q) { return steps[static_cast<size_t>(q * (steps.size() - 1))]; };
    out.push_back({index, steps.front(), at(0.1), at(0.5), at(0.9), steps.back()});
  }
  return out;
}

}  // namespace tg::optim
