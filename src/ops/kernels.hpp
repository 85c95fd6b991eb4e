#pragma once

// Private building blocks of the ops: dtype dispatch and the elementwise / broadcast loops.
// Everything is a template so the per-element function inlines (no virtual call per element).

#include <tapegrad/error.hpp>
#include <tapegrad/tensor.hpp>
#include <tapegrad/threads.hpp>

#include "tensor/tensor_impl.hpp"
#include "thread_pool.hpp"

#include <array>
#include <cstdint>
#include <vector>

namespace tg {

/// Calls f.template operator()<T>() with T the C++ type stored by `dtype`.
template <class F>
decltype(auto) visit_dtype(Dtype dtype, F&& f) {
  switch (dtype) {
    case Dtype::Float32:
      return f.template operator()<float>();
    case Dtype::Float64:
      return f.template operator()<double>();
    case Dtype::Int64:
      break;
    case Dtype::Bool:
      return f.template operator()<bool>();
  }
  return f.template operator()<int64_t>();
}

/// What a backward closure captures of a tensor, unless `needed` is false (the gradient that
/// uses it is not asked for): see SavedTensor.
inline SavedTensor saved_for_backward(const Tensor& t, bool needed = true) {
  return needed && t.defined() ? SavedTensor(t) : SavedTensor();
}

/// True inside a backward function run with create_graph (the engine turns grad mode on only
/// then): its gradient must be built from recorded ops, so it can be differentiated again. A
/// fused first-order kernel is used only when this is false.
inline bool creating_graph() { return is_grad_enabled(); }

/// Throws unless x has a floating dtype; `op` names the caller.
inline void require_floating(const Tensor& x, const char* op) {
  if (!is_floating(x.dtype())) {
    fail("{}: expected a Float32 or Float64 tensor, got {} of shape {}", op, x.dtype(),
         shape_str(x.shape()));
  }
}

/// Like visit_dtype, for ops defined on Float32 and Float64 only.
template <class F>
decltype(auto) visit_floating(const Tensor& x, const char* op, F&& f) {
  require_floating(x, op);
  if (x.dtype() == Dtype::Float32) return f.template operator()<float>();
  return f.template operator()<double>();
}

/// Throws unless a and b have the same dtype.
inline void require_same_dtype(const Tensor& a, const Tensor& b, const char* op) {
  if (a.dtype() != b.dtype()) {
    fail("{}: dtypes differ: {} {} and {} {}", op, a.dtype(), shape_str(a.shape()), b.dtype(),
         shape_str(b.shape()));
  }
}

/// Elementwise loops of at least this many elements are split across tapegrad's threads; below,
/// waking a second thread costs about what it saves.
constexpr int64_t kParallelElements = int64_t{1} << 16;

/// loop(begin, end) over [0, n): once, or one contiguous range per thread. Each element is
/// computed by one call with the same arithmetic, so the bits do not depend on the split.
template <class F>
void for_element_ranges(int64_t n, const F& loop) {
  const int threads = n < kParallelElements ? 1 : num_threads();
  if (threads <= 1) return loop(int64_t{0}, n);
  detail::run_parts(threads, [&](int part) { loop(n * part / threads, n * (part + 1) / threads); });
}

/// y[i] = f(x[i]) for a floating x.
template <class F>
Tensor map_elements(const Tensor& x, const char* op, F f) {
  return visit_floating(x, op, [&]<class T>() {
    Tensor y = make_tensor(x.shape(), x.dtype());
    const T* in = x.data<T>();
    T* out = y.data<T>();
    for_element_ranges(x.numel(), [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) out[i] = f(in[i]);
    });
    return y;
  });
}

