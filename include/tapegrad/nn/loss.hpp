#pragma once

#include <tapegrad/tensor.hpp>

#include <utility>

namespace tg::nn {

/// How per-element losses are combined.
enum class Reduction { Mean, Sum, None };

/// Options of cross_entropy; defaults are PyTorch's.
struct CrossEntropyOptions {
  Reduction reduction = Reduction::Mean;
  double label_smoothing = 0.0;
  Tensor weight = {};           ///< per-class rescaling [C]; undefined means all ones
  int64_t ignore_index = -100;  ///< class-index targets equal to it add nothing
};

/// Options of nll_loss; defaults are PyTorch's.
struct NLLLossOptions {
  Tensor weight = {};  ///< per-class rescaling [C]; undefined means all ones
  int64_t ignore_index = -100;
  Reduction reduction = Reduction::Mean;
};

/// Options of binary_cross_entropy_with_logits; weight broadcasts against the input,
/// pos_weight (weight of the positive term) broadcasts along the last dimension.
struct BCEWithLogitsOptions {
  Tensor weight = {};
  Tensor pos_weight = {};
  Reduction reduction = Reduction::Mean;
};

/// Options of kl_div. PyTorch's reduction='batchmean' (sum / N, the mathematically correct KL
/// divergence per sample) is `batchmean = true`, which overrides `reduction`.
struct KLDivOptions {
  Reduction reduction = Reduction::Mean;
  bool log_target = false;
  bool batchmean = false;
};

/// (input − target)², reduced; input and target must have the same shape.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);

/// Softmax cross-entropy of logits [N, C], [N, C, d1, ...] or [C] against Int64 class indices
/// ([N], [N, d1, ...] or a scalar) or class probabilities (floating, the input's shape), with
/// PyTorch's weight, ignore_index and label smoothing. [N, C] + indices without weight is one
/// fused op; the other forms are built from differentiable ops.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, CrossEntropyOptions options = {});

/// Negative log-likelihood of log-probabilities [N, C], [N, C, d1, ...] or [C] at Int64 class
/// indices [N], [N, d1, ...] or a scalar. Mean divides by the summed weight of the counted
/// targets (NaN when every target is ignored), as PyTorch does.
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, NLLLossOptions options = {});

/// −w·(y·log p + (1 − y)·log(1 − p)), each log clamped at −100 (PyTorch); p must lie in [0, 1].
Tensor binary_cross_entropy(const Tensor& p, const Tensor& y, const Tensor& weight = {},
                            Reduction reduction = Reduction::Mean);

/// binary_cross_entropy(sigmoid(x), y) without forming sigmoid(x): finite for any finite x.
Tensor binary_cross_entropy_with_logits(const Tensor& x, const Tensor& y,
                                        BCEWithLogitsOptions options = {});

/// |x − y|, reduced.
Tensor l1_loss(const Tensor& x, const Tensor& y, Reduction reduction = Reduction::Mean);

/// 0.5·d²/β where |d| < β, else |d| − 0.5·β (d = x − y); β = 0 is l1_loss.
Tensor smooth_l1_loss(const Tensor& x, const Tensor& y, double beta = 1.0,
                      Reduction reduction = Reduction::Mean);

/// 0.5·d² where |d| < δ, else δ·(|d| − 0.5·δ) (d = x − y); δ > 0.
Tensor huber_loss(const Tensor& x, const Tensor& y, double delta = 1.0,
                  Reduction reduction = Reduction::Mean);

/// Pointwise KL divergence p·(log p − log_q) (0 where p = 0), or exp(t)·(t − log_q) with
/// log_target. Mean averages over every element, as PyTorch 1.13 does; see KLDivOptions.
Tensor kl_div(const Tensor& log_q, const Tensor& p, KLDivOptions options = {});

/// 1 − cos(x1, x2) where y = 1, max(0, cos(x1, x2) − margin) where y = −1; x1, x2 [N, D] or
/// [D], y [N] or a scalar.
Tensor cosine_embedding_loss(const Tensor& x1, const Tensor& x2, const Tensor& y,
                             double margin = 0.0, Reduction reduction = Reduction::Mean);

/// max(0, −y·(x1 − x2) + margin), reduced; x1, x2 and y of one shape.
Tensor margin_ranking_loss(const Tensor& x1, const Tensor& x2, const Tensor& y, double margin = 0.0,
                           Reduction reduction = Reduction::Mean);

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
  explicit CrossEntropyLoss(CrossEntropyOptions options = {}) : options_(std::move(options)) {}
  Tensor forward(const Tensor& logits, const Tensor& target) const;
  Tensor operator()(const Tensor& logits, const Tensor& target) const;

 private:
  CrossEntropyOptions options_;
};

