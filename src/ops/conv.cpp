// conv2d / conv1d: their checks, padding, the record on the tape and the composed form. The
// fused kernels (im2col + GEMM for each group and each sample, or a few samples side by side
// when the output is small; col2im and GEMMs backward) are in conv_kernels.cpp. The composed
// form (im2col as a recorded gather, one batched matmul) gives the recorded backward under
// create_graph.

#include <tapegrad/error.hpp>
#include <tapegrad/nn/functional.hpp>
#include <tapegrad/ops.hpp>

#include "autograd/composed_backward.hpp"
#include "ops/conv_checks.hpp"
#include "ops/conv_kernels.hpp"
#include "ops/conv_padding.hpp"
#include "ops/im2col.hpp"
#include "ops/kernels.hpp"

#include <algorithm>
#include <string>
#include <string_view>

namespace tg::nn::functional {
namespace {

void check_conv_options(const ConvOptions& o, const char* op) {
  conv_padding::check(o, op);
  conv_checks::check_window(o.stride, o.padding, o.dilation, o.groups, op);
}

// torch's checks, with its wording: weight 4-d, channels = groups · weight.size(1), O divisible
// by groups, bias [O], and a kernel that fits the padded input.
void check_conv_shapes(const Tensor& x, const Tensor& weight, const Tensor& bias,
                       const ConvOptions& o, const char* op) {
  conv_checks::check_ranks(x, weight, o.groups, op);
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
  if (bias.defined()) require_same_dtype(x, bias, op);
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

// The input and options a convolution without "same" and without a padding mode sees.
struct PaddedInput {
  Tensor x;
  ConvOptions options;
};

// padding="same" as ATen's _convolution_mode: a total of d·(k − 1) per dim, ⌊total/2⌋ before
// and the rest after, the odd extra as zeros at the end of x. A padding_mode other than zeros
// pads x itself, as nn.Conv2d's forward does, and convolves without padding.
PaddedInput apply_padding(const Tensor& x, const Tensor& weight, ConvOptions o) {
  if ((!o.padding.same && o.padding_mode == "zeros") || x.dim() != 4 || weight.dim() != 4) {
    return {x, std::move(o)};  // the shape checks report a wrong rank
  }
  const conv_padding::Sides p = conv_padding::sides(o, weight.size(2), weight.size(3));
  if (o.padding_mode != "zeros") {
    const std::string mode = o.padding_mode;
    o.padding = 0;
    o.padding_mode = "zeros";
    return {pad(x, {p.left, p.right, p.top, p.bottom}, mode), std::move(o)};
  }
  o.padding = {p.top, p.left};
  o.padding.same = false;
  if (p.bottom == p.top && p.right == p.left) return {x, std::move(o)};
  return {pad(x, {0, p.right - p.left, 0, p.bottom - p.top}), std::move(o)};
}

// x [N, C, H, W], checked → [N, O, H_out, W_out], from recorded ops.
Tensor composed_conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
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

// x [N, C, H, W], checked → [N, O, H_out, W_out].
Tensor conv2d_batched(const Tensor& x, const Tensor& weight, const Tensor& bias,
                      const ConvOptions& o) {
  const conv_kernels::ConvGeometry g = conv_kernels::geometry(x.shape(), weight.shape(), o);
  if (x.numel() == 0 || g.l() == 0) return composed_conv2d(x, weight, bias, o);
  Tensor y = conv_kernels::forward(x, weight, bias, g, o.groups);
  return record(
      "conv2d", y, {x, weight, bias},
      [x_saved = SavedTensor(x), w_saved = SavedTensor(weight), b_saved = saved_for_backward(bias),
       need_x = x.requires_grad(), need_w = weight.requires_grad(),
       need_b = bias.defined() && bias.requires_grad(), g, o](const Tensor& gy) -> Grads {
        if (creating_graph()) {
          return detail::composed_backward(
              [&](const std::vector<Tensor>& in) {
                return composed_conv2d(in[0], in[1], in[2], o);
              },
              {x_saved.get(), w_saved.get(), b_saved.defined() ? b_saved.get() : Tensor()}, gy);
        }
        const Tensor x = x_saved.get();
        return conv_kernels::backward(gy, x.shape(), x, w_saved, need_x, need_w, need_b, g,
                                      o.groups);
      });
}

}  // namespace

ConvPadding::ConvPadding(const char* name) : Pair(0) {
  const std::string_view text = name == nullptr ? "" : name;
  if (text == "same") {
    same = true;
  } else if (text != "valid") {
    fail("ConvPadding: padding must be an int, a pair, \"valid\" or \"same\", got \"{}\"", text);
  }
}

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
              const ConvOptions& options) {
  check_conv_options(options, "conv2d");
  const bool unbatched = x.dim() == 3;
  const PaddedInput in = apply_padding(unbatched ? x.unsqueeze(0) : x, weight, options);
  check_conv_shapes(in.x, weight, bias, in.options, "conv2d");
  const Tensor y = conv2d_batched(in.x, weight, bias, in.options);
  return unbatched ? y.squeeze(0) : y;
}

Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias,
              const ConvOptions& options) {
  const auto single = [](Pair p, const char* what) {
    return conv_checks::single(p, what, "conv1d");
  };
  ConvOptions o{.stride = {1, single(options.stride, "stride")},
                .padding = {0, single(options.padding, "padding")},
                .dilation = {1, single(options.dilation, "dilation")},
                .groups = options.groups,
                .bias = options.bias,
                .padding_mode = options.padding_mode};
  o.padding.same = options.padding.same;
  check_conv_options(o, "conv1d");
  if (weight.dim() != 3) fail("conv1d: expected a 3-d weight, got {}", shape_str(weight.shape()));
  if (x.dim() != 2 && x.dim() != 3) {
    fail("conv1d: expected 2D (unbatched) or 3D (batched) input, got input of size {}",
         shape_str(x.shape()));
  }
  const bool unbatched = x.dim() == 2;
  const Tensor batched = (unbatched ? x.unsqueeze(0) : x).unsqueeze(2);  // [N, C, 1, L]
  const Tensor w = weight.unsqueeze(2);                                  // [O, C/G, 1, k]
  const PaddedInput in = apply_padding(batched, w, std::move(o));
  check_conv_shapes(in.x, w, bias, in.options, "conv1d");
  const Tensor y = conv2d_batched(in.x, w, bias, in.options).squeeze(2);
  return unbatched ? y.squeeze(0) : y;
}

}  // namespace tg::nn::functional

