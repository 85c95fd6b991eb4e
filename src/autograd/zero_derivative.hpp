#pragma once

// Under create_graph the gradient of a piecewise-constant-slope op (relu, leaky_relu, hardtanh,
// abs) is gy·slope with the slope off the tape. torch still records it as a function of the
// op's input with a zero derivative (threshold_backward's derivative for `self` is zeros), so
// a second backward reaches that input and gives it zeros: a gradient penalty of a ReLU network
// then fills every parameter's .grad(), where without the tie the gradient would not even
// require grad and the inputs' gradients would stay undefined.

#include <tapegrad/autograd.hpp>
#include <tapegrad/ops.hpp>

namespace tg::detail {

/// `value` recorded as depending on `x` (of value's shape) with a zero derivative, when x
/// requires grad; else value itself.
inline Tensor tie_with_zero_derivative(const Tensor& value, const Tensor& x) {
  if (!x.defined() || !x.requires_grad() || !is_grad_enabled()) return value;
  return record("zero_derivative", value.detach(), {value, x}, [](const Tensor& g) -> Grads {
    return {g, zeros_like(g)};
  });
}

}  // namespace tg::detail
