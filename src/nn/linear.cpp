#include <tapegrad/autograd.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/nn/init.hpp>
#include <tapegrad/nn/linear.hpp>
#include <tapegrad/ops.hpp>

#include <cmath>

namespace tg::nn {

Linear::Linear(int64_t in_features, int64_t out_features, bool with_bias) {
  if (in_features < 0 || out_features < 0) {
    fail("Linear: feature counts must be non-negative, got in_features={} out_features={}",
         in_features, out_features);
  }
  // PyTorch: kaiming_uniform_(a=√5) for the weight and U(±1/√fan_in) for the bias, which both
  // come to U(−1/√in, 1/√in).
  const double bound = in_features > 0 ? 1.0 / std::sqrt(static_cast<double>(in_features)) : 0.0;
  NoGradGuard no_grad;
  Tensor w = empty({out_features, in_features});
  init::uniform_(w, -bound, bound);
  weight = w;
  register_parameter("weight", &Linear::weight);
  if (with_bias) {
    Tensor b = empty({out_features});
    init::uniform_(b, -bound, bound);
    bias = b;
    register_parameter("bias", &Linear::bias);
  }
}

Tensor Linear::forward(const Tensor& x) { return linear(x, weight, bias); }

}  // namespace tg::nn
