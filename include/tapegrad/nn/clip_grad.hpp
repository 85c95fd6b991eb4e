#pragma once

#include <tapegrad/tensor.hpp>

#include <vector>

namespace tg::nn {

/// Rescales the gradients of `params` so their joint L2 norm is at most max_norm (PyTorch's
/// clip_grad_norm_: factor max_norm / (norm + 1e-6), capped at 1); returns the norm before
/// clipping. Parameters without a gradient are ignored.
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm);

}  // namespace tg::nn
