// Losses: mse_loss and the common case of cross_entropy (log-softmax + NLL), each one fused op.
// The other forms of cross_entropy are in classification_losses.cpp.

#include <tapegrad/autograd.hpp>
#include <tapegrad/nn/functional.hpp>
#include <tapegrad/nn/loss.hpp>
#include <tapegrad/ops.hpp>

#include "nn/loss_common.hpp"
#include "ops/kernels.hpp"
#include "ops/vector_math.hpp"

#include <cmath>
#include <vector>

namespace tg::nn {
namespace {

using detail::reduce;

// mse_loss with a mean or sum as one op (one tape node instead of four). Forward: Σ (x − t)²
// accumulated in double, as sum() does. Backward, in ATen's order (mse_loss_backward):
// ∂/∂x = ((x − t)·norm)·g with norm = 2/N for the mean and 2 for the sum; ∂/∂t = −∂/∂x.
template <class T>
Tensor reduced_mse(const Tensor& input, const Tensor& target, bool mean) {
  const T* x = input.data<T>();
  const T* t = target.data<T>();
  const int64_t n = input.numel();
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    const T difference = x[i] - t[i];
    total += difference * difference;
  }
  Tensor loss = make_tensor({}, input.dtype());
  *loss.data<T>() = mean ? static_cast<T>(total) / static_cast<T>(n) : static_cast<T>(total);
  const T norm = static_cast<T>(mean ? 2.0 / static_cast<double>(n) : 2.0);
  return record("mse_loss", loss, {input, target},
                [saved_input = saved_for_backward(input), saved_target = saved_for_backward(target),
                 norm, need_target = target.requires_grad()](const Tensor& gy) -> Grads {
                  const Tensor& input = saved_input;
                  const Tensor& target = saved_target;
                  if (creating_graph()) {
                    const Tensor gx = (input - target) * static_cast<double>(norm) * gy;
                    return {gx, need_target ? -gx : Tensor()};
                  }
                  Tensor gx = make_tensor(input.shape(), input.dtype());
                  const T* x = input.data<T>();
                  const T* t = target.data<T>();
                  const T g = *gy.data<T>();
                  T* out = gx.data<T>();
                  for (int64_t i = 0; i < gx.numel(); ++i) out[i] = (x[i] - t[i]) * norm * g;
                  return {gx, need_target ? -gx : Tensor()};
                });
}

void check_cross_entropy_arguments(const Tensor& logits, const Tensor& target,
                                   const CrossEntropyOptions& options) {
  require_floating(logits, "cross_entropy");
  if (logits.dim() != 2) {
    fail("cross_entropy: expected logits [N, C], got {}", shape_str(logits.shape()));
  }
  if (target.dtype() != Dtype::Int64) {
    fail("cross_entropy: target must hold Int64 class indices, got {} {}", target.dtype(),
         shape_str(target.shape()));
  }
  if (target.shape() != Shape{logits.size(0)}) {
    fail("cross_entropy: target {} does not match logits {} (expected [{}])",
         shape_str(target.shape()), shape_str(logits.shape()), logits.size(0));
  }
  if (!(options.label_smoothing >= 0.0 && options.label_smoothing <= 1.0)) {
    fail("cross_entropy: label_smoothing must be in [0, 1], got {}", options.label_smoothing);
  }
  const int64_t* classes = target.data<int64_t>();
  for (int64_t i = 0; i < target.numel(); ++i) {
    if (classes[i] < 0 || classes[i] >= logits.size(1)) {
      fail("cross_entropy: class index {} at position {} is out of range [0, {})", classes[i], i,
           logits.size(1));
    }
  }
}

// e^v over a whole array: Float32 through the vectorized kernel (src/ops/vector_math.hpp, the
// same bits at every CPU level), Float64 through libm.
void exp_in_place(float* v, int64_t n) { vmath::exp_array(v, v, n); }
void exp_in_place(double* v, int64_t n) {
  for (int64_t i = 0; i < n; ++i) v[i] = std::exp(v[i]);
}

// Per-row max and log Σ exp(z − max), kept apart: log-probabilities are (z − max) − log Σ,
// which stays exact in Float32 even for logits of 1e4 (folding them into one number would not).
template <class T>
std::pair<Tensor, Tensor> row_max_and_log_sum(const Tensor& logits) {
  const int64_t rows = logits.size(0), classes = logits.size(1);
  Tensor row_max = make_tensor({rows}, logits.dtype());
  Tensor log_sum = make_tensor({rows}, logits.dtype());
  const T* z = logits.data<T>();
  T* peak = row_max.data<T>();
  // One pass per stage over the whole matrix, so no loop calls out (which would keep its
  // running values in memory) and the exponentials are one long vectorized run.
  std::vector<T> shifted(static_cast<size_t>(rows * classes));
  for (int64_t r = 0; r < rows; ++r) {
    const T* row = z + r * classes;
    T top = classes > 0 ? *std::max_element(row, row + classes) : T(0);
    if (std::isinf(top)) top = 0;
    peak[r] = top;
    for (int64_t c = 0; c < classes; ++c) shifted[r * classes + c] = row[c] - top;
  }
  exp_in_place(shifted.data(), rows * classes);
  for (int64_t r = 0; r < rows; ++r) {
    double total = 0;
    for (int64_t c = 0; c < classes; ++c) total += shifted[r * classes + c];
    log_sum.data<T>()[r] = static_cast<T>(std::log(total));
  }
  return {row_max, log_sum};
}

}  // namespace

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  if (input.shape() != target.shape()) {
    // PyTorch only warns here; broadcasting [N] against [N, 1] silently gives an [N, N] loss.
    fail("mse_loss: input {} and target {} must have the same shape", shape_str(input.shape()),
         shape_str(target.shape()));
  }
  if (reduction == Reduction::None) return square(input - target);
  require_same_dtype(input, target, "mse_loss");
  return visit_floating(input, "mse_loss", [&]<class T>() {
    return reduced_mse<T>(input, target, reduction == Reduction::Mean);
  });
}

