#pragma once

#include <tapegrad/tensor.hpp>

#include <cstdint>
#include <optional>
#include <vector>

namespace tg {

// Arithmetic with NumPy broadcasting; scalars take the tensor's dtype.
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, double b);
Tensor operator-(const Tensor& a, double b);
Tensor operator*(const Tensor& a, double b);
Tensor operator/(const Tensor& a, double b);
Tensor operator+(double a, const Tensor& b);
Tensor operator-(double a, const Tensor& b);
Tensor operator*(double a, const Tensor& b);
Tensor operator/(double a, const Tensor& b);
Tensor operator-(const Tensor& x);

/// Matrix product with torch.matmul's rules: 1-D, 2-D, and batched (3-D and more, with the
/// batch dimensions broadcast).
Tensor matmul(const Tensor& a, const Tensor& b);

/// x Wᵀ + b (PyTorch's F.linear) as one fused GEMM; x is [N, in] or [in], weight [out, in],
/// bias [out] or undefined.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = {});

// Elementwise functions.
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor pow(const Tensor& x, double p);
Tensor square(const Tensor& x);

// Reductions.
/// Sum of all elements, as a 0-d tensor.
Tensor sum(const Tensor& x);
/// Sum over `dim`, which is removed unless keepdim.
Tensor sum(const Tensor& x, int64_t dim, bool keepdim = false);
/// Mean of all elements, as a 0-d tensor.
Tensor mean(const Tensor& x);
/// Mean over `dim`, which is removed unless keepdim.
Tensor mean(const Tensor& x, int64_t dim, bool keepdim = false);
/// Largest element, as a 0-d tensor (the gradient is shared evenly among ties).
Tensor max(const Tensor& x);
/// Smallest element, as a 0-d tensor (the gradient is shared evenly among ties).
Tensor min(const Tensor& x);
/// Index of the largest element along `dim` (first one on ties); Int64, never recorded.
Tensor argmax(const Tensor& x, int64_t dim);

/// Softmax along `dim`, computed with the maximum subtracted.
Tensor softmax(const Tensor& x, int64_t dim);
/// Log-softmax along `dim`, computed as x − max − log Σ exp(x − max).
Tensor log_softmax(const Tensor& x, int64_t dim);

// More elementwise math (PyTorch's formulas and gradient conventions).
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
/// log(1 + x), accurate for small x.
Tensor log1p(const Tensor& x);
/// exp(x) − 1, accurate for small x.
Tensor expm1(const Tensor& x);
/// The error function.
Tensor erf(const Tensor& x);
/// −1, 0 or 1 (gradient 0).
Tensor sign(const Tensor& x);
/// Rounds down (gradient 0).
Tensor floor(const Tensor& x);
/// Rounds half to even, as torch.round (gradient 0).
Tensor round(const Tensor& x);
/// Elements limited to [lo, hi]; either bound may be omitted. The gradient passes where
/// lo ≤ x ≤ hi (PyTorch's convention at the bounds).
Tensor clamp(const Tensor& x, std::optional<double> lo, std::optional<double> hi = std::nullopt);
/// Elementwise smaller of a and b, broadcasting (the gradient is split evenly on ties).
Tensor minimum(const Tensor& a, const Tensor& b);
/// Elementwise larger of a and b, broadcasting (the gradient is split evenly on ties).
Tensor maximum(const Tensor& a, const Tensor& b);

// Comparisons and masks: Dtype::Bool results, never recorded.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, double b);
Tensor ne(const Tensor& a, double b);
Tensor lt(const Tensor& a, double b);
Tensor le(const Tensor& a, double b);
Tensor gt(const Tensor& a, double b);
Tensor ge(const Tensor& a, double b);
Tensor logical_and(const Tensor& a, const Tensor& b);
Tensor logical_or(const Tensor& a, const Tensor& b);
Tensor logical_not(const Tensor& x);
/// a where the Bool `condition` holds, else b (all three broadcast); differentiable in a and b.
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b);
/// where() with a scalar for b.
Tensor where(const Tensor& condition, const Tensor& a, double b);
/// x with the elements where the Bool `mask` (broadcast to x) holds replaced by `value`.
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);
/// True if any element is nonzero (0-d Bool).
Tensor any(const Tensor& x);
/// True if every element is nonzero (0-d Bool).
Tensor all(const Tensor& x);

// More reductions.
/// Largest values along dim and their positions (the first on ties, as PyTorch on the CPU).
ValuesIndices max(const Tensor& x, int64_t dim, bool keepdim = false);
/// Smallest values along dim and their positions.
ValuesIndices min(const Tensor& x, int64_t dim, bool keepdim = false);
/// Variance of all elements with Bessel's `correction` (1: unbiased, 0: population).
/// (x.var(1) is along dim 1, as in PyTorch; for another correction over all elements, use
/// x.flatten().var(0, false, correction).)
Tensor var(const Tensor& x);
/// Variance along dim.
Tensor var(const Tensor& x, int64_t dim, bool keepdim = false, int64_t correction = 1);
/// √var of all elements.
Tensor std(const Tensor& x);
/// √var along dim.
Tensor std(const Tensor& x, int64_t dim, bool keepdim = false, int64_t correction = 1);
/// (Σ|x|ᵖ)^(1/p) of all elements (p = inf: max |x|).
Tensor norm(const Tensor& x, double p = 2);
/// The p-norm along dim.
Tensor norm(const Tensor& x, double p, int64_t dim, bool keepdim = false);
/// log Σ exp(x) along dim, computed with the maximum subtracted.
Tensor logsumexp(const Tensor& x, int64_t dim, bool keepdim = false);
/// Running sums along dim.
Tensor cumsum(const Tensor& x, int64_t dim);
/// Product of all elements, as a 0-d tensor.
Tensor prod(const Tensor& x);
/// Product along dim.
Tensor prod(const Tensor& x, int64_t dim, bool keepdim = false);

// More products.
/// Outer product of two 1-D tensors.
Tensor outer(const Tensor& a, const Tensor& b);
/// Inner product of two 1-D tensors of the same length, as a 0-d tensor.
Tensor dot(const Tensor& a, const Tensor& b);

// Joining.
/// The tensors joined along an existing dim (shapes equal except there).
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
/// The tensors (all of one shape) joined along a new dim.
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);

// Broadcasting helpers, differentiable; the autograd engine uses sum_to for every op.
/// Repeats x along broadcast dimensions to `shape`.
Tensor broadcast_to(const Tensor& x, const Shape& shape);
/// Sums x over the dimensions that broadcasting added or stretched, giving `shape`.
Tensor sum_to(const Tensor& x, const Shape& shape);

}  // namespace tg
