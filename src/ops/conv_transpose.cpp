// conv_transpose2d / conv_transpose1d (torch.nn.functional, 1.13), the adjoint of conv2d. Take
// the convolution C that maps an output-shaped y [N, O, H_out, W_out] to x's shape with the
// same weight [C_in, O/G, kH, kW] (conv2d's geometry, input and output swapped, cut to x's
// H × W outputs): conv_transpose2d(x) = Cᵀx, which is C's input gradient for the output gradient x
// — col2im(Wᵀ·x) per sample. So the fused forward is the conv kernels' backward (dx only), the
// input gradient their forward (C gy), the weight gradient their weight gradient with x and gy
// in each other's places. The composed form, for create_graph, is the same vector-Jacobian
// product of conv2d taken on the tape.

#include <tapegrad/autograd.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/nn/functional.hpp>
#include <tapegrad/ops.hpp>

#include "autograd/composed_backward.hpp"
#include "ops/conv_checks.hpp"
#include "ops/conv_kernels.hpp"
#include "ops/kernels.hpp"

namespace tg::nn::functional {
namespace {

// The convolution C whose adjoint the transposed one is.
ConvOptions adjoint_options(const ConvTransposeOptions& o) {
  return {.stride = o.stride, .padding = o.padding, .dilation = o.dilation, .groups = o.groups};
}

void check_options(const ConvTransposeOptions& o, const char* op) {
  conv_checks::check_window(o.stride, o.padding, o.dilation, o.groups, op);
  const Pair op_pad = o.output_padding;
  if (op_pad.h < 0 || op_pad.w < 0 || (op_pad.h >= o.stride.h && op_pad.h >= o.dilation.h) ||
      (op_pad.w >= o.stride.w && op_pad.w >= o.dilation.w)) {
    fail(
        "{}: output padding must be smaller than either stride or dilation, but got "
        "output_padding ({}, {}), stride ({}, {}), dilation ({}, {})",
        op, op_pad.h, op_pad.w, o.stride.h, o.stride.w, o.dilation.h, o.dilation.w);
  }
}

// (H − 1)·s − 2p + d(k − 1) + output_padding + 1.
int64_t output_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding, int64_t dilation,
                    int64_t output_padding) {
  return (in - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1;
}

// torch's checks, with its wording: weight 4-d [C, O/G, kH, kW], C = x's channels divisible by
// groups, bias [O], a positive output size. Returns the output's shape.
Shape check_shapes(const Tensor& x, const Tensor& weight, const Tensor& bias,
                   const ConvTransposeOptions& o, const char* op) {
  conv_checks::check_ranks(x, weight, o.groups, op);
  if (x.size(1) != weight.size(0)) {
    fail(
        "{}: given transposed=1, weight of size {}, expected input {} to have {} channels, but "
        "got {} channels instead",
        op, shape_str(weight.shape()), shape_str(x.shape()), weight.size(0), x.size(1));
  }
  const int64_t out = weight.size(1) * o.groups;
  if (bias.defined() && bias.shape() != Shape{out}) {
    fail("{}: expected bias [{}], got {}", op, out, shape_str(bias.shape()));
  }
  if (bias.defined()) require_same_dtype(x, bias, op);
  const int64_t h = output_size(x.size(2), weight.size(2), o.stride.h, o.padding.h, o.dilation.h,
                                o.output_padding.h);
  const int64_t w = output_size(x.size(3), weight.size(3), o.stride.w, o.padding.w, o.dilation.w,
                                o.output_padding.w);
  if (h <= 0 || w <= 0) {
    fail(
        "{}: given input size per channel: ({} x {}). Calculated output size per channel: ({} x "
        "{}). Output size is too small",
        op, x.size(2), x.size(3), h, w);
  }
  return {x.size(0), out, h, w};
}

// Cᵀx from recorded ops: the vector-Jacobian product of the (composed under create_graph)
// conv2d, cut to x's size, at any point — it is linear — for the output gradient x.
Tensor composed_conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                 const Shape& y_shape, const ConvOptions& adjoint) {
  const Tensor at = detail::alias(zeros(y_shape, {.dtype = x.dtype(), .requires_grad = true}));
  const Tensor image =
      conv2d(at, weight, {}, adjoint).narrow(2, 0, x.size(2)).narrow(3, 0, x.size(3));
  Tensor y = tg::grad(image, std::vector<Tensor>{at}, x, /*retain_graph=*/false,
                      /*create_graph=*/true)[0];
  if (bias.defined()) y = y + bias.reshape({1, y_shape[1], 1, 1});
  return y;
}

// x [N, C, H, W] checked, y_shape its output's → [N, O, H_out, W_out].
Tensor conv_transpose2d_batched(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                const Shape& y_shape, const ConvOptions& adjoint) {
  conv_kernels::ConvGeometry g = conv_kernels::geometry(y_shape, weight.shape(), adjoint);
  // C's output is x's size: with an output_padding of at least the stride (allowed when the
  // dilation is larger), the convolution of y would have more rows, which C leaves out.
  g.out_h = x.size(2);
  g.out_w = x.size(3);
  if (x.numel() == 0 || weight.numel() == 0) {
    return composed_conv_transpose2d(x, weight, bias, y_shape, adjoint);
  }
  Tensor y;
  {
    NoGradGuard values_only;  // the record below is y's one node
    y = conv_kernels::backward(x, y_shape, Tensor(), weight, true, false, false, g,
                               adjoint.groups)[0];
    if (bias.defined()) y = y + bias.reshape({1, y_shape[1], 1, 1});
  }
  return record(
      "conv_transpose2d", y, {x, weight, bias},
      [x_saved = SavedTensor(x), w_saved = SavedTensor(weight), b_saved = saved_for_backward(bias),
       need_x = x.requires_grad(), need_w = weight.requires_grad(),
       need_b = bias.defined() && bias.requires_grad(), g, y_shape,
       adjoint](const Tensor& gy) -> Grads {
        if (creating_graph()) {
          return detail::composed_backward(
              [&](const std::vector<Tensor>& in) {
                return composed_conv_transpose2d(in[0], in[1], in[2], y_shape, adjoint);
              },
              {x_saved.get(), w_saved.get(), b_saved.defined() ? b_saved.get() : Tensor()}, gy);
        }
        const Tensor x = x_saved.get(), weight = w_saved.get();
        Grads grads(3);
        if (need_x) grads[0] = conv_kernels::forward(gy, weight, Tensor(), g, adjoint.groups);
        if (need_w) {
          // C's weight gradient: its output gradient is x, its input gy.
          grads[1] = conv_kernels::backward(x, gy.shape(), gy, weight, false, true, false, g,
                                            adjoint.groups)[1];
        }
        if (need_b) grads[2] = conv_kernels::bias_gradient(gy);
        return grads;
      });
}

}  // namespace

Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const ConvTransposeOptions& options) {
  check_options(options, "conv_transpose2d");
  const bool unbatched = x.dim() == 3;
  const Tensor batched = unbatched ? x.unsqueeze(0) : x;
  const Shape y_shape = check_shapes(batched, weight, bias, options, "conv_transpose2d");
  const Tensor y = conv_transpose2d_batched(batched.contiguous(), weight.contiguous(), bias,
                                            y_shape, adjoint_options(options));
  return unbatched ? y.squeeze(0) : y;
}

