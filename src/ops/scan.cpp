// Running sums (cumsum) and products (prod) along a dim. Floats accumulate in double, Int64 in
// uint64_t (wrapping around as PyTorch's do), and Bool inputs count as Int64, as in PyTorch.

#include <tapegrad/autograd.hpp>
#include <tapegrad/ops.hpp>

#include "ops/kernels.hpp"
#include "ops/lines.hpp"

#include <type_traits>

namespace tg {
namespace {

template <class T>
using Accumulator = std::conditional_t<std::is_floating_point_v<T>, double, uint64_t>;

// out[o, k, i] = Σ_{k' ≤ k} x[o, k', i], or Σ_{k' ≥ k} when `reverse`.
Tensor running_sums(const Tensor& x, int64_t dim, bool reverse) {
  const Lines lines = lines_along(x.shape(), dim);
  return visit_dtype(x.dtype(), [&]<class T>() {
    Tensor out = make_tensor(x.shape(), x.dtype());
    const T* in = x.data<T>();
    T* sums = out.data<T>();
    for (int64_t o = 0; o < lines.outer; ++o) {
      for (int64_t i = 0; i < lines.inner; ++i) {
        Accumulator<T> total = 0;
        for (int64_t step = 0; step < lines.extent; ++step) {
          const int64_t at = lines.at(o, reverse ? lines.extent - 1 - step : step, i);
          total += static_cast<Accumulator<T>>(in[at]);
          sums[at] = static_cast<T>(total);
        }
      }
    }
    return out;
  });
}

// The running sums from the end of each line: cumsum's backward, with cumsum as its own backward.
Tensor reverse_cumsum(const Tensor& x, int64_t dim) {
  Tensor y = running_sums(x, dim, true);
  return record("reverse_cumsum", y, {x},
                [dim](const Tensor& gy) -> Grads { return {cumsum(gy, dim)}; });
}

// Π along dim, with the reduced dim kept (extent 1); an empty line's product is 1.
Tensor line_products(const Tensor& x, int64_t dim) {
  const Lines lines = lines_along(x.shape(), dim);
  return visit_dtype(x.dtype(), [&]<class T>() {
    Tensor out = make_tensor(keepdim_shape(x.shape(), dim), x.dtype());
    const T* in = x.data<T>();
    T* products = out.data<T>();
    for (int64_t o = 0; o < lines.outer; ++o) {
      for (int64_t i = 0; i < lines.inner; ++i) {
        Accumulator<T> product = 1;
        for (int64_t k = 0; k < lines.extent; ++k) {
          product *= static_cast<Accumulator<T>>(in[lines.at(o, k, i)]);
        }
        products[o * lines.inner + i] = static_cast<T>(product);
      }
    }
    return out;
  });
}

// out[o, k, i] = Π_{k' ≠ k} x[o, k', i], the product of the others along dim, as the prefix
// product before k times the suffix product after it: exact where x has zeros, unlike y / x
// (PyTorch's prod_safe_zeros_backward). A fused loop, so create_graph uses the next function.
Tensor products_of_others(const Tensor& x, int64_t dim) {
  const Lines lines = lines_along(x.shape(), dim);
  return visit_floating(x, "prod_backward", [&]<class T>() {
    Tensor out = make_tensor(x.shape(), x.dtype());
    const T* in = x.data<T>();
    T* others = out.data<T>();
    for (int64_t o = 0; o < lines.outer; ++o) {
      for (int64_t i = 0; i < lines.inner; ++i) {
        double before = 1, after = 1;
        for (int64_t k = 0; k < lines.extent; ++k) {
          others[lines.at(o, k, i)] = static_cast<T>(before);
          before *= in[lines.at(o, k, i)];
        }
        for (int64_t k = lines.extent - 1; k >= 0; --k) {
          const int64_t at = lines.at(o, k, i);
          others[at] = static_cast<T>(others[at] * after);
          after *= in[at];
        }
      }
    }
    return out;
  });
}

// products_of_others from recorded ops, for create_graph: copy k of x (a new leading dim) has
// x_k set to 1, and prod along dim of the copies is Π_{k' ≠ k} x_k', zeros included. It takes
// extent times x's memory, which is why the first-order pass keeps the fused loop.
Tensor recorded_products_of_others(const Tensor& x, int64_t dim) {
  const int64_t extent = x.size(dim);
  if (extent == 0) return zeros_like(x);
  Shape mask_shape(static_cast<size_t>(x.dim() + 1), 1);
  mask_shape[0] = extent;
  mask_shape[static_cast<size_t>(dim + 1)] = extent;
  const Tensor keep = logical_not(eye(extent).to(Dtype::Bool).reshape(mask_shape));
  const Tensor products = prod(where(keep, x.unsqueeze(0), 1.0), dim + 1, false);
  std::vector<int64_t> order(static_cast<size_t>(x.dim()));
  for (int64_t d = 0; d < x.dim(); ++d) order[d] = d < dim ? d + 1 : (d == dim ? 0 : d);
  return products.permute(order);
}

Tensor prod_along(const Tensor& x, int64_t dim, bool keepdim) {
  if (x.dtype() == Dtype::Bool) return prod_along(x.to(Dtype::Int64), dim, keepdim);
  dim = normalize_dim(dim, x.dim(), "prod");
  const Shape kept = keepdim_shape(x.shape(), dim);
  Tensor y = line_products(x, dim);
  if (!keepdim) y = y.reshape(removed_dim_shape(x.shape(), dim));
  // dy/dx_k = Π_{k' ≠ k} x_k'
  return record("prod", y, {x}, [x = SavedTensor(x), dim, kept](const Tensor& gy) -> Grads {
    const Tensor g = gy.shape() == kept ? gy : gy.reshape(kept);
    return {g *
            (creating_graph() ? recorded_products_of_others(x, dim) : products_of_others(x, dim))};
  });
}

}  // namespace

Tensor cumsum(const Tensor& x, int64_t dim) {
  if (x.dtype() == Dtype::Bool) return cumsum(x.to(Dtype::Int64), dim);
  dim = normalize_dim(dim, x.dim(), "cumsum");
  Tensor y = running_sums(x, dim, false);
  // y_k = Σ_{j ≤ k} x_j, so dx_j = Σ_{k ≥ j} gy_k: the running sums of gy from the end.
  return record("cumsum", y, {x},
                [dim](const Tensor& gy) -> Grads { return {reverse_cumsum(gy, dim)}; });
}

Tensor prod(const Tensor& x) { return prod_along(x.reshape({-1}), 0, false); }

Tensor prod(const Tensor& x, int64_t dim, bool keepdim) { return prod_along(x, dim, keepdim); }

Tensor Tensor::cumsum(int64_t dim) const { return tg::cumsum(*this, dim); }
Tensor Tensor::prod() const { return tg::prod(*this); }
Tensor Tensor::prod(int64_t dim, bool keepdim) const { return tg::prod(*this, dim, keepdim); }

}  // namespace tg
