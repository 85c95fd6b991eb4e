#include "autograd/composed_backward.hpp"

#include <tapegrad/autograd.hpp>

namespace tg::detail {

// A recorded identity: a new node between the input and the composed form, so the pass below
// asks for interior tensors newer than every op of the enclosing backward pass, and tg::grad
// stops there instead of walking (and disturbing) the graph that pass is running.
Tensor alias(const Tensor& x) {
  return record("alias", x.detach(), {x}, [](const Tensor& gy) -> Grads { return {gy}; });
}

Grads composed_backward(const ComposedForm& composed, const std::vector<Tensor>& inputs,
                        const Tensor& grad_output) {
  std::vector<Tensor> proxies(inputs.size()), wanted;
  std::vector<size_t> wanted_at;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const bool differentiable = inputs[i].defined() && inputs[i].requires_grad();
    proxies[i] = differentiable ? alias(inputs[i]) : inputs[i];
    if (differentiable) {
      wanted.push_back(proxies[i]);
      wanted_at.push_back(i);
    }
  }
  Grads grads(inputs.size());
  if (wanted.empty()) return grads;
  const std::vector<Tensor> found =
      grad(composed(proxies), wanted, grad_output, /*retain_graph=*/true, /*create_graph=*/true);
  for (size_t k = 0; k < found.size(); ++k) grads[wanted_at[k]] = found[k];
  return grads;
}

}  // namespace tg::detail
