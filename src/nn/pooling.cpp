#include <tapegrad/nn/pooling.hpp>

namespace tg::nn {

MaxPool2d::MaxPool2d(functional::Pair k, functional::Pair s, functional::Pair p)
    : kernel_size(k), stride(s), padding(p) {}

Tensor MaxPool2d::forward(const Tensor& x) {
  return functional::max_pool2d(x, kernel_size, stride, padding);
}

AvgPool2d::AvgPool2d(functional::Pair k, functional::Pair s, functional::Pair p)
    : kernel_size(k), stride(s), padding(p) {}

Tensor AvgPool2d::forward(const Tensor& x) {
  return functional::avg_pool2d(x, kernel_size, stride, padding);
}

AdaptiveAvgPool2d::AdaptiveAvgPool2d(functional::Pair output_size) : output_size(output_size) {}

Tensor AdaptiveAvgPool2d::forward(const Tensor& x) {
  return functional::adaptive_avg_pool2d(x, output_size);
}

}  // namespace tg::nn
