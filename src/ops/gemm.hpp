#pragma once

#include <tapegrad/tensor.hpp>

namespace tg {

/// c = op(a) @ op(b) + beta·c through OpenBLAS, where op transposes when asked. a, b and c are
/// contiguous 2-d tensors of one floating dtype and c already has the product's shape.
void gemm_into(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, Tensor& c,
               double beta);
/// op(a) @ op(b) in a new tensor.
Tensor gemm(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b);

}  // namespace tg
