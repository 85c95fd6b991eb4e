// softmax and log_softmax along one dimension, stable for logits of any magnitude.

#include <tapegrad/autograd.hpp>
#include <tapegrad/ops.hpp>

#include "ops/kernels.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tg {
namespace {

// Applies softmax (or log-softmax) to every line along `dim`, viewing x as [outer, extent, inner].
Tensor softmax_forward(const Tensor& x, int64_t dim, bool log, const char* op) {
  dim = normalize_dim(dim, x.dim(), op);
  const Shape& shape = x.shape();
  const int64_t extent = x.dim() == 0 ? 1 : shape[dim];
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= shape[d];
  for (int64_t d = dim + 1; d < x.dim(); ++d) inner *= shape[d];
  return visit_floating(x, op, [&]<class T>() {
    Tensor y = make_tensor(shape, x.dtype());
    const T* in = x.data<T>();
    T* out = y.data<T>();
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t base = o * extent * inner + i;
        T peak = -std::numeric_limits<T>::infinity();
        for (int64_t k = 0; k < extent; ++k) peak = std::max(peak, in[base + k * inner]);
        if (std::isinf(peak)) peak = 0;  // all -inf (or +inf present): keep the NaN/0 of PyTorch
        double total = 0;                // Σ exp(x − max) ≥ 1, so its log is finite
        for (int64_t k = 0; k < extent; ++k) total += std::exp(in[base + k * inner] - peak);
        const T log_total = static_cast<T>(std::log(total));
        for (int64_t k = 0; k < extent; ++k) {
          const T shifted = in[base + k * inner] - peak - log_total;
          out[base + k * inner] = log ? shifted : std::exp(shifted);
        }
      }
    }
    return y;
  });
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) {
  Tensor y = softmax_forward(x, dim, false, "softmax");
  // dx = y ⊙ (dy − Σ_dim dy ⊙ y)
  return record("softmax", y, {x}, [y = SavedTensor::output(y), dim](const Tensor& gy) -> Grads {
    return {y * (gy - sum(gy * y, dim, true))};
  });
}

Tensor log_softmax(const Tensor& x, int64_t dim) {
  Tensor y = softmax_forward(x, dim, true, "log_softmax");
  // dx = dy − exp(y) ⊙ Σ_dim dy
  return record("log_softmax", y, {x},
                [y = SavedTensor::output(y), dim](const Tensor& gy) -> Grads {
                  return {gy - exp(y) * sum(gy, dim, true)};
                });
}

}  // namespace tg
