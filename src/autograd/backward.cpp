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
#include <span>
#include <unordered_map>

namespace tg {

void detail::accumulate(std::shared_ptr<TensorImpl>& slot, const Tensor& gradient) {
  if (is_grad_enabled()) {
    // create_graph: the sum is recorded, out of place, so the gradient can be differentiated
    // (PyTorch's AccumulateGrad under grad mode: a clone first, then variable.grad + new_grad).
    slot = (slot ? Tensor(slot) + gradient : gradient.clone()).shared_impl();
    return;
  }
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

// Every node reachable from the interior tensors among `roots`, newest first, each marked with
// `pass`, leaving out nodes older than `oldest` (no path from them reaches what is asked for).
// A node is always created after the nodes of its inputs, so descending creation order is a
// valid reverse topological order.
std::vector<Node*> reverse_topological_order(std::span<const Tensor> roots, uint64_t pass,
                                             uint64_t oldest) {
  std::vector<Node*> order;
  std::vector<Node*> stack;
  for (const Tensor& root : roots) {
    Node* node = root.grad_fn().get();
    if (!node || node->pass_state().pass == pass) continue;
    node->pass_state().pass = pass;
    stack.push_back(node);
  }
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    node->check_saved();  // fail before any gradient is accumulated
    order.push_back(node);
    for (const Edge& edge : node->inputs()) {
      if (edge.node && edge.node->pass_state().pass != pass && edge.node->sequence() >= oldest) {
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

// Throws unless `root` can start a pass from `gradient` (undefined: an implied 1).
void check_root(const Tensor& root, const Tensor& gradient, const char* op) {
  if (!root.requires_grad()) {
    fail(
        "{}: the tensor {} does not require grad (no input it depends on had "
        "set_requires_grad())",
        op, shape_str(root.shape()));
  }
  if (!gradient.defined()) {
    if (root.numel() != 1) {
      fail(
          "{}: a gradient can be implied only for one-element outputs, got shape {}; "
          "pass a gradient of that shape",
          op, shape_str(root.shape()));
    }
  } else if (gradient.shape() != root.shape() || gradient.dtype() != root.dtype()) {
    fail("{}: gradient {} {} does not match the output {} {}", op, gradient.dtype(),
         shape_str(gradient.shape()), root.dtype(), shape_str(root.shape()));
  }
}

// The gradient to start from: the caller's, or 1 for a one-element output (see check_root).
Tensor seed_gradient(const Tensor& root, const Tensor& gradient) {
  return gradient.defined() ? gradient : full(root.shape(), 1.0, {.dtype = root.dtype()});
}

// Where a pass delivers the gradients that reach leaves: into their .grad() (backward), or into
// slots of its own for the tensors asked for, leaving every .grad() alone (tg::grad). Such a
// tensor may be a leaf, whose slot gets what reaches it, or an interior tensor, whose slot gets
// the gradient summed in its node before that node runs.
class LeafGradients {
 public:
  LeafGradients() = default;
  explicit LeafGradients(const std::vector<Tensor>& inputs) : collecting_(true) {
    slots_.resize(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (inputs[i].is_leaf()) {
        leaf_index_.emplace(&inputs[i].impl(), i);
      } else {
        node_index_.emplace(inputs[i].grad_fn().get(), i);
      }
    }
  }

  bool collecting() const { return collecting_; }

  // The creation number below which no node can lead to a tensor asked for: the oldest node
  // asked for when all are interior (a node is newer than its inputs' nodes), else 0, as a leaf
  // may be an input of any node.
  uint64_t oldest_needed() const {
    if (!collecting_ || !leaf_index_.empty() || node_index_.empty()) return 0;
    uint64_t oldest = UINT64_MAX;
    for (const auto& [node, slot] : node_index_) oldest = std::min(oldest, node->sequence());
    return oldest;
  }

  void add(TensorImpl& leaf, const Tensor& gradient) {
    if (!collecting_) return detail::accumulate(leaf.grad, gradient);
    const auto [first, last] = leaf_index_.equal_range(&leaf);
    for (auto it = first; it != last; ++it) detail::accumulate(slots_[it->second], gradient);
  }

  // Takes the gradient waiting in `node` when an interior tensor asked for is its output.
  void capture(const Node& node) {
    const Tensor& gradient = node.pass_state().gradient;
    if (!gradient.defined()) return;
    const auto [first, last] = node_index_.equal_range(&node);
    for (auto it = first; it != last; ++it) detail::accumulate(slots_[it->second], gradient);
  }

  // Marks whether `node` has to run: whether a path from it reaches a tensor asked for. The
  // nodes of its inputs must have been marked first (older nodes first).
  void mark_needed(Node& node, uint64_t pass) const {
    bool needed = false;
    for (const Edge& edge : node.inputs()) {
      if (edge.node) {
        const Node::PassState& input = edge.node->pass_state();
        needed |= input.pass == pass && (input.needed || node_index_.count(edge.node.get()) != 0);
      } else if (edge.to_leaf) {
        const std::shared_ptr<TensorImpl> leaf = edge.leaf.lock();
        needed |= leaf && leaf_index_.count(leaf.get()) != 0;
      }
      if (needed) break;
    }
    node.pass_state().needed = needed;
  }

  std::vector<Tensor> take() {
    std::vector<Tensor> out;
    out.reserve(slots_.size());
    for (auto& slot : slots_) out.emplace_back(std::move(slot));
    return out;
  }

 private:
  bool collecting_ = false;
  // An input may be asked for twice, so each maps to every slot it fills.
  std::unordered_multimap<const TensorImpl*, size_t> leaf_index_;
  std::unordered_multimap<const Node*, size_t> node_index_;
  std::vector<std::shared_ptr<TensorImpl>> slots_;
};

// Reduces a gradient to the shape and dtype its input had in the forward pass.
Tensor fit_to_input(const Tensor& gradient, const Edge& edge) {
  Tensor fitted = gradient.shape() == edge.shape ? gradient : sum_to(gradient, edge.shape);
  return fitted.to(edge.dtype);
}

// Sets grad mode for its lifetime: off for an ordinary pass, on when it creates a graph.
class GradModeScope {
 public:
  explicit GradModeScope(bool enabled) : previous_(is_grad_enabled()) { set_grad_enabled(enabled); }
  ~GradModeScope() { set_grad_enabled(previous_); }
  GradModeScope(const GradModeScope&) = delete;
  GradModeScope& operator=(const GradModeScope&) = delete;

 private:
  bool previous_;
};

// Runs one node: its backward, then each input's share to the next node of this pass (a node
// left out of it, see reverse_topological_order, leads nowhere asked for) or to `leaves`.
void run_node(Node& node, bool retain_graph, LeafGradients& leaves, uint64_t pass) {
  Tensor grad_output = std::move(node.pass_state().gradient);
  if (!grad_output.defined()) return;  // nothing flowed into this node
  Grads grads = node.apply(grad_output);
  grad_output = Tensor();
  if (detail::anomaly_enabled()) {
    for (size_t i = 0; i < grads.size(); ++i) detail::check_backward_output(node, i, grads[i]);
  }
  const std::vector<Edge>& inputs = node.inputs();
  for (size_t i = 0; i < inputs.size() && i < grads.size(); ++i) {
    if (!inputs[i].needs_grad() || !grads[i].defined()) continue;
    Tensor g = fit_to_input(grads[i], inputs[i]);
    grads[i] = Tensor();
    if (inputs[i].node) {
      if (inputs[i].node->pass_state().pass != pass) continue;
      Tensor& pending = inputs[i].node->pass_state().gradient;
      pending = pending.defined() ? pending + g : std::move(g);
    } else if (const std::shared_ptr<TensorImpl> leaf = inputs[i].leaf.lock()) {
      leaves.add(*leaf, g);
    }
  }
  if (!retain_graph) node.release();
}

// The engine: backpropagates each root's gradient and hands every leaf's share to `leaves`.
// With create_graph the backward functions run with grad mode on, so the gradients they return
// are recorded (and the graph is kept, as PyTorch's retain_graph defaults to create_graph).
void backpropagate(std::span<const Tensor> roots, std::span<const Tensor> gradients,
                   bool retain_graph, bool create_graph, LeafGradients& leaves, const char* op) {
  const auto gradient_of = [&](size_t r) { return r < gradients.size() ? gradients[r] : Tensor(); };
  for (size_t r = 0; r < roots.size(); ++r) check_root(roots[r], gradient_of(r), op);
  const GradModeScope grad_mode(create_graph);
  detail::BackwardScope in_backward;
  static std::atomic<uint64_t> last_pass{0};
  const uint64_t pass = ++last_pass;
  const std::vector<Node*> order = reverse_topological_order(roots, pass, leaves.oldest_needed());
  const PendingGradients cleanup(order);
  for (size_t r = 0; r < roots.size(); ++r) {
    Tensor seed = seed_gradient(roots[r], gradient_of(r));
    if (roots[r].is_leaf()) {
      leaves.add(roots[r].impl(), seed);
      continue;
    }
    Tensor& pending = roots[r].grad_fn()->pass_state().gradient;
    pending = pending.defined() ? pending + seed : std::move(seed);
  }
  if (!leaves.collecting()) {
    for (Node* node : order) run_node(*node, retain_graph || create_graph, leaves, pass);
    return;
  }
  // tg::grad runs only the nodes on a path to what it was asked for (as torch does).
  for (auto it = order.rbegin(); it != order.rend(); ++it) leaves.mark_needed(**it, pass);
  for (Node* node : order) {
    leaves.capture(*node);
    if (node->pass_state().needed) run_node(*node, retain_graph || create_graph, leaves, pass);
  }
}

}  // namespace

void run_backward(const Tensor& root, const Tensor& gradient, bool retain_graph,
                  bool create_graph) {
  LeafGradients into_grad;
  backpropagate(std::span(&root, 1), std::span(&gradient, 1), retain_graph, create_graph, into_grad,
                "backward");
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool retain_graph,
                         bool create_graph) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined() || !inputs[i].requires_grad()) {
      fail(
          "grad: input {} does not require grad (neither a leaf that requires grad nor computed "
          "from one)",
          i);
    }
  }
  if (outputs.empty()) fail("grad: expected at least one output");
  if (!grad_outputs.empty() && grad_outputs.size() != outputs.size()) {
    fail("grad: {} grad_outputs for {} outputs", grad_outputs.size(), outputs.size());
  }
  LeafGradients collected(inputs);
  backpropagate(outputs, grad_outputs, retain_graph, create_graph, collected, "grad");
  return collected.take();
}

std::vector<Tensor> grad(const Tensor& output, const std::vector<Tensor>& inputs,
                         const Tensor& gradient, bool retain_graph, bool create_graph) {
  return grad(std::vector<Tensor>{output}, inputs, std::vector<Tensor>{gradient}, retain_graph,
              create_graph);
}

}  // namespace tg
