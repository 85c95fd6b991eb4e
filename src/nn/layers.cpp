#include <tapegrad/error.hpp>
#include <tapegrad/nn/functional.hpp>
#include <tapegrad/nn/layers.hpp>

namespace tg::nn {

Tensor Identity::forward(const Tensor& x) { return x; }

Tensor Flatten::forward(const Tensor& x) { return x.flatten(start_dim_, end_dim_); }

Dropout::Dropout(double p) : p_(p) {
  if (!(p >= 0 && p <= 1)) fail("Dropout: p must be in [0, 1], got {}", p);
}

Tensor Dropout::forward(const Tensor& x) { return F::dropout(x, p_, is_training()); }

}  // namespace tg::nn
