#pragma once

#include <tapegrad/nn/module.hpp>

#include <cstdint>

namespace tg::nn {

/// y = x Wᵀ + b, computed as one fused GEMM; PyTorch's initialization U(−1/√in, 1/√in).
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true);
  Tensor forward(const Tensor& x) override;

  Tensor weight;  // [out_features, in_features]
  Tensor bias;    // [out_features], undefined when constructed without bias
};

}  // namespace tg::nn
