// max_pool2d, avg_pool2d (torch's defaults: ceil_mode=False, count_include_pad=True) and
// adaptive_avg_pool2d. max_pool2d is a fused op: one pass finds each window's maximum and where
// it is (the first, or the last NaN, as torch's kernel), and its backward sends each gradient
// there. Its composed form (the windows as im2col's columns, reduced with max) gives the
// recorded backward under create_graph. The others are built from recorded ops.

#include <tapegrad/error.hpp>
#include <tapegrad/nn/functional.hpp>
#include <tapegrad/ops.hpp>
#include <tapegrad/threads.hpp>

#include "autograd/composed_backward.hpp"
#include "ops/im2col.hpp"
#include "ops/kernels.hpp"
#include "thread_pool.hpp"

#include <limits>

namespace tg::nn::functional {
namespace {

// torch's checks; returns the window with stride 0 replaced by the kernel size.
detail::Window pool_window(const Tensor& x, Pair kernel, Pair stride, Pair padding,
                           const char* op) {
  require_floating(x, op);
  if (x.dim() != 3 && x.dim() != 4) {
    fail("{}: expected 3D or 4D input, got {}", op, shape_str(x.shape()));
  }
  if (kernel.h <= 0 || kernel.w <= 0) {
    fail("{}: kernel size should be greater than zero, got ({}, {})", op, kernel.h, kernel.w);
  }
  if (stride.h == 0 && stride.w == 0) stride = kernel;
  if (stride.h <= 0 || stride.w <= 0) {
    fail("{}: stride should be greater than zero, got ({}, {})", op, stride.h, stride.w);
  }
  if (padding.h < 0 || padding.w < 0 || padding.h > kernel.h / 2 || padding.w > kernel.w / 2) {
    fail(
        "{}: pad should be at least 0 and at most half of kernel size, got pad ({}, {}) for "
        "kernel ({}, {})",
        op, padding.h, padding.w, kernel.h, kernel.w);
  }
  const int64_t h = x.size(-2) + 2 * padding.h, w = x.size(-1) + 2 * padding.w;
  if (kernel.h > h || kernel.w > w) {
    fail("{}: output size is too small: kernel ({}, {}) over padded input ({}, {})", op, kernel.h,
         kernel.w, h, w);
  }
  return {kernel.h, kernel.w, stride.h, stride.w, 1, 1};
}

// The windows of x [N, C, H, W] or [C, H, W], padded with `fill`: [N, C, kH·kW, L] and the
// output's shape.
Tensor pool_columns(const Tensor& x, const detail::Window& g, Pair padding, double fill,
                    Shape& out_shape) {
  const Tensor batched = x.dim() == 3 ? x.unsqueeze(0) : x;
  const Tensor padded = pad(batched, {padding.w, padding.w, padding.h, padding.h}, fill);
  out_shape = x.shape();
  out_shape[out_shape.size() - 2] = g.out_h(padded.size(2));
  out_shape[out_shape.size() - 1] = g.out_w(padded.size(3));
  return detail::im2col(padded, g);
}

// Means over [⌊i·In/Out⌋, ⌈(i+1)·In/Out⌉) along dim; the 2-d means are two 1-d ones.
Tensor adaptive_mean(const Tensor& x, int64_t dim, int64_t out) {
  const int64_t in = x.size(dim);
  std::vector<Tensor> parts;
  parts.reserve(static_cast<size_t>(out));
  for (int64_t i = 0; i < out; ++i) {
    const int64_t start = i * in / out, end = ((i + 1) * in + out - 1) / out;
    parts.push_back(x.narrow(dim, start, end - start).mean(dim, true));
  }
  return cat(parts, dim);
}

// max_pool2d from recorded ops, for its recorded backward.
Tensor composed_max_pool2d(const Tensor& x, const detail::Window& g, Pair padding) {
  Shape out_shape;
  const double inf = std::numeric_limits<double>::infinity();
  const Tensor cols = pool_columns(x, g, padding, -inf, out_shape);
  return max(cols, 2).values.reshape(out_shape);
}

// torch's update: the first strict maximum of a window, or its last NaN (v != v). A plane
// without NaN takes the plain comparison, which compiles to selects instead of branches.
template <bool kNaN, class T>
void consider(T v, int64_t position, T& best, int64_t& at) {
  bool take = v > best;
  if constexpr (kNaN) take = take || v != v;
  best = take ? v : best;
  at = take ? position : at;
}

template <class T>
bool has_nan(const T* x, int64_t n) {
  bool found = false;
  for (int64_t i = 0; i < n; ++i) found |= x[i] != x[i];
  return found;
}

// One plane's window maxima into out and their flat positions in the [H·W] plane into where.
// The kernel size is a template argument when it is 2×2 (K = 2, no padding: the loops over a
// window unroll), 0 for any other.
template <int K, bool kNaN, class T>
void max_pool_plane(const T* plane, int64_t h, int64_t w, const detail::Window& g, Pair padding,
                    int64_t out_h, int64_t out_w, T* out, int64_t* where) {
  const int64_t kh = K > 0 ? K : g.kh, kw = K > 0 ? K : g.kw;
  for (int64_t oh = 0; oh < out_h; ++oh) {
    const int64_t top = oh * g.sh - padding.h;
    const int64_t i0 = std::max<int64_t>(top, 0), i1 = std::min(top + kh, h);
    for (int64_t ow = 0; ow < out_w; ++ow) {
      const int64_t left = ow * g.sw - padding.w;
      const int64_t j0 = std::max<int64_t>(left, 0), j1 = std::min(left + kw, w);
      T best = -std::numeric_limits<T>::infinity();
      int64_t at = i0 * w + j0;
      if constexpr (K > 0) {  // the window is inside the plane
        for (int64_t i = 0; i < K; ++i) {
          for (int64_t j = 0; j < K; ++j) {
            const int64_t position = (top + i) * w + left + j;
            consider<kNaN>(plane[position], position, best, at);
          }
        }
      } else {
        for (int64_t i = i0; i < i1; ++i) {
          for (int64_t j = j0; j < j1; ++j) consider<kNaN>(plane[i * w + j], i * w + j, best, at);
        }
      }
      *out++ = best;
      *where++ = at;
    }
  }
}

// Below this many input elements a second thread costs about what it saves.
constexpr int64_t kParallelPoolElements = int64_t{1} << 15;

// f(begin, end) over [0, planes): once, or for one run of planes per thread. Planes are
// independent, so the bits do not depend on the split.
template <class F>
void for_plane_ranges(int64_t planes, int64_t plane_size, const F& f) {
  const int parts = static_cast<int>(std::min<int64_t>(num_threads(), planes));
  if (parts <= 1 || planes * plane_size < kParallelPoolElements) return f(int64_t{0}, planes);
  tg::detail::run_parts(parts,
                        [&](int part) { f(planes * part / parts, planes * (part + 1) / parts); });
}

template <class T>
void max_pool_planes(const T* x, int64_t planes, int64_t h, int64_t w, const detail::Window& g,
                     Pair padding, int64_t out_h, int64_t out_w, T* out, int64_t* where) {
  const bool two_by_two = g.kh == 2 && g.kw == 2 && padding.h == 0 && padding.w == 0;
  for_plane_ranges(planes, h * w, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const T* plane = x + p * h * w;
      const auto pool =
          has_nan(plane, h * w)
              ? (two_by_two ? max_pool_plane<2, true, T> : max_pool_plane<0, true, T>)
              : (two_by_two ? max_pool_plane<2, false, T> : max_pool_plane<0, false, T>);
      pool(plane, h, w, g, padding, out_h, out_w, out + p * out_h * out_w,
           where + p * out_h * out_w);
    }
  });
}

}  // namespace