/// nll_loss as an object.
class NLLLoss {
 public:
  explicit NLLLoss(NLLLossOptions options = {}) : options_(std::move(options)) {}
  Tensor forward(const Tensor& log_probs, const Tensor& target) const;
  Tensor operator()(const Tensor& log_probs, const Tensor& target) const;

 private:
  NLLLossOptions options_;
};

/// binary_cross_entropy as an object.
class BCELoss {
 public:
  explicit BCELoss(Tensor weight = {}, Reduction reduction = Reduction::Mean)
      : weight_(std::move(weight)), reduction_(reduction) {}
  Tensor forward(const Tensor& p, const Tensor& y) const;
  Tensor operator()(const Tensor& p, const Tensor& y) const;

 private:
  Tensor weight_;
  Reduction reduction_;
};

/// binary_cross_entropy_with_logits as an object.
class BCEWithLogitsLoss {
 public:
  explicit BCEWithLogitsLoss(BCEWithLogitsOptions options = {}) : options_(std::move(options)) {}
  Tensor forward(const Tensor& x, const Tensor& y) const;
  Tensor operator()(const Tensor& x, const Tensor& y) const;

 private:
  BCEWithLogitsOptions options_;
};

/// l1_loss as an object.
class L1Loss {
 public:
  explicit L1Loss(Reduction reduction = Reduction::Mean) : reduction_(reduction) {}
  Tensor forward(const Tensor& x, const Tensor& y) const;
  Tensor operator()(const Tensor& x, const Tensor& y) const;

 private:
  Reduction reduction_;
};

/// smooth_l1_loss as an object.
class SmoothL1Loss {
 public:
  explicit SmoothL1Loss(double beta = 1.0, Reduction reduction = Reduction::Mean)
      : beta_(beta), reduction_(reduction) {}
  Tensor forward(const Tensor& x, const Tensor& y) const;
  Tensor operator()(const Tensor& x, const Tensor& y) const;

 private:
  double beta_;
  Reduction reduction_;
};

/// huber_loss as an object.
class HuberLoss {
 public:
  explicit HuberLoss(double delta = 1.0, Reduction reduction = Reduction::Mean)
      : delta_(delta), reduction_(reduction) {}
  Tensor forward(const Tensor& x, const Tensor& y) const;
  Tensor operator()(const Tensor& x, const Tensor& y) const;

 private:
  double delta_;
  Reduction reduction_;
};

/// kl_div as an object.
class KLDivLoss {
 public:
  explicit KLDivLoss(KLDivOptions options = {}) : options_(options) {}
  Tensor forward(const Tensor& log_q, const Tensor& p) const;
  Tensor operator()(const Tensor& log_q, const Tensor& p) const;

 private:
  KLDivOptions options_;
};

/// cosine_embedding_loss as an object.
class CosineEmbeddingLoss {
 public:
  explicit CosineEmbeddingLoss(double margin = 0.0, Reduction reduction = Reduction::Mean)
      : margin_(margin), reduction_(reduction) {}
  Tensor forward(const Tensor& x1, const Tensor& x2, const Tensor& y) const;
  Tensor operator()(const Tensor& x1, const Tensor& x2, const Tensor& y) const;

 private:
  double margin_;
  Reduction reduction_;
};

/// margin_ranking_loss as an object.
class MarginRankingLoss {
 public:
  explicit MarginRankingLoss(double margin = 0.0, Reduction reduction = Reduction::Mean)
      : margin_(margin), reduction_(reduction) {}
  Tensor forward(const Tensor& x1, const Tensor& x2, const Tensor& y) const;
  Tensor operator()(const Tensor& x1, const Tensor& x2, const Tensor& y) const;

 private:
  double margin_;
  Reduction reduction_;
};

/// The losses under tg::nn::functional (tg::nn::F) too, where torch.nn.functional keeps them:
/// `F::cross_entropy(logits, y)` is `tg::nn::cross_entropy(logits, y)`.
namespace functional {
using nn::binary_cross_entropy;
using nn::binary_cross_entropy_with_logits;
using nn::cosine_embedding_loss;
using nn::cross_entropy;
using nn::huber_loss;
using nn::kl_div;
using nn::l1_loss;
using nn::margin_ranking_loss;
using nn::mse_loss;
using nn::nll_loss;
using nn::smooth_l1_loss;
}  // namespace functional

}  // namespace tg::nn
