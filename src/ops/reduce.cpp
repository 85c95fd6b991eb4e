// Reductions: sum and mean (built on sum_to, the full sum in a fixed blocked order), max and min
// of all elements (gradient shared among ties) and along a dim (values and indices), argmax.

#include <tapegrad/autograd.hpp>
#include <tapegrad/ops.hpp>

#include "kernels/cpu_level.hpp"
#include "kernels/lane_sum.hpp"
#include "ops/kernels.hpp"
#include "ops/lines.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <type_traits>

namespace tg {
namespace {

// The sum of all elements of a floating or Int64 x, as a 0-d tensor of x's dtype. Float32 adds
// in double, as sum_to does; Int64 in uint64_t, so overflow wraps around as in PyTorch.
Tensor full_sum(const Tensor& x) {
  Tensor y = visit_dtype(x.dtype(), [&]<class T>() {
    using Acc = std::conditional_t<std::is_floating_point_v<T>, double, uint64_t>;
    Tensor out = make_tensor({}, x.dtype());
    *out.data<T>() = static_cast<T>(detail::lane_sum<T, Acc>(x.data<T>(), x.numel()));
    return out;
  });
  return record("sum", y, {x}, [shape = x.shape()](const Tensor& gy) -> Grads {
    return {broadcast_to(gy, shape)};
  });
}

// The position of the best element of a line (stride apart): the first on ties, and the first
// NaN if there is one (PyTorch's CPU kernels).
template <class T, class Better>
int64_t best_index(const T* line, int64_t extent, int64_t stride, Better better) {
  int64_t best = 0;
  for (int64_t k = 0; k < extent; ++k) {
    const T value = line[k * stride];
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(value)) return k;
    }
    if (better(value, line[best * stride])) best = k;
  }
  return best;
}

// best_index for `inner` lines at once, row by row of a [extent, inner] block: the same choice
// (first on ties, first NaN), with contiguous reads instead of a strided walk per line.
template <class T, class Better>
void sweep_best(const T* block, int64_t extent, int64_t inner, Better better, T* best_value,
                int64_t* best) {
  const auto is_nan = [](T v) {
    if constexpr (std::is_floating_point_v<T>) return std::isnan(v);
    return false;
  };
  std::copy_n(block, inner, best_value);
  std::fill_n(best, inner, int64_t{0});
  for (int64_t k = 1; k < extent; ++k) {
    const T* row = block + k * inner;
    for (int64_t i = 0; i < inner; ++i) {
      if (is_nan(best_value[i])) continue;  // the first NaN stays
      if (is_nan(row[i]) || better(row[i], best_value[i])) {
        best_value[i] = row[i];
        best[i] = k;
      }
    }
  }
}

Tensor gather_along(const Tensor& x, const Tensor& index, int64_t dim);

// out (zeros of `shape`) with out[o, index[o, 0, i], i] = g[o, 0, i]: the gradient of picking
// x's elements at `index` along dim. g and index have `shape` with extent 1 at dim.
Tensor scatter_along(const Tensor& g, const Tensor& index, int64_t dim, const Shape& shape) {
  const Lines lines = lines_along(shape, dim);
  Tensor out = visit_floating(g, "scatter_along", [&]<class T>() {
    Tensor result = zeros(shape, {.dtype = g.dtype()});
    const T* from = g.data<T>();
    const int64_t* at = index.data<int64_t>();
    T* to = result.data<T>();
    for (int64_t o = 0; o < lines.outer; ++o) {
      for (int64_t i = 0; i < lines.inner; ++i) {
        const int64_t j = o * lines.inner + i;
        to[(o * lines.extent + at[j]) * lines.inner + i] = from[j];
      }
    }
    return result;
  });
  // Its backward picks the same elements back (and gather_along's scatters them).
  return record("scatter_along", out, {g},
                [index = SavedTensor(index), dim](const Tensor& gy) -> Grads {
                  return {gather_along(gy, index, dim)};
                });
}

