#pragma once

// Pieces the loss files share: applying a Reduction and the checks every pointwise loss makes.

#include <tapegrad/nn/loss.hpp>
#include <tapegrad/ops.hpp>

#include "ops/kernels.hpp"

namespace tg::nn::detail {

inline Tensor reduce(const Tensor& losses, Reduction reduction) {
  switch (reduction) {
    case Reduction::Mean:
      return mean(losses);
    case Reduction::Sum:
      return sum(losses);
    case Reduction::None:
      break;
  }
  return losses;
}

/// Fails unless `a` and `b` are floating tensors of one shape.
inline void require_same_shape(const Tensor& a, const Tensor& b, const char* op) {
  require_floating(a, op);
  if (a.shape() != b.shape()) {
    fail("{}: input {} and target {} must have the same shape", op, shape_str(a.shape()),
         shape_str(b.shape()));
  }
}

/// cross_entropy for everything but [N, C] logits with Int64 targets and no weight (the fused
/// path in loss.cpp); classification_losses.cpp.
Tensor cross_entropy_composed(const Tensor& logits, const Tensor& target,
                              const CrossEntropyOptions& options);

}  // namespace tg::nn::detail
