// nll_loss, the composed forms of cross_entropy (weights, ignore_index, probability targets,
// [N, C, d1, ...] inputs) and the binary cross-entropies, all built from differentiable ops.
// Class weights, ignore masks and one-hot selections are constants, so the tape sees only
// multiplications, sums and log_softmax.

#include <tapegrad/autograd.hpp>
#include <tapegrad/nn/loss.hpp>
#include <tapegrad/ops.hpp>

#include "autograd/composed_backward.hpp"
#include "nn/loss_common.hpp"

#include <limits>
#include <vector>

namespace tg::nn {
namespace {

// The input as rows [M, C] with the class dimension last, and the shape of one loss per row:
// [N, C] -> [N], [N, C, d1, ...] -> [N, d1, ...], [C] -> [].
struct ClassRows {
  Tensor rows;
  Shape batch;
};

ClassRows class_rows(const Tensor& x, const char* op) {
  require_floating(x, op);
  if (x.dim() == 0) fail("{}: expected input [N, C], [N, C, d1, ...] or [C], got []", op);
  if (x.dim() == 1) return {x.unsqueeze(0), Shape{}};
  const int64_t classes = x.size(1);
  std::vector<int64_t> order{0};
  Shape batch{x.size(0)};
  for (int64_t d = 2; d < x.dim(); ++d) {
    order.push_back(d);
    batch.push_back(x.size(d));
  }
  order.push_back(1);
  const Tensor last = x.dim() == 2 ? x : x.permute(order);
  return {last.reshape({shape_numel(batch), classes}), batch};
}

// Per-class weights as doubles (all ones when `weight` is undefined), checked against C.
std::vector<double> class_weights(const Tensor& weight, int64_t classes, const char* op) {
  if (!weight.defined()) return std::vector<double>(static_cast<size_t>(classes), 1.0);
  if (weight.shape() != Shape{classes}) {
    fail("{}: weight must be [{}] (one per class), got {}", op, classes, shape_str(weight.shape()));
  }
  require_floating(weight, op);
  return weight.to_vector<double>();
}

void check_index_target(const Tensor& target, const Shape& batch, const Tensor& input,
                        const char* op) {
  if (target.dtype() != Dtype::Int64) {
    fail("{}: target must hold Int64 class indices, got {} {}", op, target.dtype(),
         shape_str(target.shape()));
  }
  if (target.shape() != batch) {
    fail("{}: target {} does not match input {} (expected {})", op, shape_str(target.shape()),
         shape_str(input.shape()), shape_str(batch));
  }
}

// Σ per_row / total_weight. With nothing counted (every target ignored, or weights of 0) that
// is 0/0 = NaN, as in PyTorch 1.13, whose gradient is still 0 (its backward writes only the
// counted rows); 1/0 times the zero selections would make it NaN here.
Tensor weighted_mean(const Tensor& per_row, double total_weight) {
  if (total_weight == 0) return sum(per_row) * 0.0 + std::numeric_limits<double>::quiet_NaN();
  return sum(per_row) / total_weight;
}

// The NLL of rows [M, C] at class indices: Σ_c −rows[m, c]·Q[m, c] with the constant
// Q[m, c] = w[c] where c = target[m] is counted, else 0. Mean divides by Σ Q (PyTorch's
// total_weight).
Tensor nll_rows(const ClassRows& input, const Tensor& target, const std::vector<double>& w,
                int64_t ignore_index, Reduction reduction, const char* op) {
  const int64_t rows = input.rows.size(0), classes = input.rows.size(1);
  const Tensor flat_target = target.contiguous();
  const int64_t* y = flat_target.data<int64_t>();
  std::vector<double> q(static_cast<size_t>(rows * classes), 0.0);
  double total_weight = 0;
  for (int64_t m = 0; m < rows; ++m) {
    if (y[m] == ignore_index) continue;
    if (y[m] < 0 || y[m] >= classes) {
      fail("{}: class index {} at position {} is out of range [0, {})", op, y[m], m, classes);
    }
    q[static_cast<size_t>(m * classes + y[m])] = w[static_cast<size_t>(y[m])];
    total_weight += w[static_cast<size_t>(y[m])];
  }
  const Tensor selection = tensor(std::move(q), {rows, classes}, {.dtype = input.rows.dtype()});
  const Tensor per_row = -sum(input.rows * selection, 1);
  switch (reduction) {
    case Reduction::Mean:
      return weighted_mean(per_row, total_weight);
    case Reduction::Sum:
      return sum(per_row);
    case Reduction::None:
      break;
  }
  return per_row.reshape(input.batch);
}

// PyTorch's label smoothing for class indices: −Σ_c w[c]·log p[m, c] per counted row, reduced
// like nll_rows (Mean over the same total weight, or the count of counted rows unweighted).
Tensor smoothing_rows(const ClassRows& log_p, const Tensor& target, const std::vector<double>& w,
                      int64_t ignore_index, Reduction reduction) {
  const int64_t rows = log_p.rows.size(0), classes = log_p.rows.size(1);
  const Tensor flat_target = target.contiguous();
  const int64_t* y = flat_target.data<int64_t>();
  std::vector<double> counted(static_cast<size_t>(rows), 0.0);
  double total_weight = 0;
  for (int64_t m = 0; m < rows; ++m) {
    if (y[m] == ignore_index) continue;
    counted[static_cast<size_t>(m)] = 1.0;
    total_weight += w[static_cast<size_t>(y[m])];
  }
  const Tensor row_mask = tensor(std::move(counted), {rows, 1}, {.dtype = log_p.rows.dtype()});
  const Tensor class_weight = tensor(w, {1, classes}, {.dtype = log_p.rows.dtype()});
  const Tensor per_row = -sum(log_p.rows * (class_weight * row_mask), 1);
  switch (reduction) {
    case Reduction::Mean:
      return weighted_mean(per_row, total_weight);
    case Reduction::Sum:
      return sum(per_row);
    case Reduction::None:
      break;
  }
  return per_row.reshape(log_p.batch);
}

// Cross-entropy against class probabilities (PyTorch's cross_entropy_loss_prob_target):
// smoothing mixes the target with the uniform distribution; Mean divides by the number of rows,
// whatever the weights.
Tensor probability_cross_entropy(const ClassRows& log_p, const Tensor& input, const Tensor& target,
                                 const CrossEntropyOptions& options) {
  if (target.shape() != input.shape()) {
    fail(
        "cross_entropy: target must hold Int64 class indices or class probabilities of the "
        "input's shape {}, got {} {}",
        shape_str(input.shape()), target.dtype(), shape_str(target.shape()));
  }
  require_same_dtype(input, target, "cross_entropy");
  const int64_t classes = log_p.rows.size(1);
  Tensor q = class_rows(target, "cross_entropy").rows;
  if (options.label_smoothing > 0) {
    q = q * (1 - options.label_smoothing) + options.label_smoothing / static_cast<double>(classes);
  }
  Tensor terms = log_p.rows * q;
  if (options.weight.defined()) {
    const std::vector<double> w = class_weights(options.weight, classes, "cross_entropy");
    terms = terms * tensor(w, {1, classes}, {.dtype = input.dtype()});
  }
  const Tensor per_row = -sum(terms, 1);
  switch (options.reduction) {
    case Reduction::Mean:
      return sum(per_row) / static_cast<double>(log_p.rows.size(0));
    case Reduction::Sum:
      return sum(per_row);
    case Reduction::None:
      break;
  }
  return per_row.reshape(log_p.batch);
}

}  // namespace

namespace detail {

Tensor cross_entropy_composed(const Tensor& logits, const Tensor& target,
                              const CrossEntropyOptions& options) {
  if (!(options.label_smoothing >= 0.0 && options.label_smoothing <= 1.0)) {
    fail("cross_entropy: label_smoothing must be in [0, 1], got {}", options.label_smoothing);
  }
  const ClassRows input = class_rows(logits, "cross_entropy");
  const ClassRows log_p{log_softmax(input.rows, 1), input.batch};
  if (is_floating(target.dtype())) {
    return probability_cross_entropy(log_p, logits, target, options);
  }
  check_index_target(target, input.batch, logits, "cross_entropy");
  const int64_t classes = input.rows.size(1);
  const std::vector<double> w = class_weights(options.weight, classes, "cross_entropy");
  const Tensor flat_target = target.reshape({input.rows.size(0)});
  const Tensor nll =
      nll_rows(log_p, flat_target, w, options.ignore_index, options.reduction, "cross_entropy");
  const double eps = options.label_smoothing;
  if (eps == 0) return nll;
  const Tensor smooth =
      smoothing_rows(log_p, flat_target, w, options.ignore_index, options.reduction);
  return nll * (1 - eps) + smooth * (eps / static_cast<double>(classes));
}

}  // namespace detail

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, NLLLossOptions options) {
  const ClassRows input = class_rows(log_probs, "nll_loss");
  check_index_target(target, input.batch, log_probs, "nll_loss");
  const std::vector<double> w = class_weights(options.weight, input.rows.size(1), "nll_loss");
  return nll_rows(input, target.reshape({input.rows.size(0)}), w, options.ignore_index,
                  options.reduction, "nll_loss");
}