// out[o, 0, i] = x[o, index[o, 0, i], i], index with extent 1 at dim (torch.gather's rule).
Tensor gather_along(const Tensor& x, const Tensor& index, int64_t dim) {
  const Lines lines = lines_along(x.shape(), dim);
  Tensor out = visit_floating(x, "gather_along", [&]<class T>() {
    Tensor result = make_tensor(index.shape(), x.dtype());
    const T* from = x.data<T>();
    const int64_t* at = index.data<int64_t>();
    T* to = result.data<T>();
    for (int64_t o = 0; o < lines.outer; ++o) {
      for (int64_t i = 0; i < lines.inner; ++i) {
        const int64_t j = o * lines.inner + i;
        to[j] = from[(o * lines.extent + at[j]) * lines.inner + i];
      }
    }
    return result;
  });
  return record("gather_along", out, {x},
                [index = SavedTensor(index), dim, shape = x.shape()](const Tensor& gy) -> Grads {
                  return {scatter_along(gy, index, dim, shape)};
                });
}

// max(x, dim) or min(x, dim): the best values along dim and their positions.
template <class Better>
ValuesIndices extreme_along(const Tensor& x, int64_t dim, bool keepdim, const char* op,
                            Better better) {
  dim = normalize_dim(dim, x.dim(), op);
  const Lines lines = lines_along(x.shape(), dim);
  if (lines.extent == 0)
    fail("{}: dimension {} of shape {} is empty", op, dim, shape_str(x.shape()));
  const Shape kept = keepdim_shape(x.shape(), dim);
  const Shape out_shape = keepdim ? kept : removed_dim_shape(x.shape(), dim);
  Tensor values = make_tensor(out_shape, x.dtype());
  Tensor indices = make_tensor(out_shape, Dtype::Int64);
  visit_dtype(x.dtype(), [&]<class T>() {
    const T* in = x.data<T>();
    T* best_value = values.data<T>();
    int64_t* best = indices.data<int64_t>();
    for (int64_t o = 0; o < lines.outer; ++o) {
      const T* block = in + o * lines.extent * lines.inner;
      if (lines.inner == 1) {
        best[o] = best_index(block, lines.extent, 1, better);
        best_value[o] = block[best[o]];
      } else {
        sweep_best(block, lines.extent, lines.inner, better, best_value + o * lines.inner,
                   best + o * lines.inner);
      }
    }
  });
  // The whole gradient goes to the returned position, ties or not (PyTorch's
  // value_selecting_reduction_backward); only the indices are saved, as in PyTorch.
  values = record(
      op, values, {x},
      [indices = SavedTensor(indices), dim, kept, shape = x.shape()](const Tensor& gy) -> Grads {
        const Tensor& index = indices;
        return {scatter_along(gy.reshape(kept), index.reshape(kept), dim, shape)};
      });
  return {values, indices};
}

// The best of in[from, n) against `best`, one element after another.
template <class T, class Better>
T best_in_order(const T* in, int64_t from, int64_t n, T best, Better better, bool& nan) {
  for (int64_t i = from; i < n; ++i) {
    nan |= in[i] != in[i];
    best = better(in[i], best) ? in[i] : best;
  }
  return best;
}

// The best of n > 0 values: the first NaN if there is one, else the first of the best (which
// matters only for -0 and +0). Floating types are swept in four independent 16-byte vectors
// (GCC's vector extensions: plain SSE2, the same bits on every CPU) so that the sweep runs at
// memory speed instead of one compare-and-branch per element; the cases the lanes cannot order
// (a NaN, a best of zero) are settled by a second pass in order.
template <class T, class Better>
T best_of(const T* in, int64_t n, Better better) {
  bool nan = false;
  if constexpr (!std::is_floating_point_v<T>) {
    return best_in_order(in, 1, n, in[0], better, nan);
  } else {
    using Vector [[gnu::vector_size(16)]] = T;
    using Mask = decltype(Vector{} != Vector{});
    constexpr int64_t kWidth = 16 / sizeof(T), kVectors = 4, kBlock = kWidth * kVectors;
    Vector best[kVectors];
    Mask seen_nan[kVectors] = {};
    for (Vector& b : best) b = Vector{} + in[0];
    int64_t i = 0;
    for (; i + kBlock <= n; i += kBlock) {
      for (int64_t j = 0; j < kVectors; ++j) {
        Vector v;
        std::memcpy(&v, in + i + j * kWidth, sizeof v);
        seen_nan[j] |= v != v;
        best[j] = better(v, best[j]) ? v : best[j];
      }
    }
    T result = in[0];
    for (int64_t j = 0; j < kVectors; ++j) {
      for (int64_t k = 0; k < kWidth; ++k) {
        result = better(best[j][k], result) ? best[j][k] : result;
        nan |= seen_nan[j][k] != 0;
      }
    }
    result = best_in_order(in, i, n, result, better, nan);
    if (nan) return *std::find_if(in, in + n, [](T v) { return v != v; });
    if (result == 0) return *std::find(in, in + n, T(0));
    return result;
  }
}

