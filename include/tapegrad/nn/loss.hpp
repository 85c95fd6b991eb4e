#pragma once

#include <tapegrad/tensor.hpp>

namespace tg::nn {

/// How per-element losses are combined.
enum class Reduction { Mean, Sum, None };

/// Options of cross_entropy; defaults are PyTorch's.
struct CrossEntropyOptions {
  Reduction reduction = Reduction::Mean;
  double label_smoothing = 0.0;
};

/// (input − target)², reduced; input and target must have the same shape.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);

/// Softmax cross-entropy of logits [N, C] against Int64 class indices [N], with PyTorch's
/// label smoothing; log-softmax and NLL are fused in forward and backward.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, CrossEntropyOptions options = {});

/// mse_loss as an object.
class MSELoss {
 public:
  explicit MSELoss(Reduction reduction = Reduction::Mean) : reduction_(reduction) {}
  Tensor forward(const Tensor& input, const Tensor& target) const;
  Tensor operator()(const Tensor& input, const Tensor& target) const;

 private:
  Reduction reduction_;
};

/// cross_entropy as an object.
class CrossEntropyLoss {
 public:
  explicit CrossEntropyLoss(CrossEntropyOptions options = {}) : options_(options) {}
  Tensor forward(const Tensor& logits, const Tensor& target) const;
  Tensor operator()(const Tensor& logits, const Tensor& target) const;

 private:
  CrossEntropyOptions options_;
};

}  // namespace tg::nn
