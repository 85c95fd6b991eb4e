#include <tapegrad/nn/init.hpp>
#include <tapegrad/random.hpp>

#include "ops/kernels.hpp"

namespace tg::nn::init {

void uniform_(Tensor& tensor, double low, double high) {
  Generator& generator = default_generator();
  visit_floating(tensor, "uniform_", [&]<class T>() {
    T* out = tensor.data<T>();
    for (int64_t i = 0; i < tensor.numel(); ++i) {
      out[i] = static_cast<T>(low + (high - low) * generator.uniform());
    }
  });
}

}  // namespace tg::nn::init
