#pragma once

// The fused convolution's kernels: im2col + GEMM forward, col2im and GEMMs backward, over
// samples in fixed chunks on tapegrad's threads. conv2d (conv.cpp) runs them as they are;
// conv_transpose2d (conv_transpose.cpp), the adjoint of conv2d, runs the backward's input
// gradient as its forward and the forward as its input gradient.

#include <tapegrad/autograd.hpp>
#include <tapegrad/nn/functional.hpp>
#include <tapegrad/tensor.hpp>

#include <cstdint>

namespace tg::nn::functional::conv_kernels {

/// The sizes of one convolution, with the input of one group of one sample a [C, H, W] block.
struct ConvGeometry {
  int64_t c, h, w;  // per group
  int64_t kh, kw;   // kernel
  int64_t sh, sw, ph, pw, dh, dw;
  int64_t out_h, out_w;
  int64_t k() const { return c * kh * kw; }
  int64_t l() const { return out_h * out_w; }
};

/// The geometry of convolving an input [N, C, H, W] by a weight [O, C/G, kH, kW] with the
/// options' stride, (numeric) padding and dilation.
ConvGeometry geometry(const Shape& x, const Shape& weight, const ConvOptions& options);

/// conv(x, weight) + bias → [N, O, H_out, W_out]; x [N, C, H, W] and weight contiguous and
/// checked, bias [O] or undefined.
Tensor forward(const Tensor& x, const Tensor& weight, const Tensor& bias, const ConvGeometry& g,
               int64_t groups);

/// The first-order gradients {dx, dweight, dbias} of forward for the output gradient gy, each
/// only if asked: dx has `x_shape`; x itself is read only for dweight (undefined otherwise).
Grads backward(const Tensor& gy, const Shape& x_shape, const Tensor& x, const Tensor& weight,
               bool need_x, bool need_w, bool need_b, const ConvGeometry& g, int64_t groups);

/// Σ gy over samples and positions per channel, [O], for gy [N, O, …] contiguous.
Tensor bias_gradient(const Tensor& gy);

}  // namespace tg::nn::functional::conv_kernels
