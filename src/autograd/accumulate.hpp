// How a gradient joins a leaf's .grad(), shared by the engine and data_parallel_backward.
#pragma once

#include <tapegrad/tensor.hpp>

#include <memory>

namespace tg::detail {

/// slot += gradient, in place when a gradient is already there (as PyTorch does for .grad);
/// an empty slot takes `gradient` itself when nothing else holds it, else a copy.
void accumulate(std::shared_ptr<TensorImpl>& slot, const Tensor& gradient);

}  // namespace tg::detail
