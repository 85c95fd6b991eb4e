// linear(x, W, b) = x Wᵀ + b as one GEMM with the bias folded in (C starts as b, β = 1); x is
// [in] or [..., in].

#include <tapegrad/autograd.hpp>
#include <tapegrad/ops.hpp>

#include "ops/gemm.hpp"
#include "ops/kernels.hpp"

#include <algorithm>

namespace tg {
namespace {

void check_linear_arguments(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  require_floating(weight, "linear");
  require_same_dtype(x, weight, "linear");
  if (weight.dim() != 2 || x.dim() < 1 || x.size(-1) != weight.size(1)) {
    fail("linear: input {} does not match weight {} (expected input [..., {}])",
         shape_str(x.shape()), shape_str(weight.shape()), weight.size(1));
  }
  if (bias.defined()) {
    require_same_dtype(bias, weight, "linear");
    if (bias.shape() != Shape{weight.size(0)}) {
      fail("linear: bias {} does not match weight {} (expected [{}])", shape_str(bias.shape()),
           shape_str(weight.shape()), weight.size(0));
    }
  }
}

// y[N, out] = x[N, in] Wᵀ + b for 2-d x.
Tensor linear_2d(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  const int64_t rows = x.size(0);
  const int64_t out_features = weight.size(0);
  Tensor y = make_tensor({rows, out_features}, x.dtype());
  // An empty batch has no row 0 to seed with b.
  if (bias.defined() && rows > 0) {
    visit_floating(y, "linear", [&]<class T>() {
      const T* b = bias.data<T>();
      T* out = y.data<T>();
      // Row 0 is b; then the rows filled so far are copied after themselves: log2(rows) copies
      // instead of one (a library call) per row.
      std::copy(b, b + out_features, out);
      for (int64_t filled = 1; filled < rows; filled *= 2) {
        const int64_t count = std::min(filled, rows - filled) * out_features;
        std::copy(out, out + count, out + filled * out_features);
      }
    });
  }
  gemm_into(x, false, weight, true, y, bias.defined() ? 1.0 : 0.0);
  // dx = dy W, dW = dyᵀ x, db = Σ_rows dy (sum_to: straight into shape [out], no reshape)
  return record("linear", y, {x, weight, bias},
                [x = saved_for_backward(x, weight.requires_grad()),
                 weight = saved_for_backward(weight, x.requires_grad()), need_x = x.requires_grad(),
                 need_w = weight.requires_grad(),
                 need_b = bias.defined() && bias.requires_grad()](const Tensor& gy) -> Grads {
                  if (creating_graph()) {
                    return {need_x ? matmul(gy, weight) : Tensor(),
                            need_w ? matmul(gy.t(), x) : Tensor(),
                            need_b ? sum_to(gy, {gy.size(1)}) : Tensor()};
                  }
                  return {need_x ? gemm(gy, false, weight, false) : Tensor(),
                          need_w ? gemm(gy, true, x, false) : Tensor(),
                          need_b ? sum_to(gy, {gy.size(1)}) : Tensor()};
                });
}

}  // namespace

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check_linear_arguments(x, weight, bias);
  if (x.dim() == 2) return linear_2d(x, weight, bias);
  // [in] or [..., in]: every leading index is a row of one GEMM, as torch's matmul folds them.
  Shape out_shape = x.shape();
  out_shape.back() = weight.size(0);
  const int64_t rows = shape_numel(Shape(x.shape().begin(), x.shape().end() - 1));
  return linear_2d(x.reshape({rows, weight.size(1)}), weight, bias).reshape(out_shape);
}

}  // namespace tg
