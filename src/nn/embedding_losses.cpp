// Losses on pairs of embeddings or scores: cosine_embedding_loss and margin_ranking_loss, in
// PyTorch 1.13's formulas (ATen's Loss.cpp), built from differentiable ops.

#include <tapegrad/nn/loss.hpp>
#include <tapegrad/ops.hpp>

#include "nn/loss_common.hpp"

namespace tg::nn {

// cos = Σ x1·x2 / sqrt((Σ x1² + ε)·(Σ x2² + ε)) along the last dimension, as ATen does (ε keeps
// a zero vector finite). ATen's ε is a float constant, 1e-12f = 9.999999960041972e-13 in a
// Float64 sum: the exact 1e-12 would differ from torch by 2e-9 near a zero vector.
Tensor cosine_embedding_loss(const Tensor& x1, const Tensor& x2, const Tensor& y, double margin,
                             Reduction reduction) {
  detail::require_same_shape(x1, x2, "cosine_embedding_loss");
  if (x1.dim() != 1 && x1.dim() != 2) {
    fail("cosine_embedding_loss: expected inputs [N, D] or [D], got {}", shape_str(x1.shape()));
  }
  const Shape expected = x1.dim() == 2 ? Shape{x1.size(0)} : Shape{};
  if (y.shape() != expected) {
    fail("cosine_embedding_loss: target {} does not match inputs {} (expected {})",
         shape_str(y.shape()), shape_str(x1.shape()), shape_str(expected));
  }
  const int64_t dim = x1.dim() - 1;
  constexpr double kEpsilon = static_cast<double>(1e-12f);
  const Tensor dot_product = sum(x1 * x2, dim);
  const Tensor norms = sqrt((sum(x1 * x1, dim) + kEpsilon) * (sum(x2 * x2, dim) + kEpsilon));
  const Tensor cos = dot_product / norms;
  const Tensor target = y.to(x1.dtype());
  const Tensor losses = where(eq(target, 1.0), 1.0 - cos, 0.0) +
                        where(eq(target, -1.0), clamp(cos - margin, 0.0), 0.0);
  return detail::reduce(losses, reduction);
}

Tensor margin_ranking_loss(const Tensor& x1, const Tensor& x2, const Tensor& y, double margin,
                           Reduction reduction) {
  detail::require_same_shape(x1, x2, "margin_ranking_loss");
  if (y.shape() != x1.shape()) {
    fail("margin_ranking_loss: target {} must have the inputs' shape {}", shape_str(y.shape()),
         shape_str(x1.shape()));
  }
  require_same_dtype(x1, x2, "margin_ranking_loss");
  if (!is_floating(y.dtype()) && y.dtype() != Dtype::Int64) {
    fail("margin_ranking_loss: expected a floating or Int64 target, got {} {}", y.dtype(),
         shape_str(y.shape()));
  }
  if (is_floating(y.dtype())) require_same_dtype(x1, y, "margin_ranking_loss");
  // An Int64 target of ±1, as torch accepts it, is taken in the inputs' dtype.
  const Tensor target = is_floating(y.dtype()) ? y : y.to(x1.dtype());
  return detail::reduce(clamp(-target * (x1 - x2) + margin, 0.0), reduction);
}

Tensor CosineEmbeddingLoss::forward(const Tensor& x1, const Tensor& x2, const Tensor& y) const {
  return cosine_embedding_loss(x1, x2, y, margin_, reduction_);
}
Tensor CosineEmbeddingLoss::operator()(const Tensor& x1, const Tensor& x2, const Tensor& y) const {
  return forward(x1, x2, y);
}
Tensor MarginRankingLoss::forward(const Tensor& x1, const Tensor& x2, const Tensor& y) const {
  return margin_ranking_loss(x1, x2, y, margin_, reduction_);
}
Tensor MarginRankingLoss::operator()(const Tensor& x1, const Tensor& x2, const Tensor& y) const {
  return forward(x1, x2, y);
}

}  // namespace tg::nn
