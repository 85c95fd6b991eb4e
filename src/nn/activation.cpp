#include <tapegrad/error.hpp>
#include <tapegrad/nn/activation.hpp>
#include <tapegrad/nn/functional.hpp>
#include <tapegrad/ops.hpp>

namespace tg::nn {

Tensor ReLU::forward(const Tensor& x) { return relu(x); }

Tensor Tanh::forward(const Tensor& x) { return tanh(x); }

Tensor Sigmoid::forward(const Tensor& x) { return sigmoid(x); }

Tensor LeakyReLU::forward(const Tensor& x) { return F::leaky_relu(x, negative_slope_); }

Tensor ELU::forward(const Tensor& x) { return F::elu(x, alpha_); }

GELU::GELU(std::string approximate) : approximate_(std::move(approximate)) {
  if (approximate_ != "none" && approximate_ != "tanh") {
    fail("GELU: approximate must be \"none\" or \"tanh\", got \"{}\"", approximate_);
  }
}

Tensor GELU::forward(const Tensor& x) { return F::gelu(x, approximate_); }

Tensor SiLU::forward(const Tensor& x) { return F::silu(x); }

Tensor Softplus::forward(const Tensor& x) { return F::softplus(x, beta_, threshold_); }

Hardtanh::Hardtanh(double min_val, double max_val) : min_val_(min_val), max_val_(max_val) {
  if (min_val > max_val) fail("Hardtanh: min_val {} is greater than max_val {}", min_val, max_val);
}

Tensor Hardtanh::forward(const Tensor& x) { return F::hardtanh(x, min_val_, max_val_); }

Tensor Mish::forward(const Tensor& x) { return F::mish(x); }

Tensor Softmax::forward(const Tensor& x) { return softmax(x, dim_); }

Tensor LogSoftmax::forward(const Tensor& x) { return log_softmax(x, dim_); }

}  // namespace tg::nn
