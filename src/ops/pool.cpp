// max_pool2d, avg_pool2d (torch's defaults: ceil_mode=False, count_include_pad=True) and
// adaptive_avg_pool2d, from recorded ops: the pooling windows are im2col's columns, reduced
// with max (whose gradient goes to the first maximum, as torch's) or mean.

#include <tapegrad/error.hpp>
#include <tapegrad/nn/functional.hpp>
#include <tapegrad/ops.hpp>

#include "ops/im2col.hpp"
#include "ops/kernels.hpp"

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

}  // namespace

Tensor max_pool2d(const Tensor& x, Pair kernel_size, Pair stride, Pair padding) {
  const detail::Window g = pool_window(x, kernel_size, stride, padding, "max_pool2d");
  Shape out_shape;
  const double inf = std::numeric_limits<double>::infinity();
  const Tensor cols = pool_columns(x, g, padding, -inf, out_shape);
  return max(cols, 2).values.reshape(out_shape);
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
