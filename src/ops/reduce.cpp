// Reductions: sum and mean (built on sum_to), max and min (gradient shared among ties), argmax.

#include <tapegrad/autograd.hpp>
#include <tapegrad/ops.hpp>

#include "ops/kernels.hpp"

#include <cmath>

namespace tg {
namespace {

// The shape of a reduction over `dim` with keepdim: that extent becomes 1.
Shape keepdim_shape(const Shape& shape, int64_t dim) {
  Shape kept = shape;
  if (!kept.empty()) kept[dim] = 1;
  return kept;
}

Shape removed_dim_shape(const Shape& shape, int64_t dim) {
  Shape out = shape;
  if (!out.empty()) out.erase(out.begin() + dim);
  return out;
}

// max(x) or min(x); `better(a, b)` says whether a beats b. NaN wins, as in PyTorch.
template <class Better>
Tensor extreme(const Tensor& x, const char* op, Better better) {
  if (x.numel() == 0)
    fail("{}: expected a non-empty tensor, got shape {}", op, shape_str(x.shape()));
  Tensor y = visit_dtype(x.dtype(), [&]<class T>() {
    const T* in = x.data<T>();
    T best = in[0];
    for (int64_t i = 1; i < x.numel(); ++i) {
      if constexpr (std::is_floating_point_v<T>) {
        if (std::isnan(best)) break;
        if (std::isnan(in[i])) best = in[i];
      }
      if (better(in[i], best)) best = in[i];
    }
    Tensor out = make_tensor({}, x.dtype());
    *out.data<T>() = best;
    return out;
  });
  // The gradient goes to the elements equal to the result, split evenly among ties; a NaN
  // result is "equal" to every NaN, so the gradient reaches the NaNs (PyTorch's
  // evenly_distribute_backward).
  return record(op, y, {x}, [saved_x = SavedTensor(x), saved_y = SavedTensor(y)](const Tensor& gy) -> Grads {
    const Tensor& x = saved_x;
    const Tensor& y = saved_y;
    return {visit_floating(x, "max_backward", [&]<class T>() {
      const T* in = x.data<T>();
      const T target = *y.data<T>();
      const bool nan_target = std::isnan(target);
      const auto is_result = [&](T v) { return v == target || (nan_target && std::isnan(v)); };
      int64_t ties = 0;
      for (int64_t i = 0; i < x.numel(); ++i) ties += is_result(in[i]);
      Tensor g = make_tensor(x.shape(), x.dtype());
      T* out = g.data<T>();
      const T share = *gy.data<T>() / static_cast<T>(ties);
      for (int64_t i = 0; i < x.numel(); ++i) out[i] = is_result(in[i]) ? share : T(0);
      return g;
    })};
  });
}

}  // namespace

Tensor sum(const Tensor& x) { return sum_to(x, Shape(x.dim(), 1)).reshape({}); }

Tensor sum(const Tensor& x, int64_t dim, bool keepdim) {
  dim = normalize_dim(dim, x.dim(), "sum");
  Tensor kept = sum_to(x, keepdim_shape(x.shape(), dim));
  return keepdim ? kept : kept.reshape(removed_dim_shape(x.shape(), dim));
}

Tensor mean(const Tensor& x) {
  require_floating(x, "mean");
  return sum(x) / static_cast<double>(x.numel());
}

Tensor mean(const Tensor& x, int64_t dim, bool keepdim) {
  require_floating(x, "mean");
  dim = normalize_dim(dim, x.dim(), "mean");
  const int64_t extent = x.dim() == 0 ? 1 : x.shape()[dim];
  return sum(x, dim, keepdim) / static_cast<double>(extent);
}

Tensor max(const Tensor& x) {
  return extreme(x, "max", [](auto a, auto b) { return a > b; });
}

Tensor min(const Tensor& x) {
  return extreme(x, "min", [](auto a, auto b) { return a < b; });
}

Tensor argmax(const Tensor& x, int64_t dim) {
  dim = normalize_dim(dim, x.dim(), "argmax");
  const int64_t extent = x.dim() == 0 ? 1 : x.shape()[dim];
  if (extent == 0) fail("argmax: dimension {} of shape {} is empty", dim, shape_str(x.shape()));
  const Shape& shape = x.shape();
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= shape[d];
  for (int64_t d = dim + 1; d < x.dim(); ++d) inner *= shape[d];
  Tensor out = make_tensor(removed_dim_shape(shape, dim), Dtype::Int64);
  int64_t* result = out.data<int64_t>();
  visit_dtype(x.dtype(), [&]<class T>() {
    const T* in = x.data<T>();
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        const T* line = in + o * extent * inner + i;
        int64_t best = 0;
        for (int64_t k = 1; k < extent; ++k) {
          const T value = line[k * inner];
          const T current = line[best * inner];
          bool wins = value > current;
          if constexpr (std::is_floating_point_v<T>) {
            wins = (wins && !std::isnan(current)) || (std::isnan(value) && !std::isnan(current));
          }
          if (wins) best = k;
        }
        result[o * inner + i] = best;
      }
    }
  });
  return out;
}

}  // namespace tg