/// y[i] = f(a[i], b[i]) for same-shape, same-dtype floating a and b (used by backward rules).
template <class F>
Tensor zip_elements(const Tensor& a, const Tensor& b, const char* op, F f) {
  require_same_dtype(a, b, op);
  if (a.shape() != b.shape()) {
    fail("{}: shapes differ: {} and {}", op, shape_str(a.shape()), shape_str(b.shape()));
  }
  return visit_floating(a, op, [&]<class T>() {
    Tensor y = make_tensor(a.shape(), a.dtype());
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* out = y.data<T>();
    for_element_ranges(a.numel(), [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) out[i] = f(pa[i], pb[i]);
    });
    return y;
  });
}

/// Strides, in elements, that walk a tensor of shape `in` as if it had the broadcast shape
/// `out`: 0 along dimensions that broadcasting adds or stretches.
inline std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out) {
  std::vector<int64_t> strides(out.size(), 0);
  const std::vector<int64_t> own = contiguous_strides(in);
  const size_t offset = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) strides[offset + i] = in[i] == 1 ? 0 : own[i];
  return strides;
}

/// Walks the rows (all dimensions but the last) of `shape` in row-major order, calling
/// row(row_index, offsets) where offsets[k] is the row's start under strides[k].
template <size_t K, class F>
void for_each_row(const Shape& shape, const std::array<std::vector<int64_t>, K>& strides, F row) {
  const int64_t total = shape_numel(shape);
  if (total == 0) return;
  const int64_t inner = shape.empty() ? 1 : shape.back();
  const int64_t rows = total / inner;
  const int64_t outer_rank = shape.empty() ? 0 : static_cast<int64_t>(shape.size()) - 1;
  std::vector<int64_t> index(outer_rank, 0);
  std::array<int64_t, K> offsets{};
  for (int64_t r = 0; r < rows; ++r) {
    row(r, offsets);
    // Odometer increment of the outer index, keeping every offset in step.
    for (int64_t d = outer_rank - 1; d >= 0; --d) {
      for (size_t k = 0; k < K; ++k) offsets[k] += strides[k][d];
      if (++index[d] < shape[d]) break;
      for (size_t k = 0; k < K; ++k) offsets[k] -= strides[k][d] * shape[d];
      index[d] = 0;
    }
  }
}

/// out = f(a, b) with NumPy broadcasting; a and b share a dtype T.
template <class T, class F>
Tensor broadcast_elements(const Tensor& a, const Tensor& b, const Shape& out_shape, F f) {
  Tensor out = make_tensor(out_shape, a.dtype());
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  T* po = out.data<T>();
  const int64_t n = out.numel();
  // Fast paths for the common cases: equal shapes and a scalar on either side.
  if (a.shape() == b.shape()) {
    for_element_ranges(n, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) po[i] = f(pa[i], pb[i]);
    });
  } else if (b.numel() == 1 && a.shape() == out_shape) {
    const T s = pb[0];
    for_element_ranges(n, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) po[i] = f(pa[i], s);
    });
  } else if (a.numel() == 1 && b.shape() == out_shape) {
    const T s = pa[0];
    for_element_ranges(n, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) po[i] = f(s, pb[i]);
    });
  } else {
    const std::array<std::vector<int64_t>, 2> strides{broadcast_strides(a.shape(), out_shape),
                                                      broadcast_strides(b.shape(), out_shape)};
    const int64_t inner = out_shape.back();
    const int64_t step_a = strides[0].back();
    const int64_t step_b = strides[1].back();
    for_each_row(out_shape, strides, [&](int64_t r, const std::array<int64_t, 2>& offsets) {
      T* row = po + r * inner;
      for (int64_t j = 0; j < inner; ++j) {
        row[j] = f(pa[offsets[0] + j * step_a], pb[offsets[1] + j * step_b]);
      }
    });
  }
  return out;
}

/// A 0-d tensor holding `value` in `dtype`.
inline Tensor scalar_tensor(double value, Dtype dtype) {
  Tensor s = make_tensor({}, dtype);
  visit_dtype(dtype, [&]<class T>() { *s.data<T>() = static_cast<T>(value); });
  return s;
}

}  // namespace tg
