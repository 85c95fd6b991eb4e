// Pointwise regression losses (l1, smooth L1, Huber) and kl_div, built from differentiable ops.

#include <tapegrad/autograd.hpp>
#include <tapegrad/nn/loss.hpp>
#include <tapegrad/ops.hpp>

#include "nn/loss_common.hpp"

namespace tg::nn {

Tensor l1_loss(const Tensor& x, const Tensor& y, Reduction reduction) {
  detail::require_same_shape(x, y, "l1_loss");
  return detail::reduce(abs(x - y), reduction);
}

// |x − y| for smooth_l1_loss at beta 0, with torch 1.13's slopes: its kernel tests d ≤ −beta
// first, so at a tie the slope is −1 for the input and, as it runs with the two swapped for the
// target, −1 for the target too (l1_loss's slope there is 0).
namespace {

Tensor abs_with_torch_slopes(const Tensor& x, const Tensor& y, const Tensor& d) {
  return record("smooth_l1_loss", abs(d).detach(), {x, y},
                [d = d.detach()](const Tensor& g) -> Grads {
                  return {g * where(gt(d, 0.0), ones_like(d), -1.0),
                          g * where(lt(d, 0.0), ones_like(d), -1.0)};
                });
}

}  // namespace

Tensor smooth_l1_loss(const Tensor& x, const Tensor& y, double beta, Reduction reduction) {
  detail::require_same_shape(x, y, "smooth_l1_loss");
  if (!(beta >= 0)) fail("smooth_l1_loss: beta must be >= 0, got {}", beta);
  const Tensor d = x - y;
  if (beta == 0) return detail::reduce(abs_with_torch_slopes(x, y, d), reduction);
  const Tensor size = abs(d);
  return detail::reduce(where(lt(size, beta), square(d) * (0.5 / beta), size - 0.5 * beta),
                        reduction);
}

Tensor huber_loss(const Tensor& x, const Tensor& y, double delta, Reduction reduction) {
  detail::require_same_shape(x, y, "huber_loss");
  if (!(delta > 0)) fail("huber_loss: delta must be > 0, got {}", delta);
  const Tensor d = x - y;
  const Tensor size = abs(d);
  return detail::reduce(where(lt(size, delta), square(d) * 0.5, (size - 0.5 * delta) * delta),
                        reduction);
}

// p·log p − p·log_q as PyTorch's xlogy: 0 where p = 0. log sees 1 there instead of 0, so
// neither the value nor the gradient meets log(0).
Tensor kl_div(const Tensor& log_q, const Tensor& p, KLDivOptions options) {
  detail::require_same_shape(log_q, p, "kl_div");
  require_same_dtype(log_q, p, "kl_div");
  Tensor losses;
  if (options.log_target) {
    losses = exp(p) * (p - log_q);
  } else {
    const Tensor positive = gt(p, 0.0);
    losses = where(positive, p * log(where(positive, p, 1.0)), 0.0) - p * log_q;
  }
  if (options.batchmean) {
    if (log_q.dim() == 0) return sum(losses);
    return sum(losses) / static_cast<double>(log_q.size(0));
  }
  return detail::reduce(losses, options.reduction);
}

Tensor L1Loss::forward(const Tensor& x, const Tensor& y) const { return l1_loss(x, y, reduction_); }
Tensor L1Loss::operator()(const Tensor& x, const Tensor& y) const { return forward(x, y); }
Tensor SmoothL1Loss::forward(const Tensor& x, const Tensor& y) const {
  return smooth_l1_loss(x, y, beta_, reduction_);
}
Tensor SmoothL1Loss::operator()(const Tensor& x, const Tensor& y) const { return forward(x, y); }
Tensor HuberLoss::forward(const Tensor& x, const Tensor& y) const {
  return huber_loss(x, y, delta_, reduction_);
}
Tensor HuberLoss::operator()(const Tensor& x, const Tensor& y) const { return forward(x, y); }
Tensor KLDivLoss::forward(const Tensor& log_q, const Tensor& p) const {
  return kl_div(log_q, p, options_);
}
Tensor KLDivLoss::operator()(const Tensor& log_q, const Tensor& p) const {
  return forward(log_q, p);
}

}  // namespace tg::nn
