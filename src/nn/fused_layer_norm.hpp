#pragma once

// layer_norm as a fused op: each row's mean and spread in one pass, the normalized row, its
// scale and shift in another, and the backward in one pass per row plus the column sums of the
// weight's and bias's gradients (a composed layer norm is about ten nodes). Its composed form
// gives the recorded backward under create_graph (src/autograd/composed_backward.hpp).

#include <tapegrad/tensor.hpp>

namespace tg::nn::detail {

/// y = (x − mean)/√(var + eps)·weight + bias for each row of rows [R, n], with the row's mean
/// and biased variance; weight and bias [n], either may be undefined.
Tensor layer_norm_rows(const Tensor& rows, const Tensor& weight, const Tensor& bias, double eps);

/// The same from recorded ops.
Tensor composed_layer_norm_rows(const Tensor& rows, const Tensor& weight, const Tensor& bias,
                                double eps);

}  // namespace tg::nn::detail