namespace tg::nn::conv_checks {

void check_window(functional::Pair stride, functional::Pair padding, functional::Pair dilation,
                  int64_t groups, const char* op) {
  if (stride.h <= 0 || stride.w <= 0) {
    fail("{}: non-positive stride is not supported, got ({}, {})", op, stride.h, stride.w);
  }
  if (padding.h < 0 || padding.w < 0) {
    fail("{}: negative padding is not supported, got ({}, {})", op, padding.h, padding.w);
  }
  if (dilation.h <= 0 || dilation.w <= 0) {
    fail("{}: dilation should be greater than zero, got ({}, {})", op, dilation.h, dilation.w);
  }
  if (groups <= 0) fail("{}: non-positive groups is not supported, got {}", op, groups);
}

int64_t single(functional::Pair option, const char* what, const char* op) {
  if (option.h != option.w) {
    fail("{}: {} must be one number, got ({}, {})", op, what, option.h, option.w);
  }
  return option.w;
}

void check_ranks(const Tensor& x, const Tensor& weight, int64_t groups, const char* op) {
  require_floating(weight, op);
  require_same_dtype(x, weight, op);
  if (weight.dim() != 4) fail("{}: expected a 4-d weight, got {}", op, shape_str(weight.shape()));
  if (x.dim() != 4) {
    fail("{}: expected 3D (unbatched) or 4D (batched) input, got input of size {}", op,
         shape_str(x.shape()));
  }
  if (weight.size(0) % groups != 0) {
    fail("{}: given groups={}, expected weight {} to be divisible by {} at dimension 0", op, groups,
         shape_str(weight.shape()), groups);
  }
}

}  // namespace tg::nn::conv_checks

namespace tg::nn::conv_padding {

using functional::ConvOptions;

void check(const ConvOptions& o, const char* op) {
  const std::string& mode = o.padding_mode;
  if (mode != "zeros" && mode != "reflect" && mode != "replicate" && mode != "circular") {
    fail(
        "{}: padding_mode must be \"zeros\", \"reflect\", \"replicate\" or \"circular\", got "
        "\"{}\"",
        op, mode);
  }
  if (o.padding.same && (o.stride.h != 1 || o.stride.w != 1)) {
    fail("{}: padding=\"same\" is not supported for strided convolutions, got stride ({}, {})", op,
         o.stride.h, o.stride.w);
  }
}

Sides sides(const ConvOptions& o, int64_t kernel_h, int64_t kernel_w) {
  if (!o.padding.same) return {o.padding.h, o.padding.h, o.padding.w, o.padding.w};
  const int64_t total_h = o.dilation.h * (kernel_h - 1), total_w = o.dilation.w * (kernel_w - 1);
  return {total_h / 2, total_h - total_h / 2, total_w / 2, total_w - total_w / 2};
}

}  // namespace tg::nn::conv_padding