// max(x) or min(x); `better(a, b)` says whether a beats b. NaN wins, as in PyTorch.
template <class Better>
Tensor extreme(const Tensor& x, const char* op, Better better) {
  if (x.numel() == 0)
    fail("{}: expected a non-empty tensor, got shape {}", op, shape_str(x.shape()));
  Tensor y = visit_dtype(x.dtype(), [&]<class T>() {
    const T best = best_of(x.data<T>(), x.numel(), better);
    Tensor out = make_tensor({}, x.dtype());
    *out.data<T>() = best;
    return out;
  });
  // The gradient goes to the elements equal to the result, split evenly among ties; a NaN
  // result is "equal" to every NaN, so the gradient reaches the NaNs (PyTorch's
  // evenly_distribute_backward).
  return record(
      op, y, {x}, [saved_x = SavedTensor(x), saved_y = SavedTensor(y)](const Tensor& gy) -> Grads {
        const Tensor& x = saved_x;
        const Tensor& y = saved_y;
        // Under create_graph the shares are a constant mask times the recorded gy.
        const bool recorded = creating_graph();
        Tensor g = visit_floating(x, "max_backward", [&]<class T>() {
          const T* in = x.data<T>();
          const T target = *y.data<T>();
          const bool nan_target = std::isnan(target);
          const auto is_result = [&](T v) { return v == target || (nan_target && std::isnan(v)); };
          int64_t ties = 0;
          for (int64_t i = 0; i < x.numel(); ++i) ties += is_result(in[i]);
          Tensor shares = make_tensor(x.shape(), x.dtype());
          T* out = shares.data<T>();
          const T share = (recorded ? T(1) : *gy.data<T>()) / static_cast<T>(ties);
          for (int64_t i = 0; i < x.numel(); ++i) out[i] = is_result(in[i]) ? share : T(0);
          return shares;
        });
        return {recorded ? gy * g : g};
      });
}

}  // namespace

// The sum of a Bool tensor counts its true elements, as an Int64 (PyTorch's rule).
Tensor sum(const Tensor& x) { return full_sum(x.dtype() == Dtype::Bool ? x.to(Dtype::Int64) : x); }

Tensor sum(const Tensor& x, int64_t dim, bool keepdim) {
  if (x.dtype() == Dtype::Bool) return sum(x.to(Dtype::Int64), dim, keepdim);
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

ValuesIndices max(const Tensor& x, int64_t dim, bool keepdim) {
  return extreme_along(x, dim, keepdim, "max", [](auto a, auto b) { return a > b; });
}

ValuesIndices min(const Tensor& x, int64_t dim, bool keepdim) {
  return extreme_along(x, dim, keepdim, "min", [](auto a, auto b) { return a < b; });
}

ValuesIndices Tensor::max(int64_t dim, bool keepdim) const { return tg::max(*this, dim, keepdim); }
ValuesIndices Tensor::min(int64_t dim, bool keepdim) const { return tg::min(*this, dim, keepdim); }

Tensor argmax(const Tensor& x, int64_t dim) {
  dim = normalize_dim(dim, x.dim(), "argmax");
  const Lines lines = lines_along(x.shape(), dim);
  if (lines.extent == 0) {
    fail("argmax: dimension {} of shape {} is empty", dim, shape_str(x.shape()));
  }
  Tensor out = make_tensor(removed_dim_shape(x.shape(), dim), Dtype::Int64);
  int64_t* result = out.data<int64_t>();
  visit_dtype(x.dtype(), [&]<class T>() {
    const T* in = x.data<T>();
    for (int64_t o = 0; o < lines.outer; ++o) {
      for (int64_t i = 0; i < lines.inner; ++i) {
        result[o * lines.inner + i] = best_index(in + o * lines.extent * lines.inner + i,
                                                 lines.extent, lines.inner, std::greater<>());
      }
    }
  });
  return out;
}

}  // namespace tg