namespace {

// The fused path: [N, C] logits, Int64 targets, no weight, no target equal to ignore_index.
bool fused_cross_entropy_applies(const Tensor& logits, const Tensor& target,
                                 const CrossEntropyOptions& options) {
  if (logits.dim() != 2 || target.dtype() != Dtype::Int64 || options.weight.defined()) {
    return false;
  }
  if (target.shape() != Shape{logits.size(0)}) return true;  // fails in its checks
  const int64_t* classes = target.data<int64_t>();
  for (int64_t i = 0; i < target.numel(); ++i) {
    if (classes[i] == options.ignore_index) return false;
  }
  return true;
}

}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& target, CrossEntropyOptions options) {
  if (!fused_cross_entropy_applies(logits, target, options)) {
    return detail::cross_entropy_composed(logits, target, options);
  }
  check_cross_entropy_arguments(logits, target, options);
  const int64_t rows = logits.size(0), classes = logits.size(1);
  const double smoothing = options.label_smoothing;
  // loss_i = (1 − ε)·(−log p[i, yᵢ]) + ε·(−Σ_c log p[i, c]) / C   (PyTorch's label smoothing)
  // Named tensors, not a structured binding: lambdas may capture those only from C++20 on,
  // which clang 14 (used by the fuzz build) does not implement.
  const std::pair<Tensor, Tensor> stats = visit_floating(
      logits, "cross_entropy", [&]<class T>() { return row_max_and_log_sum<T>(logits); });
  const Tensor& row_max = stats.first;
  const Tensor& log_sum = stats.second;
  Tensor losses = visit_floating(logits, "cross_entropy", [&]<class T>() {
    Tensor out = make_tensor({rows}, logits.dtype());
    const T* z = logits.data<T>();
    const T* peak = row_max.data<T>();
    const T* norm = log_sum.data<T>();
    const int64_t* y = target.data<int64_t>();
    T* loss = out.data<T>();
    for (int64_t r = 0; r < rows; ++r) {
      const T* row = z + r * classes;
      const T nll = norm[r] - (row[y[r]] - peak[r]);  // −log p[r, y]
      T smooth = 0;
      if (smoothing > 0) {
        for (int64_t c = 0; c < classes; ++c) smooth += norm[r] - (row[c] - peak[r]);
      }
      loss[r] = static_cast<T>((1 - smoothing) * nll + smooth * (smoothing / classes));
    }
    return out;
  });
  // d loss_i / d z[i, c] = softmax(z)[i, c] − q[i, c], with q = (1 − ε)·onehot(yᵢ) + ε/C
  Tensor per_row =
      record("cross_entropy", losses, {logits},
             [saved = SavedTensor(logits), row_max, log_sum, target,
              smoothing](const Tensor& gy) -> Grads {
               const Tensor& logits = saved;
               const int64_t rows = logits.size(0), classes = logits.size(1);
               if (creating_graph()) {
                 const Tensor q =
                     functional::one_hot(target, classes).to(logits.dtype()) * (1 - smoothing) +
                     smoothing / static_cast<double>(classes);
                 return {gy.reshape({rows, 1}) * (softmax(logits, 1) - q)};
               }
               return {visit_floating(logits, "cross_entropy_backward", [&]<class T>() {
                 const int64_t n = rows, c = classes;
                 Tensor gx = make_tensor(logits.shape(), logits.dtype());
                 const T* z = logits.data<T>();
                 const T* peak = row_max.data<T>();
                 const T* norm = log_sum.data<T>();
                 const T* g = gy.data<T>();
                 const int64_t* y = target.data<int64_t>();
                 T* out = gx.data<T>();
                 const T uniform = static_cast<T>(smoothing / c);
                 const T on_target = static_cast<T>(1 - smoothing);
                 for (int64_t r = 0; r < n; ++r) {
                   for (int64_t k = 0; k < c; ++k) {
                     out[r * c + k] = (z[r * c + k] - peak[r]) - norm[r];
                   }
                 }
                 exp_in_place(out, n * c);  // softmax(z)
                 for (int64_t r = 0; r < n; ++r) {
                   for (int64_t k = 0; k < c; ++k) {
                     const T q = uniform + (k == y[r] ? on_target : T(0));
                     out[r * c + k] = g[r] * (out[r * c + k] - q);
                   }
                 }
                 return gx;
               })};
             });
  return reduce(per_row, options.reduction);
}

Tensor MSELoss::forward(const Tensor& input, const Tensor& target) const {
  return mse_loss(input, target, reduction_);
}

Tensor MSELoss::operator()(const Tensor& input, const Tensor& target) const {
  return forward(input, target);
}

Tensor CrossEntropyLoss::forward(const Tensor& logits, const Tensor& target) const {
  return cross_entropy(logits, target, options_);
}

Tensor CrossEntropyLoss::operator()(const Tensor& logits, const Tensor& target) const {
  return forward(logits, target);
}

}  // namespace tg::nn
