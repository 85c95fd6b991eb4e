// matmul: 2-D @ 2-D through OpenBLAS; 1-D operands are reshaped to rows/columns as in
// torch.matmul. The backward uses BLAS transpose flags instead of materialized transposes.

#include <tapegrad/autograd.hpp>
#include <tapegrad/ops.hpp>

#include "ops/gemm.hpp"
#include "ops/kernels.hpp"

namespace tg {
namespace {

// The recorded 2-D @ 2-D product: dA = dC·Bᵀ, dB = Aᵀ·dC.
Tensor mm(const Tensor& a, const Tensor& b) {
  if (a.size(1) != b.size(0)) {
    fail("matmul: inner dimensions differ: {} @ {}", shape_str(a.shape()), shape_str(b.shape()));
  }
  Tensor c = gemm(a, false, b, false);
  return record("matmul", c, {a, b},
                [a = saved_for_backward(a, b.requires_grad()), b = saved_for_backward(b, a.requires_grad()), need_a = a.requires_grad(),
                 need_b = b.requires_grad()](const Tensor& gc) -> Grads {
                  return {need_a ? gemm(gc, false, b, true) : Tensor(),
                          need_b ? gemm(a, true, gc, false) : Tensor()};
                });
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  require_same_dtype(a, b, "matmul");
  require_floating(a, "matmul");
  if (a.dim() < 1 || a.dim() > 2 || b.dim() < 1 || b.dim() > 2) {
    fail("matmul: only 1-d and 2-d operands are supported, got {} @ {}", shape_str(a.shape()),
         shape_str(b.shape()));
  }
  if (a.size(-1) != b.size(0)) {
    fail("matmul: inner dimensions differ: {} @ {}", shape_str(a.shape()), shape_str(b.shape()));
  }
  // A 1-d left operand is a row, a 1-d right operand a column; both extra dims are dropped.
  const Tensor a2 = a.dim() == 1 ? a.reshape({1, a.size(0)}) : a;
  const Tensor b2 = b.dim() == 1 ? b.reshape({b.size(0), 1}) : b;
  Tensor c = mm(a2, b2);
  if (a.dim() == 2 && b.dim() == 2) return c;
  Shape out;
  if (a.dim() == 2) out.push_back(a.size(0));
  if (b.dim() == 2) out.push_back(b.size(1));
  return c.reshape(out);
}

}  // namespace tg
