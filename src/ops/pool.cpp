// max_pool2d, avg_pool2d and adaptive_avg_pool2d, with torch's options: dilation (max),
// ceil_mode, count_include_pad (avg). max_pool2d is a fused op: one pass finds each window's
// maximum and where it is (the first, or the last NaN, as torch's kernel), and its backward
// sends each gradient there. Its composed form (the windows as im2col's columns, reduced with
// max) gives the recorded backward under create_graph. avg_pool2d is fused the same way (each
// window's sum over its part inside the input, the backward spreading g/divisor over it);
// adaptive_avg_pool2d is built from recorded ops.

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

// One pooling's sizes: the window, the padding, the output, and the extra padding at the bottom
// and right that ceil_mode's last windows reach into (they are clipped to the padded input).
struct PoolGeometry {
  detail::Window window;
  Pair padding;
  int64_t h, w, out_h, out_w;
  int64_t extra_h, extra_w;
};

// torch's pooling_output_shape: the last window must start inside the input or its left pad.
// The division rounds towards −∞ (ATen's div_rtn): a window wider than the padded input gives
// no output, except with ceil_mode, where one window, clipped, covers it.
int64_t pooled_size(int64_t in, int64_t kernel, int64_t pad, int64_t stride, int64_t dilation,
                    bool ceil_mode) {
  const int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  const int64_t quotient = span / stride - (span % stride != 0 && span < 0 ? 1 : 0);
  int64_t out = quotient + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

// torch's checks; stride 0 means the kernel size.
PoolGeometry pool_geometry(const Tensor& x, Pair kernel, Pair stride, Pair padding, Pair dilation,
                           bool ceil_mode, const char* op) {
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
  if (dilation.h <= 0 || dilation.w <= 0) {
    fail("{}: dilation should be greater than zero, got ({}, {})", op, dilation.h, dilation.w);
  }
  if (padding.h < 0 || padding.w < 0 || padding.h > kernel.h / 2 || padding.w > kernel.w / 2) {
    fail(
        "{}: pad should be at least 0 and at most half of kernel size, got pad ({}, {}) for "
        "kernel ({}, {})",
        op, padding.h, padding.w, kernel.h, kernel.w);
  }
  const int64_t h = x.size(-2), w = x.size(-1);
  const int64_t reach_h = dilation.h * (kernel.h - 1) + 1,
                reach_w = dilation.w * (kernel.w - 1) + 1;
  PoolGeometry g{{kernel.h, kernel.w, stride.h, stride.w, dilation.h, dilation.w},
                 padding,
                 h,
                 w,
                 pooled_size(h, kernel.h, padding.h, stride.h, dilation.h, ceil_mode),
                 pooled_size(w, kernel.w, padding.w, stride.w, dilation.w, ceil_mode),
                 0,
                 0};
  if (g.out_h < 1 || g.out_w < 1) {
    fail("{}: output size is too small: kernel ({}, {}) over padded input ({}, {})", op, reach_h,
         reach_w, h + 2 * padding.h, w + 2 * padding.w);
  }
  g.extra_h = std::max<int64_t>(0, (g.out_h - 1) * stride.h + reach_h - (h + 2 * padding.h));
  g.extra_w = std::max<int64_t>(0, (g.out_w - 1) * stride.w + reach_w - (w + 2 * padding.w));
  return g;
}

Shape pooled_shape(const Tensor& x, const PoolGeometry& g) {
  Shape shape = x.shape();
  shape[shape.size() - 2] = g.out_h;
  shape[shape.size() - 1] = g.out_w;
  return shape;
}

// The windows of x [N, C, H, W] or [C, H, W], padded with `fill` (ceil_mode's extra rows and
// columns included): [N, C, kH·kW, L].
Tensor pool_columns(const Tensor& x, const PoolGeometry& g, double fill) {
  const Tensor batched = x.dim() == 3 ? x.unsqueeze(0) : x;
  const Pair p = g.padding;
  const Tensor padded = pad(batched, {p.w, p.w + g.extra_w, p.h, p.h + g.extra_h}, fill);
  return detail::im2col(padded, g.window);
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
Tensor composed_max_pool2d(const Tensor& x, const PoolGeometry& g) {
  const Tensor cols = pool_columns(x, g, -std::numeric_limits<double>::infinity());
  return max(cols, 2).values.reshape(pooled_shape(x, g));
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

// A count, not a flag: GCC vectorizes the sum of comparisons, not an or into a bool.
template <class T>
bool has_nan(const T* x, int64_t n) {
  int64_t found = 0;
  for (int64_t i = 0; i < n; ++i) found += x[i] != x[i] ? 1 : 0;
  return found != 0;
}

// One plane's window maxima into out and their flat positions in the [H·W] plane into where,
// visiting each window as torch's kernel does (its first row and column the first inside the
// input, then every dilation-th).
template <bool kNaN, class T>
void max_pool_plane(const T* plane, const PoolGeometry& g, T* out, int64_t* where) {
  const detail::Window& k = g.window;
  for (int64_t oh = 0; oh < g.out_h; ++oh) {
    const int64_t top = oh * k.sh - g.padding.h;
    int64_t i0 = top;
    const int64_t i1 = std::min(top + (k.kh - 1) * k.dh + 1, g.h);
    while (i0 < 0) i0 += k.dh;
    for (int64_t ow = 0; ow < g.out_w; ++ow) {
      const int64_t left = ow * k.sw - g.padding.w;
      int64_t j0 = left;
      const int64_t j1 = std::min(left + (k.kw - 1) * k.dw + 1, g.w);
      while (j0 < 0) j0 += k.dw;
      T best = -std::numeric_limits<T>::infinity();
      int64_t at = i0 * g.w + j0;
      for (int64_t i = i0; i < i1; i += k.dh) {
        for (int64_t j = j0; j < j1; j += k.dw)
          consider<kNaN>(plane[i * g.w + j], i * g.w + j, best, at);
      }
      *out++ = best;
      *where++ = at;
    }
  }
}

// The same for a 2×2 window with stride 2 and no padding, dilation or ceil mode (the common
// one), every window inside the plane: one output row at a time from two input rows, the four
// candidates in torch's order. The winner's place in its window (0–3) is kept as a 32-bit code
// beside the 32-bit values, so the loop vectorizes (branch-free), and becomes a position after.
template <bool kNaN, class T>
void max_pool_plane_2x2(const T* plane, const PoolGeometry& g, T* __restrict out,
                        int64_t* __restrict where) {
  const int64_t w = g.w;
  constexpr int64_t kChunk = 64;
  int32_t code[kChunk];
  for (int64_t oh = 0; oh < g.out_h; ++oh) {
    const int64_t top = oh * 2 * w;
    const T* a = plane + top;
    const T* b = a + w;
    for (int64_t start = 0; start < g.out_w; start += kChunk) {
      const int64_t n = std::min(kChunk, g.out_w - start);
      T* o = out + oh * g.out_w + start;
      const T* a0 = a + 2 * start;
      const T* b0 = b + 2 * start;
      for (int64_t i = 0; i < n; ++i) {
        T best = a0[2 * i];
        int32_t c = 0;
        const T candidates[3] = {a0[2 * i + 1], b0[2 * i], b0[2 * i + 1]};
        for (int32_t k = 0; k < 3; ++k) {
          bool take = candidates[k] > best;
          if constexpr (kNaN) take = take || candidates[k] != candidates[k];  // the last NaN
          best = take ? candidates[k] : best;
          c = take ? k + 1 : c;
        }
        o[i] = best;
        code[i] = c;
      }
      int64_t* at = where + oh * g.out_w + start;
      for (int64_t i = 0; i < n; ++i) {
        at[i] = top + 2 * (start + i) + (code[i] & 1) + (code[i] >> 1) * w;
      }
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
void max_pool_planes(const T* x, int64_t planes, const PoolGeometry& g, T* out, int64_t* where) {
  const detail::Window& k = g.window;
  const bool two_by_two = k.kh == 2 && k.kw == 2 && k.sh == 2 && k.sw == 2 && k.dh == 1 &&
                          k.dw == 1 && g.padding.h == 0 && g.padding.w == 0 && g.extra_h == 0 &&
                          g.extra_w == 0;
  const int64_t in_plane = g.h * g.w, out_plane = g.out_h * g.out_w;
  for_plane_ranges(planes, in_plane, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const T* plane = x + p * in_plane;
      const auto pool =
          has_nan(plane, in_plane)
              ? (two_by_two ? max_pool_plane_2x2<true, T> : max_pool_plane<true, T>)
              : (two_by_two ? max_pool_plane_2x2<false, T> : max_pool_plane<false, T>);
      pool(plane, g, out + p * out_plane, where + p * out_plane);
    }
  });
}

// avg_pool2d's divisor at each output position: torch's pool_size, the window clipped to the
// padded input (count_include_pad) or to the input itself.
Tensor average_divisors(const PoolGeometry& g, bool count_include_pad, Dtype dtype) {
  const detail::Window& k = g.window;
  std::vector<double> divisors;
  divisors.reserve(static_cast<size_t>(g.out_h * g.out_w));
  for (int64_t oh = 0; oh < g.out_h; ++oh) {
    const int64_t h0 = oh * k.sh - g.padding.h, h1 = std::min(h0 + k.kh, g.h + g.padding.h);
    for (int64_t ow = 0; ow < g.out_w; ++ow) {
      const int64_t w0 = ow * k.sw - g.padding.w, w1 = std::min(w0 + k.kw, g.w + g.padding.w);
      const int64_t inside = (std::min(h1, g.h) - std::max<int64_t>(h0, 0)) *
                             (std::min(w1, g.w) - std::max<int64_t>(w0, 0));
      divisors.push_back(static_cast<double>(count_include_pad ? (h1 - h0) * (w1 - w0) : inside));
    }
  }
  return from_vector(std::move(divisors), {g.out_h * g.out_w}).to(dtype);
}

}  // namespace

Tensor max_pool2d(const Tensor& x, Pair kernel_size, Pair stride, Pair padding, Pair dilation,
                  bool ceil_mode) {
  const PoolGeometry g =
      pool_geometry(x, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d");
  if (x.numel() == 0) return composed_max_pool2d(x, g);
  const Shape out_shape = pooled_shape(x, g);
  Tensor y = make_tensor(out_shape, x.dtype());
  Tensor where = make_tensor(out_shape, Dtype::Int64);
  const int64_t plane = g.h * g.w, planes = x.numel() / plane;
  visit_floating(x, "max_pool2d", [&]<class T>() {
    max_pool_planes(x.data<T>(), planes, g, y.data<T>(), where.data<int64_t>());
  });
  return record(
      "max_pool2d", y, {x}, [saved = SavedTensor(x), where, g, plane, planes](const Tensor& gy) {
        if (creating_graph()) {
          return detail::composed_backward(
              [&](const std::vector<Tensor>& in) { return composed_max_pool2d(in[0], g); },
              {saved.get()}, gy);
        }
        const Tensor& x = saved;
        Tensor dx = zeros(x.shape(), {.dtype = x.dtype()});
        const int64_t per_plane = g.out_h * g.out_w;
        visit_floating(x, "max_pool2d_backward", [&]<class T>() {
          const T* grad = gy.data<T>();
          const int64_t* at = where.data<int64_t>();
          T* into = dx.data<T>();
          for_plane_ranges(planes, plane, [&](int64_t begin, int64_t end) {
            for (int64_t p = begin; p < end; ++p) {
              T* into_plane = into + p * plane;
              for (int64_t k = p * per_plane; k < (p + 1) * per_plane; ++k) {
                into_plane[at[k]] += grad[k];
              }
            }
          });
        });
        return Grads{dx};
      });
}

namespace {

// avg_pool2d from recorded ops, for its recorded backward: each window's sum over the padded
// columns (zeros in the padding) divided by its divisor.
Tensor composed_avg_pool2d(const Tensor& x, const PoolGeometry& g, const Tensor& divisors) {
  const Tensor sums = sum(pool_columns(x, g, 0), 2);  // [N, C, L]
  return (sums / divisors).reshape(pooled_shape(x, g));
}

// The rows [first, last) of the input a window starting at `start` covers (padding read as 0).
struct Span {
  int64_t first, last;
};
Span window_span(int64_t start, int64_t kernel, int64_t size) {
  return {std::max<int64_t>(start, 0), std::min(start + kernel, size)};
}

// A per-thread scratch row of at least n values (the planes may run on several threads).
template <class V>
std::vector<V>& thread_row(int64_t n) {
  thread_local std::vector<V> row;
  if (static_cast<int64_t>(row.size()) < n) row.resize(static_cast<size_t>(n));
  return row;
}

// The output columns [first, last) whose window column kj lies inside the input.
Span inside_columns(const PoolGeometry& g, int64_t kj) {
  const int64_t offset = kj - g.padding.w, stride = g.window.sw;
  const int64_t first = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  const int64_t last = offset >= g.w ? 0 : std::min(g.out_w, (g.w - 1 - offset) / stride + 1);
  return {std::min(first, last), last};
}

// For each output row of each plane, f(plane, oh, visit) where visit(each) calls
// each(input row i, window column kj, output columns) for the window rows and columns inside
// the input, in the order i, then kj: each window's elements come row by row, and the loop
// over output columns is innermost, so it vectorizes.
template <class F>
void for_each_output_row(int64_t planes, const PoolGeometry& g, const F& f) {
  for_plane_ranges(planes, g.h * g.w, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      for (int64_t oh = 0; oh < g.out_h; ++oh) {
        const Span rows = window_span(oh * g.window.sh - g.padding.h, g.window.kh, g.h);
        f(p, oh, [&](const auto& each) {
          for (int64_t i = rows.first; i < rows.last; ++i) {
            for (int64_t kj = 0; kj < g.window.kw; ++kj) each(i, kj, inside_columns(g, kj));
          }
        });
      }
    }
  });
}

}  // namespace

Tensor avg_pool2d(const Tensor& x, Pair kernel_size, Pair stride, Pair padding, bool ceil_mode,
                  bool count_include_pad) {
  const PoolGeometry g = pool_geometry(x, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d");
  const Tensor divisors = average_divisors(g, count_include_pad, x.dtype());
  if (x.numel() == 0) return composed_avg_pool2d(x, g, divisors);
  // Fused: each window summed in double over its part inside the input, row by row (the
  // composed form's order), rounded, then divided; the backward spreads g/divisor over it.
  const int64_t plane = g.h * g.w, planes = x.numel() / plane, per_plane = g.out_h * g.out_w;
  Tensor y = make_tensor(pooled_shape(x, g), x.dtype());
  visit_floating(x, "avg_pool2d", [&]<class T>() {
    const T *in = x.data<T>(), *divisor = divisors.data<T>();
    T* out = y.data<T>();
    for_each_output_row(planes, g, [&](int64_t p, int64_t oh, const auto& visit) {
      std::vector<double>& total = thread_row<double>(g.out_w);
      std::fill(total.begin(), total.end(), 0.0);
      const T* image = in + p * plane;
      visit([&](int64_t i, int64_t kj, Span cols) {
        const int64_t at = i * g.w + kj - g.padding.w;  // input offset of output column 0
        for (int64_t ow = cols.first; ow < cols.last; ++ow) {
          total[ow] += image[at + ow * g.window.sw];
        }
      });
      T* row = out + p * per_plane + oh * g.out_w;
      const T* d = divisor + oh * g.out_w;
      for (int64_t ow = 0; ow < g.out_w; ++ow) row[ow] = static_cast<T>(total[ow]) / d[ow];
    });
  });
  return record("avg_pool2d", y, {x},
                [saved = SavedTensor(x), g, divisors, plane, planes, per_plane](const Tensor& gy) {
                  const Tensor& x = saved;
                  if (creating_graph()) {
                    return detail::composed_backward(
                        [&](const std::vector<Tensor>& in) {
                          return composed_avg_pool2d(in[0], g, divisors);
                        },
                        {saved.get()}, gy);
                  }
                  Tensor dx = zeros(x.shape(), {.dtype = x.dtype()});
                  visit_floating(x, "avg_pool2d_backward", [&]<class T>() {
                    const T *grad = gy.data<T>(), *divisor = divisors.data<T>();
                    T* into = dx.data<T>();
                    for_each_output_row(planes, g, [&](int64_t p, int64_t oh, const auto& visit) {
                      const T* g_row = grad + p * per_plane + oh * g.out_w;
                      const T* d = divisor + oh * g.out_w;
                      std::vector<T>& share = thread_row<T>(g.out_w);
                      for (int64_t ow = 0; ow < g.out_w; ++ow) share[ow] = g_row[ow] / d[ow];
                      T* image = into + p * plane;
                      visit([&](int64_t i, int64_t kj, Span cols) {
                        const int64_t at = i * g.w + kj - g.padding.w;
                        for (int64_t ow = cols.first; ow < cols.last; ++ow) {
                          image[at + ow * g.window.sw] += share[ow];
                        }
                      });
                    });
                  });
                  return Grads{dx};
                });
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
