// conv2d / conv1d as im2col + one batched GEMM: the columns [N, C·kH·kW, L] of the padded input
// (src/ops/im2col.hpp) multiplied by the weight viewed as [O, C·kH·kW] (per group). Every step is
// a recorded op, so the backward is col2im(Wᵀ·g) for the input, g·colsᵀ for the weight and
// Σ g for the bias, and it is itself differentiable.

#include <tapegrad/error.hpp>
#include <tapegrad/nn/functional.hpp>
#include <tapegrad/ops.hpp>

#include "ops/im2col.hpp"
#include "ops/kernels.hpp"

namespace tg::nn::functional {
namespace {

void check_conv_options(const ConvOptions& o, const char* op) {
  if (o.stride.h <= 0 || o.stride.w <= 0) {
    fail("{}: non-positive stride is not supported, got ({}, {})", op, o.stride.h, o.stride.w);
  }
  if (o.padding.h < 0 || o.padding.w < 0) {
    fail("{}: negative padding is not supported, got ({}, {})", op, o.padding.h, o.padding.w);
  }
  if (o.dilation.h <= 0 || o.dilation.w <= 0) {
    fail("{}: dilation should be greater than zero, got ({}, {})", op, o.dilation.h, o.dilation.w);
  }
  if (o.groups <= 0) fail("{}: non-positive groups is not supported, got {}", op, o.groups);
}

// torch's checks, with its wording: weight 4-d, channels = groups · weight.size(1), O divisible
// by groups, bias [O], and a kernel that fits the padded input.
void check_conv_shapes(const Tensor& x, const Tensor& weight, const Tensor& bias,
                       const ConvOptions& o, const char* op) {
  require_floating(weight, op);
  require_same_dtype(x, weight, op);
  if (weight.dim() != 4) fail("{}: expected a 4-d weight, got {}", op, shape_str(weight.shape()));
  if (x.dim() != 4) {
    fail("{}: expected 3D (unbatched) or 4D (batched) input, got input of size {}", op,
         shape_str(x.shape()));
  }
  if (weight.size(0) % o.groups != 0) {
    fail("{}: given groups={}, expected weight {} to be divisible by {} at dimension 0", op,
         o.groups, shape_str(weight.shape()), o.groups);
  }
  if (x.size(1) != weight.size(1) * o.groups) {
    fail(
        "{}: given groups={}, weight of size {}, expected input {} to have {} channels, but got "
        "{} channels instead",
        op, o.groups, shape_str(weight.shape()), shape_str(x.shape()), weight.size(1) * o.groups,
        x.size(1));
  }
  if (bias.defined() && bias.shape() != Shape{weight.size(0)}) {
    fail("{}: expected bias [{}], got {}", op, weight.size(0), shape_str(bias.shape()));
  }
  const int64_t h = x.size(2) + 2 * o.padding.h, w = x.size(3) + 2 * o.padding.w;
  const int64_t kh = o.dilation.h * (weight.size(2) - 1) + 1;
  const int64_t kw = o.dilation.w * (weight.size(3) - 1) + 1;
  if (kh > h || kw > w) {
    fail(
        "{}: calculated padded input size per channel: ({} x {}). Kernel size: ({} x {}). "
        "Kernel size can't be greater than actual input size",
        op, h, w, kh, kw);
  }
}

// x [N, C, H, W], checked → [N, O, H_out, W_out].
Tensor conv2d_batched(const Tensor& x, const Tensor& weight, const Tensor& bias,
                      const ConvOptions& o) {
  const detail::Window g{weight.size(2), weight.size(3), o.stride.h,
                         o.stride.w,     o.dilation.h,   o.dilation.w};
  const Tensor padded = pad(x, {o.padding.w, o.padding.w, o.padding.h, o.padding.h});
  const int64_t n = x.size(0), out = weight.size(0), groups = o.groups;
  const int64_t oh = g.out_h(padded.size(2)), ow = g.out_w(padded.size(3));
  const int64_t k = weight.size(1) * g.kh * g.kw;
  const Tensor cols = detail::im2col(padded, g).reshape({n, groups, k, oh * ow});
  // [G, O/G, K] · [N, G, K, L] → [N, G, O/G, L], the batch dims broadcast.
  Tensor y = matmul(weight.reshape({groups, out / groups, k}), cols).reshape({n, out, oh, ow});
  if (bias.defined()) y = y + bias.reshape({1, out, 1, 1});
  return y;
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
              const ConvOptions& options) {
  check_conv_options(options, "conv2d");
  const bool unbatched = x.dim() == 3;
  const Tensor batched = unbatched ? x.unsqueeze(0) : x;
  check_conv_shapes(batched, weight, bias, options, "conv2d");
  const Tensor y = conv2d_batched(batched, weight, bias, options);
  return unbatched ? y.squeeze(0) : y;
}

Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias,
              const ConvOptions& options) {
  const auto single = [](Pair p, const char* what) {
    if (p.h != p.w) fail("conv1d: {} must be one number, got ({}, {})", what, p.h, p.w);
    return p.w;
  };
  const ConvOptions o{.stride = {1, single(options.stride, "stride")},
                      .padding = {0, single(options.padding, "padding")},
                      .dilation = {1, single(options.dilation, "dilation")},
                      .groups = options.groups,
                      .bias = options.bias};
  check_conv_options(o, "conv1d");
  if (weight.dim() != 3) fail("conv1d: expected a 3-d weight, got {}", shape_str(weight.shape()));
  if (x.dim() != 2 && x.dim() != 3) {
    fail("conv1d: expected 2D (unbatched) or 3D (batched) input, got input of size {}",
         shape_str(x.shape()));
  }
  const bool unbatched = x.dim() == 2;
  const Tensor batched = (unbatched ? x.unsqueeze(0) : x).unsqueeze(2);  // [N, C, 1, L]
  const Tensor w = weight.unsqueeze(2);                                  // [O, C/G, 1, k]
  check_conv_shapes(batched, w, bias, o, "conv1d");
  const Tensor y = conv2d_batched(batched, w, bias, o).squeeze(2);
  return unbatched ? y.squeeze(0) : y;
}

}  // namespace tg::nn::functional
