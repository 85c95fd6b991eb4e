#pragma once

#include <tapegrad/tensor.hpp>

#include <cstdint>

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

/// Matrix product with torch.matmul's rules for 1-D and 2-D operands.
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

// Broadcasting helpers, differentiable; the autograd engine uses sum_to for every op.
/// Repeats x along broadcast dimensions to `shape`.
Tensor broadcast_to(const Tensor& x, const Shape& shape);
/// Sums x over the dimensions that broadcasting added or stretched, giving `shape`.
Tensor sum_to(const Tensor& x, const Shape& shape);

}  // namespace tg
