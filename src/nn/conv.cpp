#include <tapegrad/autograd.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/nn/conv.hpp>
#include <tapegrad/nn/init.hpp>
#include <tapegrad/ops.hpp>

#include "ops/conv_padding.hpp"

#include <cmath>

namespace tg::nn {
namespace {

void check_channels(const char* layer, int64_t in, int64_t out, int64_t groups) {
  if (in <= 0 || out <= 0) {
    fail("{}: channel counts must be positive, got in_channels={} out_channels={}", layer, in, out);
  }
  if (groups <= 0) fail("{}: groups must be positive, got {}", layer, groups);
  if (in % groups != 0)
    fail("{}: in_channels={} must be divisible by groups={}", layer, in, groups);
  if (out % groups != 0) {
    fail("{}: out_channels={} must be divisible by groups={}", layer, out, groups);
  }
}

// PyTorch: kaiming_uniform_(a=√5) on the weight and U(±1/√fan_in) on the bias, both
// U(−1/√fan_in, 1/√fan_in) with fan_in = in/groups · kernel elements.
double init_bound(const Shape& weight_shape) {
  int64_t fan_in = 1;
  for (size_t i = 1; i < weight_shape.size(); ++i) fan_in *= weight_shape[i];
  return fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
}

Tensor uniform_tensor(const Shape& shape, double bound) {
  NoGradGuard no_grad;
  Tensor t = empty(shape);
  init::uniform_(t, -bound, bound);
  return t;
}

// "Conv2d: expected input [N, 3, H, W], got [8, 1, 28, 28]".
void check_input(const char* layer, const Tensor& x, int64_t in, int64_t spatial) {
  const int64_t channel_dim = x.dim() - spatial - 1;
  if ((x.dim() == spatial + 1 || x.dim() == spatial + 2) && x.size(channel_dim) == in) return;
  const char* dims = spatial == 2 ? "H, W" : "L";
  fail("{}: expected input [N, {}, {}], got {}", layer, in, dims, shape_str(x.shape()));
}

}  // namespace

Conv2d::Conv2d(int64_t in, int64_t out, Pair kernel_size, ConvOptions o)
    : in_channels(in), options(o) {
  check_channels("Conv2d", in, out, o.groups);
  conv_padding::check(o, "Conv2d");
  if (kernel_size.h <= 0 || kernel_size.w <= 0) {
    fail("Conv2d: kernel_size must be positive, got ({}, {})", kernel_size.h, kernel_size.w);
  }
  const Shape shape{out, in / o.groups, kernel_size.h, kernel_size.w};
  weight = uniform_tensor(shape, init_bound(shape));
  register_parameter("weight", &Conv2d::weight);
  if (o.bias) bias = uniform_tensor({out}, init_bound(shape));
  register_parameter("bias", &Conv2d::bias);
}

Tensor Conv2d::forward(const Tensor& x) {
  check_input("Conv2d", x, in_channels, 2);
  return functional::conv2d(x, weight, bias, options);
}

Conv1d::Conv1d(int64_t in, int64_t out, int64_t kernel_size, ConvOptions o)
    : in_channels(in), options(o) {
  check_channels("Conv1d", in, out, o.groups);
  conv_padding::check(o, "Conv1d");
  if (kernel_size <= 0) fail("Conv1d: kernel_size must be positive, got {}", kernel_size);
  const Shape shape{out, in / o.groups, kernel_size};
  weight = uniform_tensor(shape, init_bound(shape));
  register_parameter("weight", &Conv1d::weight);
  if (o.bias) bias = uniform_tensor({out}, init_bound(shape));
  register_parameter("bias", &Conv1d::bias);
}

Tensor Conv1d::forward(const Tensor& x) {
  check_input("Conv1d", x, in_channels, 1);
  return functional::conv1d(x, weight, bias, options);
}

ConvTranspose2d::ConvTranspose2d(int64_t in, int64_t out, Pair kernel_size, ConvTransposeOptions o)
    : in_channels(in), options(o) {
  check_channels("ConvTranspose2d", in, out, o.groups);
  if (kernel_size.h <= 0 || kernel_size.w <= 0) {
    fail("ConvTranspose2d: kernel_size must be positive, got ({}, {})", kernel_size.h,
         kernel_size.w);
  }
  const Shape shape{in, out / o.groups, kernel_size.h, kernel_size.w};
  weight = uniform_tensor(shape, init_bound(shape));
  register_parameter("weight", &ConvTranspose2d::weight);
  if (o.bias) bias = uniform_tensor({out}, init_bound(shape));
  register_parameter("bias", &ConvTranspose2d::bias);
}

Tensor ConvTranspose2d::forward(const Tensor& x) {
  check_input("ConvTranspose2d", x, in_channels, 2);
  return functional::conv_transpose2d(x, weight, bias, options);
}

ConvTranspose1d::ConvTranspose1d(int64_t in, int64_t out, int64_t kernel_size,
                                 ConvTransposeOptions o)
    : in_channels(in), options(o) {
  check_channels("ConvTranspose1d", in, out, o.groups);
  if (kernel_size <= 0) fail("ConvTranspose1d: kernel_size must be positive, got {}", kernel_size);
  const Shape shape{in, out / o.groups, kernel_size};
  weight = uniform_tensor(shape, init_bound(shape));
  register_parameter("weight", &ConvTranspose1d::weight);
  if (o.bias) bias = uniform_tensor({out}, init_bound(shape));
  register_parameter("bias", &ConvTranspose1d::bias);
}

Tensor ConvTranspose1d::forward(const Tensor& x) {
  check_input("ConvTranspose1d", x, in_channels, 1);
  return functional::conv_transpose1d(x, weight, bias, options);
}

}  // namespace tg::nn
