#include <tapegrad/autograd.hpp>
#include <tapegrad/error.hpp>

#include "autograd/anomaly.hpp"
#include "tensor/object_pool.hpp"
#include "tensor/tensor_impl.hpp"

#include <atomic>
#include <forward_list>
#include <utility>

namespace tg {
namespace {

std::atomic<uint64_t> next_sequence{0};
std::atomic<int64_t> live_node_count{0};
// The node whose backward function is running on this thread, for SavedTensor's message and
// for giving a saved output its history back under create_graph.
thread_local const Node* running_node = nullptr;
// The saved outputs handed back attached during the running backward function; they live until
// it returns (holding them in the node would make the node own itself). A forward_list, as
// the references handed out must stay valid and an empty one allocates nothing: the
// first-order pass, which never adds to it, pays nothing for it.
thread_local std::forward_list<Tensor>* attached_outputs = nullptr;

// Moves out the input nodes that only `inputs` keeps alive, so they can be destroyed by a loop
// instead of by recursion (a 100,000-op chain would otherwise overflow the stack).
void take_sole_owned_inputs(std::vector<Edge>& inputs, std::vector<std::shared_ptr<Node>>& out) {
  for (Edge& edge : inputs) {
    if (edge.node && edge.node.use_count() == 1) out.push_back(std::move(edge.node));
  }
}

}  // namespace

Node::Node(const char* name, std::vector<Edge> inputs, BackwardFn backward)
    : name_(name),
      sequence_(next_sequence++),
      inputs_(std::move(inputs)),
      backward_(std::move(backward)) {
  ++live_node_count;
}

Node::~Node() {
  // The saved tensors go first: they may hold the input nodes too (their history, for
  // create_graph), which would keep those from being counted as owned by the edges alone.
  backward_ = nullptr;
  std::vector<std::shared_ptr<Node>> orphans;
  take_sole_owned_inputs(inputs_, orphans);
  while (!orphans.empty()) {
    std::shared_ptr<Node> node = std::move(orphans.back());
    orphans.pop_back();
    node->backward_ = nullptr;
    take_sole_owned_inputs(node->inputs_, orphans);
  }
  --live_node_count;
}

void Node::check_saved() const {
  if (!backward_) {
    fail(
        "backward: the saved values of '{}' were already freed by an earlier backward; "
        "pass retain_graph = true to the first backward to backpropagate twice",
        name_);
  }
}

Grads Node::apply(const Tensor& grad_output) const {
  check_saved();
  std::forward_list<Tensor> outputs;
  const Node* outer = std::exchange(running_node, this);
  std::forward_list<Tensor>* outer_outputs = std::exchange(attached_outputs, &outputs);
  struct Restore {
    const Node* outer;
    std::forward_list<Tensor>* outer_outputs;
    ~Restore() {
      running_node = outer;
      attached_outputs = outer_outputs;
    }
  } restore{outer, outer_outputs};
  return backward_(grad_output);
}

namespace {

// A new handle on t's storage and history: what a backward needs of an interior tensor.
Tensor same_history(const Tensor& t) {
  Tensor handle = t.detach();
  handle.impl().requires_grad = true;
  handle.impl().grad_fn = t.grad_fn();
  return handle;
}

}  // namespace

SavedTensor::SavedTensor(const Tensor& t)
    : tensor_(t.is_leaf() ? t.detach() : same_history(t)), version_(t.impl().storage->version()) {
  if (t.is_leaf() && t.requires_grad()) leaf_ = t.shared_impl();
}

SavedTensor SavedTensor::output(const Tensor& y) {
  SavedTensor saved(y);  // y is not on the tape yet: this detaches it
  saved.is_output_ = true;
  return saved;
}

const Tensor& SavedTensor::get() const {
  const uint64_t now = tensor_.impl().storage->version();
  if (now != version_) [[unlikely]] {
    fail(
        "{}: a tensor its backward needs ({} {}) was modified by an in-place operation after the "
        "forward saved it (it is at version {}, expected version {}); clone() it before writing, "
        "or write after backward",
        running_node ? running_node->name() : "backward", tensor_.dtype(),
        shape_str(tensor_.shape()), now, version_);
  }
  if (!is_grad_enabled() || !running_node || !attached_outputs) return tensor_;  // first order
  if (is_output_) {
    Tensor& attached = attached_outputs->emplace_front(tensor_.detach());
    attached.impl().requires_grad = true;
    attached.impl().grad_fn = std::const_pointer_cast<Node>(running_node->shared_from_this());
    return attached;
  }
  if (std::shared_ptr<TensorImpl> leaf = leaf_.lock()) {
    return attached_outputs->emplace_front(std::move(leaf));
  }
  return tensor_;
}

void Node::release() { backward_ = nullptr; }

bool Node::is_released() const { return !backward_; }

Tensor record(const char* name, Tensor output, std::span<const Tensor> inputs,
              BackwardFn backward) {
  if (detail::anomaly_enabled()) detail::check_forward_output(name, output);
  if (!is_grad_enabled() || !is_floating(output.dtype())) return output;
  bool any_needs_grad = false;
  for (const Tensor& input : inputs) any_needs_grad |= input.defined() && input.requires_grad();
  if (!any_needs_grad) return output;

  std::vector<Edge> edges(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& input = inputs[i];
    if (!input.defined() || !input.requires_grad()) continue;
    edges[i].shape = input.shape();
    edges[i].dtype = input.dtype();
    if (input.grad_fn()) {
      edges[i].node = input.grad_fn();
    } else {
      edges[i].leaf = input.shared_impl();
      edges[i].to_leaf = true;
    }
  }
  output.impl().grad_fn = std::allocate_shared<Node>(detail::PoolAllocator<Node>(), name,
                                                     std::move(edges), std::move(backward));
  output.impl().requires_grad = true;
  return output;
}

int64_t debug::live_nodes() { return live_node_count.load(); }

}  // namespace tg