// A weight (or pos_weight) that broadcasts to the input's shape, as torch's do, or a tg::Error
// naming the loss and both shapes.
static void require_broadcasts_to(const Tensor& weight, const Tensor& input, const char* what,
                                  const char* op) {
  if (!weight.defined()) return;
  bool fits = weight.dim() <= input.dim();
  for (int64_t d = 1; fits && d <= weight.dim(); ++d) {
    const int64_t size = weight.size(-d);
    fits = size == 1 || size == input.size(-d);
  }
  if (!fits) {
    fail("{}: {} {} does not broadcast to the input {}", op, what, shape_str(weight.shape()),
         shape_str(input.shape()));
  }
}

// log p clamped at −100 as PyTorch does, without a log(0) on the tape: where p = 0 the value
// is −100.
static Tensor clamped_log(const Tensor& p) {
  const Tensor positive = gt(p, 0.0);
  return where(positive, clamp(log(where(positive, p, 1.0)), -100.0), -100.0);
}

// −(y·log p + (1 − y)·log(1 − p)) per element, from recorded ops.
static Tensor composed_bce(const Tensor& p, const Tensor& y) {
  return -(y * clamped_log(p) + (1.0 - y) * clamped_log(1.0 - p));
}

// binary_cross_entropy's elementwise losses with torch 1.13's backward (ATen's Loss.cpp):
// d/dp = (p − y) / max((1 − p)·p, ε), ε its float 1e-12f, so p = 0 or 1 gets torch's huge,
// finite slope (the composed form's would be 0 there); d/dy = log(1 − p) − log p. Under
// create_graph the composed form's gradient is recorded.
static Tensor bce_elements(const Tensor& p, const Tensor& y) {
  Tensor losses;
  {
    NoGradGuard values_only;
    losses = composed_bce(p, y);
  }
  return record("binary_cross_entropy", losses, {p, y},
                [p_saved = SavedTensor(p), y_saved = SavedTensor(y)](const Tensor& g) -> Grads {
                  const Tensor& prob = p_saved;
                  const Tensor& target = y_saved;
                  if (creating_graph()) {
                    return tg::detail::composed_backward(
                        [](const std::vector<Tensor>& in) { return composed_bce(in[0], in[1]); },
                        {prob, target}, g);
                  }
                  constexpr auto kEpsilon = static_cast<double>(1e-12f);
                  return {g * (prob - target) / clamp((1.0 - prob) * prob, kEpsilon),
                          g * (log(1.0 - prob) - log(prob))};
                });
}

