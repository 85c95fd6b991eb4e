// The autograd engine: order the reachable nodes, run them newest first, route each gradient
// (reduced to its input's shape) to the next node or into a leaf's .grad() (tg::grad: into
// slots returned to the caller instead).

#include <tapegrad/autograd.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/ops.hpp>

#include "autograd/accumulate.hpp"
#include "autograd/anomaly.hpp"
#include "ops/kernels.hpp"
#include "tensor/tensor_impl.hpp"

#include <algorithm>
#include <atomic>
#include <unordered_map>

namespace tg {

void detail::accumulate(std::shared_ptr<TensorImpl>& slot, const Tensor& gradient) {
  if (!slot) {
    const bool sole_owner = gradient.shared_impl().use_count() == 1 &&
                            gradient.impl().storage.use_count() == 1 && !gradient.grad_fn();
    slot = sole_owner ? gradient.shared_impl() : gradient.detach().clone().shared_impl();
    // Nothing else holds it now: it is the leaf's own tensor, not a view or a view op's copy,
    // so in-place ops on .grad() (grad.zero_(), grad.mul_(…)) must not refuse it.
    slot->copied_by = nullptr;
    slot->viewed_by = nullptr;
    return;
  }
  Tensor sum(slot);
  const int64_t n = sum.numel();
  visit_floating(sum, "backward", [&]<class T>() {
    T* __restrict out = sum.data<T>();
    const T* __restrict in = gradient.data<T>();
    for (int64_t i = 0; i < n; ++i) out[i] += in[i];  // n hoisted: the loop vectorizes
  });
}

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
Tensor seed_gradient(const Tensor& root, const Tensor& gradient, const char* op) {
  if (!gradient.defined()) {
    if (root.numel() != 1) {
      fail(
          "{}: a gradient can be implied only for one-element outputs, got shape {}; "
          "pass a gradient of that shape",
          op, shape_str(root.shape()));
    }
    return full(root.shape(), 1.0, {.dtype = root.dtype()});
  }
  if (gradient.shape() != root.shape() || gradient.dtype() != root.dtype()) {
    fail("{}: gradient {} {} does not match the output {} {}", op, gradient.dtype(),
         shape_str(gradient.shape()), root.dtype(), shape_str(root.shape()));
  }
  return gradient;
}

// Where a pass delivers the gradients that reach leaves: into their .grad() (backward), or into
// slots of its own for the leaves asked for, leaving every .grad() alone (tg::grad).
class LeafGradients {
 public:
  LeafGradients() = default;
  explicit LeafGradients(const std::vector<Tensor>& leaves) : collecting_(true) {
    slots_.resize(leaves.size());
    for (size_t i = 0; i < leaves.size(); ++i) index_.emplace(&leaves[i].impl(), i);
  }

  void add(TensorImpl& leaf, const Tensor& gradient) {
    if (!collecting_) return detail::accumulate(leaf.grad, gradient);
    const auto [first, last] = index_.equal_range(&leaf);
    for (auto it = first; it != last; ++it) detail::accumulate(slots_[it->second], gradient);
  }

  std::vector<Tensor> take() {
    std::vector<Tensor> out;
    out.reserve(slots_.size());
    for (auto& slot : slots_) out.emplace_back(std::move(slot));
    return out;
  }

 private:
  bool collecting_ = false;
  std::unordered_multimap<const TensorImpl*, size_t> index_;  // a leaf may be asked for twice
  std::vector<std::shared_ptr<TensorImpl>> slots_;
};

// Reduces a gradient to the shape and dtype its input had in the forward pass.
Tensor fit_to_input(const Tensor& gradient, const Edge& edge) {
  Tensor fitted = gradient.shape() == edge.shape ? gradient : sum_to(gradient, edge.shape);
  return fitted.to(edge.dtype);
}

// The engine: backpropagates `gradient` from `root` and hands every leaf's share to `leaves`.
void backpropagate(const Tensor& root, const Tensor& gradient, bool retain_graph,
                   LeafGradients& leaves, const char* op) {
  if (!root.requires_grad()) {
    fail(
        "{}: the tensor {} does not require grad (no input it depends on had "
        "set_requires_grad())",
        op, shape_str(root.shape()));
  }
  Tensor seed = seed_gradient(root, gradient, op);
  NoGradGuard no_grad;
  detail::BackwardScope in_backward;
  if (root.is_leaf()) {
    leaves.add(root.impl(), seed);
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
        leaves.add(*inputs[i].leaf, g);
      }
    }
    if (!retain_graph) node->release();
  }
}

}  // namespace

void run_backward(const Tensor& root, const Tensor& gradient, bool retain_graph) {
  LeafGradients into_grad;
  backpropagate(root, gradient, retain_graph, into_grad, "backward");
}

std::vector<Tensor> grad(const Tensor& output, const std::vector<Tensor>& inputs,
                         const Tensor& gradient, bool retain_graph) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined() || !inputs[i].is_leaf() || !inputs[i].requires_grad()) {
      fail("grad: input {} is not a leaf tensor that requires grad", i);
    }
  }
  LeafGradients collected(inputs);
  backpropagate(output, gradient, retain_graph, collected, "grad");
  return collected.take();
}

}  // namespace tg
