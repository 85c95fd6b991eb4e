#include <tapegrad/nn/pooling.hpp>

namespace tg::nn {

MaxPool2d::MaxPool2d(functional::Pair k, functional::Pair s, functional::Pair p, functional::Pair d,
                     bool ceil)
    : kernel_size(k), stride(s), padding(p), dilation(d), ceil_mode(ceil) {}

Tensor MaxPool2d::forward(const Tensor& x) {
  return functional::max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode);
}

AvgPool2d::AvgPool2d(functional::Pair k, functional::Pair s, functional::Pair p, bool ceil,
                     bool include_pad)
    : kernel_size(k), stride(s), padding(p), ceil_mode(ceil), count_include_pad(include_pad) {}

Tensor AvgPool2d::forward(const Tensor& x) {
  return functional::avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad);
}

AdaptiveAvgPool2d::AdaptiveAvgPool2d(functional::Pair output_size) : output_size(output_size) {}

Tensor AdaptiveAvgPool2d::forward(const Tensor& x) {
  return functional::adaptive_avg_pool2d(x, output_size);
}

}  // namespace tg::nn
