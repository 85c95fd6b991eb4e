#include <tapegrad/nn/activation.hpp>
#include <tapegrad/ops.hpp>

namespace tg::nn {

Tensor ReLU::forward(const Tensor& x) { return relu(x); }

Tensor Tanh::forward(const Tensor& x) { return tanh(x); }

Tensor Sigmoid::forward(const Tensor& x) { return sigmoid(x); }

}  // namespace tg::nn
