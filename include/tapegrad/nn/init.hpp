#pragma once

#include <tapegrad/tensor.hpp>

namespace tg::nn::init {

/// Fills `tensor` in place with draws from U(low, high) using the default generator.
void uniform_(Tensor& tensor, double low, double high);

}  // namespace tg::nn::init