Tensor binary_cross_entropy(const Tensor& p, const Tensor& y, const Tensor& weight,
                            Reduction reduction) {
  detail::require_same_shape(p, y, "binary_cross_entropy");
  require_same_dtype(p, y, "binary_cross_entropy");
  const Tensor outside = logical_or(lt(p, 0.0), gt(p, 1.0));
  if (any(outside).item<bool>()) {
    fail("binary_cross_entropy: every input must lie in [0, 1] (probabilities), got {}",
         shape_str(p.shape()));
  }
  require_broadcasts_to(weight, p, "weight", "binary_cross_entropy");
  Tensor losses = bce_elements(p, y);
  if (weight.defined()) losses = losses * weight.detach();
  return detail::reduce(losses, reduction);
}

// (1 − y)·x + (1 + (pos_weight − 1)·y)·softplus(−x), with softplus(−x) written as PyTorch
// writes it, m + log(exp(−m) + exp(−x − m)) with m = max(−x, 0): both exponents are ≤ 0, so the
// loss and its gradient stay finite for |x| = 1e4. (The identity holds for every m, so the
// chain rule through m's clamp still gives the exact derivative σ(x) − 1.)
Tensor binary_cross_entropy_with_logits(const Tensor& x, const Tensor& y,
                                        BCEWithLogitsOptions options) {
  detail::require_same_shape(x, y, "binary_cross_entropy_with_logits");
  require_same_dtype(x, y, "binary_cross_entropy_with_logits");
  const Tensor m = clamp(-x, 0.0);
  const Tensor softplus_neg = m + log(exp(-m) + exp(-x - m));
  Tensor losses;
  const char* op = "binary_cross_entropy_with_logits";
  require_broadcasts_to(options.pos_weight, x, "pos_weight", op);
  require_broadcasts_to(options.weight, x, "weight", op);
  if (options.pos_weight.defined()) {
    const Tensor pos_weight = options.pos_weight.detach();
    losses = (1.0 - y) * x + ((pos_weight - 1.0) * y + 1.0) * softplus_neg;
  } else {
    losses = (1.0 - y) * x + softplus_neg;
  }
  if (options.weight.defined()) losses = losses * options.weight.detach();
  return detail::reduce(losses, options.reduction);
}

Tensor NLLLoss::forward(const Tensor& log_probs, const Tensor& target) const {
  return nll_loss(log_probs, target, options_);
}
Tensor NLLLoss::operator()(const Tensor& log_probs, const Tensor& target) const {
  return forward(log_probs, target);
}
Tensor BCELoss::forward(const Tensor& p, const Tensor& y) const {
  return binary_cross_entropy(p, y, weight_, reduction_);
}
Tensor BCELoss::operator()(const Tensor& p, const Tensor& y) const { return forward(p, y); }
Tensor BCEWithLogitsLoss::forward(const Tensor& x, const Tensor& y) const {
  return binary_cross_entropy_with_logits(x, y, options_);
}
Tensor BCEWithLogitsLoss::operator()(const Tensor& x, const Tensor& y) const {
  return forward(x, y);
}

}  // namespace tg::nn