Tensor conv_transpose1d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const ConvTransposeOptions& options) {
  const auto single = [](Pair p, const char* what) {
    return conv_checks::single(p, what, "conv_transpose1d");
  };
  const ConvTransposeOptions o{
      .stride = {1, single(options.stride, "stride")},
      .padding = {0, single(options.padding, "padding")},
      .output_padding = {0, single(options.output_padding, "output_padding")},
      .groups = options.groups,
      .bias = options.bias,
      .dilation = {1, single(options.dilation, "dilation")}};
  check_options(o, "conv_transpose1d");
  if (weight.dim() != 3) {
    fail("conv_transpose1d: expected a 3-d weight, got {}", shape_str(weight.shape()));
  }
  if (x.dim() != 2 && x.dim() != 3) {
    fail("conv_transpose1d: expected 2D (unbatched) or 3D (batched) input, got input of size {}",
         shape_str(x.shape()));
  }
  const bool unbatched = x.dim() == 2;
  const Tensor batched = (unbatched ? x.unsqueeze(0) : x).unsqueeze(2);  // [N, C, 1, L]
  const Tensor w = weight.unsqueeze(2);                                  // [C, O/G, 1, k]
  const Shape y_shape = check_shapes(batched, w, bias, o, "conv_transpose1d");
  const Tensor y = conv_transpose2d_batched(batched.contiguous(), w.contiguous(), bias, y_shape,
                                            adjoint_options(o))
                       .squeeze(2);
  return unbatched ? y.squeeze(0) : y;
}

}  // namespace tg::nn::functional
