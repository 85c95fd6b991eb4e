#pragma once

#include <tapegrad/nn/module.hpp>

namespace tg::nn {

/// max(x, 0) elementwise.
class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
};

/// tanh(x) elementwise.
class Tanh : public Module {
 public:
  Tensor forward(const Tensor& x) override;
};

/// 1 / (1 + e⁻ˣ) elementwise.
class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor& x) override;
};

}  // namespace tg::nn