Tensor max_pool2d(const Tensor& x, Pair kernel_size, Pair stride, Pair padding) {
  const detail::Window g = pool_window(x, kernel_size, stride, padding, "max_pool2d");
  if (x.numel() == 0) return composed_max_pool2d(x, g, padding);
  const int64_t h = x.size(-2), w = x.size(-1), planes = x.numel() / (h * w);
  const int64_t out_h = g.out_h(h + 2 * padding.h), out_w = g.out_w(w + 2 * padding.w);
  Shape out_shape = x.shape();
  out_shape[out_shape.size() - 2] = out_h;
  out_shape[out_shape.size() - 1] = out_w;
  Tensor y = make_tensor(out_shape, x.dtype());
  Tensor where = make_tensor(out_shape, Dtype::Int64);
  visit_floating(x, "max_pool2d", [&]<class T>() {
    max_pool_planes(x.data<T>(), planes, h, w, g, padding, out_h, out_w, y.data<T>(),
                    where.data<int64_t>());
  });
  return record(
      "max_pool2d", y, {x},
      [saved = SavedTensor(x), where, g, padding, plane = h * w](const Tensor& gy) {
        if (creating_graph()) {
          return detail::composed_backward(
              [&](const std::vector<Tensor>& in) { return composed_max_pool2d(in[0], g, padding); },
              {saved.get()}, gy);
        }
        const Tensor& x = saved;
        Tensor dx = zeros(x.shape(), {.dtype = x.dtype()});
        const int64_t per_plane = where.numel() / (x.numel() / plane);
        visit_floating(x, "max_pool2d_backward", [&]<class T>() {
          const T* grad = gy.data<T>();
          const int64_t* at = where.data<int64_t>();
          T* into = dx.data<T>();
          for_plane_ranges(where.numel() / per_plane, plane, [&](int64_t begin, int64_t end) {
            for (int64_t k = begin * per_plane; k < end * per_plane; ++k) {
              into[(k / per_plane) * plane + at[k]] += grad[k];
            }
          });
        });
        return Grads{dx};
      });
}

Tensor avg_pool2d(const Tensor& x, Pair kernel_size, Pair stride, Pair padding) {
  const detail::Window g = pool_window(x, kernel_size, stride, padding, "avg_pool2d");
  Shape out_shape;
  return mean(pool_columns(x, g, padding, 0, out_shape), 2).reshape(out_shape);
}

Tensor adaptive_avg_pool2d(const Tensor& x, Pair output_size) {
  require_floating(x, "adaptive_avg_pool2d");
  if (x.dim() != 3 && x.dim() != 4) {
    fail("adaptive_avg_pool2d: expected 3D or 4D input, got {}", shape_str(x.shape()));
  }
  if (output_size.h <= 0 || output_size.w <= 0 || x.size(-2) == 0 || x.size(-1) == 0) {
    fail(
        "adaptive_avg_pool2d: expected a positive output size and non-empty input, got ({}, {}) "
        "for input {}",
        output_size.h, output_size.w, shape_str(x.shape()));
  }
  return adaptive_mean(adaptive_mean(x, x.dim() - 2, output_size.h), x.dim() - 1, output_size.w);
}

}  // namespace tg::nn::functional
