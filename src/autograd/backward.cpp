// The autograd engine: order the reachable nodes, run them newest first, route each gradient
// (reduced to its input's shape) to the next node or into a leaf's .grad().

#include <tapegrad/autograd.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/ops.hpp>

#include "autograd/anomaly.hpp"
#include "ops/kernels.hpp"
#include "tensor/tensor_impl.hpp"

#include <algorithm>
#include <atomic>

namespace tg {
namespace {

// Every node reachable from `root`, newest first, each marked with `pass`. A node is always
// created after the nodes of its inputs, so descending creation order is a valid reverse
// topological order.
std::vector<Node*> reverse_topological_order(Node* root, uint64_t pass) {
  std::vector<Node*> order;
  root->pass_state().pass = pass;
  std::vector<Node*> stack{root};
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    node->check_saved();  // fail before any gradient is accumulated
    order.push_back(node);
    for (const Edge& edge : node->inputs()) {
      if (edge.node && edge.node->pass_state().pass != pass) {
        edge.node->pass_state().pass = pass;
        stack.push_back(edge.node.get());
      }
    }
  }
  std::sort(order.begin(), order.end(),
            [](const Node* a, const Node* b) { return a->sequence() > b->sequence(); });
  return order;
}

// Drops the gradients still waiting in the nodes of a pass that ended early (by an exception).
class PendingGradients {
 public:
  explicit PendingGradients(const std::vector<Node*>& order) : order_(order) {}
  PendingGradients(const PendingGradients&) = delete;
  PendingGradients& operator=(const PendingGradients&) = delete;
  ~PendingGradients() {
    for (Node* node : order_) node->pass_state().gradient = Tensor();
  }

 private:
  const std::vector<Node*>& order_;
};

// The gradient to start from: the caller's, or 1 for a one-element output.
Tensor seed_gradient(const Tensor& root, const Tensor& gradient) {
  if (!gradient.defined()) {
    if (root.numel() != 1) {
      fail(
          "backward: a gradient can be implied only for one-element outputs, got shape {}; "
          "pass a gradient of that shape",
          shape_str(root.shape()));
    }
    return full(root.shape(), 1.0, {.dtype = root.dtype()});
  }
  if (gradient.shape() != root.shape() || gradient.dtype() != root.dtype()) {
    fail("backward: gradient {} {} does not match the output {} {}", gradient.dtype(),
         shape_str(gradient.shape()), root.dtype(), shape_str(root.shape()));
  }
  return gradient;
}

// leaf.grad += gradient, in place when a gradient is already there (as PyTorch does).
void accumulate_into_leaf(TensorImpl& leaf, const Tensor& gradient) {
  if (!leaf.grad) {
    const bool sole_owner = gradient.shared_impl().use_count() == 1 &&
                            gradient.impl().storage.use_count() == 1 && !gradient.grad_fn();
    leaf.grad = sole_owner ? gradient.shared_impl() : gradient.detach().clone().shared_impl();
    return;
  }
  Tensor grad(leaf.grad);
  visit_floating(grad, "backward", [&]<class T>() {
    T* out = grad.data<T>();
    const T* in = gradient.data<T>();
    for (int64_t i = 0; i < grad.numel(); ++i) out[i] += in[i];
  });
}

// Reduces a gradient to the shape and dtype its input had in the forward pass.
Tensor fit_to_input(const Tensor& gradient, const Edge& edge) {
  Tensor fitted = gradient.shape() == edge.shape ? gradient : sum_to(gradient, edge.shape);
  return fitted.to(edge.dtype);
}

}  // namespace

void run_backward(const Tensor& root, const Tensor& gradient, bool retain_graph) {
  if (!root.requires_grad()) {
    fail(
        "backward: the tensor {} does not require grad (no input it depends on had "
        "set_requires_grad())",
        shape_str(root.shape()));
  }
  Tensor seed = seed_gradient(root, gradient);
  NoGradGuard no_grad;
  detail::BackwardScope in_backward;
  if (root.is_leaf()) {
    accumulate_into_leaf(root.impl(), seed);
    return;
  }
  static std::atomic<uint64_t> last_pass{0};
  const std::vector<Node*> order = reverse_topological_order(root.grad_fn().get(), ++last_pass);
  const PendingGradients cleanup(order);
  root.grad_fn()->pass_state().gradient = std::move(seed);
  for (Node* node : order) {
    Tensor grad_output = std::move(node->pass_state().gradient);
    if (!grad_output.defined()) continue;  // nothing flowed into this node
    Grads grads = node->apply(grad_output);
    grad_output = Tensor();
    if (detail::anomaly_enabled()) {
      for (size_t i = 0; i < grads.size(); ++i) detail::check_backward_output(*node, i, grads[i]);
    }
    const std::vector<Edge>& inputs = node->inputs();
    for (size_t i = 0; i < inputs.size() && i < grads.size(); ++i) {
      if (!inputs[i].needs_grad() || !grads[i].defined()) continue;
      Tensor g = fit_to_input(grads[i], inputs[i]);
      grads[i] = Tensor();
      if (inputs[i].node) {
        Tensor& pending = inputs[i].node->pass_state().gradient;
        pending = pending.defined() ? pending + g : std::move(g);
      } else {
        accumulate_into_leaf(*inputs[i].leaf, g);
      }
    }
    if (!retain_graph) node->release();
  }
}

}  // namespace tg
