// matmul with torch.matmul's rules: 2-D @ 2-D through OpenBLAS (1-D operands reshaped to
// rows/columns), and batched operands (3-D and more) as one GEMM per matrix of the broadcast
// batch, or one folded GEMM when the right operand is a single matrix. The backwards use BLAS
// transpose flags instead of materialized transposes. Also outer and dot.

#include <tapegrad/autograd.hpp>
#include <tapegrad/ops.hpp>

#include "ops/gemm.hpp"
#include "ops/kernels.hpp"

#include <algorithm>
#include <array>

namespace tg {
namespace {

// The recorded 2-D @ 2-D product: dA = dC·Bᵀ, dB = Aᵀ·dC.
Tensor mm(const Tensor& a, const Tensor& b) {
  if (a.size(1) != b.size(0)) {
    fail("matmul: inner dimensions differ: {} @ {}", shape_str(a.shape()), shape_str(b.shape()));
  }
  Tensor c = gemm(a, false, b, false);
  return record(
      "matmul", c, {a, b},
      [a = saved_for_backward(a, b.requires_grad()), b = saved_for_backward(b, a.requires_grad()),
       need_a = a.requires_grad(), need_b = b.requires_grad()](const Tensor& gc) -> Grads {
        if (creating_graph()) {
          return {need_a ? matmul(gc, b->t()) : Tensor(), need_b ? matmul(a->t(), gc) : Tensor()};
        }
        return {need_a ? gemm(gc, false, b, true) : Tensor(),
                need_b ? gemm(a, true, gc, false) : Tensor()};
      });
}

// The batch dimensions of an operand of two or more dims: all but the last two.
Shape batch_of(const Shape& shape) { return Shape(shape.begin(), shape.end() - 2); }

// c[batch…] = op(a[batch…]) @ op(b[batch…]) for operands of two or more dims whose batch
// dimensions broadcast to `batch`, one gemm_into per output matrix in batch order.
Tensor batched_gemm(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b,
                    const Shape& batch) {
  const Shape matrix_a{a.size(-2), a.size(-1)}, matrix_b{b.size(-2), b.size(-1)};
  const int64_t m = matrix_a[transpose_a ? 1 : 0], n = matrix_b[transpose_b ? 0 : 1];
  Shape out_shape = batch;
  out_shape.insert(out_shape.end(), {m, n});
  Tensor c = make_tensor(out_shape, a.dtype());
  // Walk the batch as the rows of [batch…, 1]; each operand's offsets count whole matrices.
  Shape walk = batch;
  walk.push_back(1);
  std::array<std::vector<int64_t>, 2> strides{broadcast_strides(batch_of(a.shape()), batch),
                                              broadcast_strides(batch_of(b.shape()), batch)};
  for (auto& s : strides) s.push_back(0);
  for_each_row(walk, strides, [&](int64_t r, const std::array<int64_t, 2>& offsets) {
    const Tensor a_r = share_storage(a, matrix_a, offsets[0] * shape_numel(matrix_a));
    const Tensor b_r = share_storage(b, matrix_b, offsets[1] * shape_numel(matrix_b));
    Tensor c_r = share_storage(c, {m, n}, r * m * n);
    gemm_into(a_r, transpose_a, b_r, transpose_b, c_r, 0.0);
  });
  return c;
}

// The recorded batched product of operands of two or more dims (one of them three or more):
// dA = dC·Bᵀ and dB = Aᵀ·dC per matrix, in the broadcast batch shape (the engine's sum_to
// reduces them to each operand's shape).
Tensor bmm(const Tensor& a, const Tensor& b) {
  const Shape batch_a = batch_of(a.shape()), batch_b = batch_of(b.shape());
  const size_t rank = std::max(batch_a.size(), batch_b.size());
  Shape batch(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Aligned from the right, missing leading dimensions count as 1 (NumPy broadcasting).
    const int64_t ea = i < rank - batch_a.size() ? 1 : batch_a[i - (rank - batch_a.size())];
    const int64_t eb = i < rank - batch_b.size() ? 1 : batch_b[i - (rank - batch_b.size())];
    if (ea != eb && ea != 1 && eb != 1) {
      fail("matmul: batch dimensions cannot be broadcast together: {} @ {}", shape_str(a.shape()),
           shape_str(b.shape()));
    }
    batch[i] = ea == 1 ? eb : ea;
  }
  Tensor c = batched_gemm(a, false, b, false, batch);
  return record(
      "matmul", c, {a, b},
      [a = saved_for_backward(a, b.requires_grad()), b = saved_for_backward(b, a.requires_grad()),
       need_a = a.requires_grad(), need_b = b.requires_grad(), batch](const Tensor& gc) -> Grads {
        if (creating_graph()) {  // the engine's sum_to reduces broadcast batch dims
          return {need_a ? matmul(gc, b->transpose(-2, -1)) : Tensor(),
                  need_b ? matmul(a->transpose(-2, -1), gc) : Tensor()};
        }
        return {need_a ? batched_gemm(gc, false, b, true, batch) : Tensor(),
                need_b ? batched_gemm(a, true, gc, false, batch) : Tensor()};
      });
}

// torch.matmul with an operand of three or more dims. A 1-D left operand is a row and a 1-D right
// operand a column, both dropped from the result; a single right matrix is applied to all of
// a's rows at once (one GEMM over a folded [batch·m, k], as torch does).
Tensor batched_matmul(const Tensor& a, const Tensor& b) {
  const Tensor a2 = a.dim() == 1 ? a.reshape({1, a.size(0)}) : a;
  const Tensor b2 = b.dim() == 1 ? b.reshape({b.size(0), 1}) : b;
  if (a2.size(-1) != b2.size(-2)) {
    fail("matmul: inner dimensions differ: {} @ {}", shape_str(a.shape()), shape_str(b.shape()));
  }
  Tensor c;
  if (b2.dim() == 2) {
    Shape folded_shape = batch_of(a2.shape());
    const int64_t rows = shape_numel(folded_shape) * a2.size(-2);
    folded_shape.insert(folded_shape.end(), {a2.size(-2), b2.size(1)});
    c = mm(a2.reshape({rows, a2.size(-1)}), b2).reshape(folded_shape);
  } else {
    c = bmm(a2, b2);
  }
  Shape out = batch_of(c.shape());
  if (a.dim() > 1) out.push_back(c.size(-2));
  if (b.dim() > 1) out.push_back(c.size(-1));
  return out == c.shape() ? c : c.reshape(out);
}

// Throws unless t is 1-D; `op` names the caller.
void require_vector(const Tensor& t, const Tensor& other, const char* op) {
  if (t.dim() != 1) {
    fail("{}: expected 1-d tensors, got {} and {}", op, shape_str(t.shape()),
         shape_str(other.shape()));
  }
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  require_same_dtype(a, b, "matmul");
  require_floating(a, "matmul");
  if (a.dim() < 1 || b.dim() < 1) {
    fail("matmul: both operands need at least one dimension, got {} @ {}", shape_str(a.shape()),
         shape_str(b.shape()));
  }
  if (a.dim() > 2 || b.dim() > 2) return batched_matmul(a, b);
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

// u vᵀ as the broadcast product of a column and a row: torch.outer's own definition, so the
// gradient (mul's) is the same.
Tensor outer(const Tensor& a, const Tensor& b) {
  require_vector(a, b, "outer");
  require_vector(b, a, "outer");
  require_same_dtype(a, b, "outer");
  return a.reshape({a.size(0), 1}) * b.reshape({1, b.size(0)});
}

// Σ aᵢbᵢ; d/da = gy·b, d/db = gy·a. Floats through one [1, n] @ [n, 1] GEMM, Int64 as a sum of
// products (wrapping around, as PyTorch's integer dot does).
Tensor dot(const Tensor& a, const Tensor& b) {
  require_vector(a, b, "dot");
  require_vector(b, a, "dot");
  if (a.size(0) != b.size(0)) {
    fail("dot: lengths differ: {} and {}", shape_str(a.shape()), shape_str(b.shape()));
  }
  require_same_dtype(a, b, "dot");
  if (a.dtype() == Dtype::Bool)
    fail("dot: Bool tensors are not supported, got {}", shape_str(a.shape()));
  if (a.dtype() == Dtype::Int64) return sum(a * b);
  const int64_t n = a.size(0);
  Tensor y = gemm(a.detach().reshape({1, n}), false, b.detach().reshape({n, 1}), false).reshape({});
  return record(
      "dot", y, {a, b},
      [a = saved_for_backward(a, b.requires_grad()), b = saved_for_backward(b, a.requires_grad()),
       need_a = a.requires_grad(), need_b = b.requires_grad()](const Tensor& gy) -> Grads {
        return {need_a ? gy * b : Tensor(), need_b ? gy * a : Tensor()};
      });
}

Tensor Tensor::outer(const Tensor& other) const { return tg::outer(*this, other); }
Tensor Tensor::dot(const Tensor& other) const { return tg::dot(*this, other); }

}  // namespace tg
