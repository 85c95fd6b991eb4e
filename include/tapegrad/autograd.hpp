#pragma once

#include <tapegrad/tensor.hpp>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <vector>

namespace tg {

/// One gradient per input of a node, in input order; an undefined entry means "no gradient".
using Grads = std::vector<Tensor>;
/// Maps the gradient of a node's output to the gradients of its inputs.
using BackwardFn = std::function<Grads(const Tensor& grad_output)>;

/// Where a node sends the gradient of one input: to the node that produced it, or to a leaf.
struct Edge {
  std::shared_ptr<Node> node;  // set when the input is an interior tensor
  // Set when the input is a leaf that requires grad. Weak: a .grad() recorded under create_graph
  // holds nodes whose edges lead back to its leaf, and a strong pointer would close that cycle
  // (PyTorch's documented create_graph leak); a leaf no one holds has no .grad() left to fill.
  std::weak_ptr<TensorImpl> leaf;
  bool to_leaf = false;  // leaf was set (it may have expired since)
  Shape shape;           // the input's shape, to reduce broadcast gradients to
  Dtype dtype = Dtype::Float32;
  bool needs_grad() const { return node || to_leaf; }
};

/// A recorded op on the tape: its inputs' edges and the backward function with its saved values.
class Node : public std::enable_shared_from_this<Node> {
 public:
  Node(const char* name, std::vector<Edge> inputs, BackwardFn backward);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  /// The op's name, as used in error messages.
  const char* name() const { return name_; }
  /// Creation order: a node is always newer than the nodes of its inputs.
  uint64_t sequence() const { return sequence_; }
  const std::vector<Edge>& inputs() const { return inputs_; }
  /// Runs the backward function; throws if the saved values were already released.
  Grads apply(const Tensor& grad_output) const;
  /// Frees the saved values (after a backward without retain_graph).
  void release();
  /// True once release() has run.
  bool is_released() const;
  /// Throws the "already freed, use retain_graph" error when released.
  void check_saved() const;

  /// The engine's bookkeeping for this node during one backward pass (src/autograd/backward.cpp):
  /// kept in the node so a pass needs no hash tables.
  struct PassState {
    uint64_t pass = 0;   // the last pass that reached this node
    Tensor gradient;     // the gradient flowing into its output, summed over its uses
    bool needed = true;  // tg::grad: a path from it reaches a tensor asked for
  };
  PassState& pass_state() const { return pass_state_; }

 private:
  const char* name_;
  uint64_t sequence_;
  std::vector<Edge> inputs_;
  BackwardFn backward_;
  mutable PassState pass_state_;
};

/// A tensor that a backward function keeps, with its storage's version at the time: using it
/// after an in-place write to that storage throws a tg::Error naming the op whose backward
/// needed it (PyTorch's "modified by an inplace operation"). Capture these, not tensors.
class SavedTensor {
 public:
  SavedTensor() = default;
  /// Keeps t's data and version: an interior tensor as a new handle on its storage and history
  /// (so a later in-place op on t changes neither), anything else detached. A parameter (a leaf
  /// that requires grad) is kept detached too, with a weak link to it that a backward run with
  /// create_graph follows, so its use is differentiated; weak, as the graph must not own the
  /// leaf whose .grad() may own the graph.
  explicit SavedTensor(const Tensor& t);
  /// Saves the op's own output `y`, which is not yet on the tape when the backward captures it:
  /// detached, so the node never owns the tensor that owns it; a backward run with create_graph
  /// gets it back attached to the running node, so its use is differentiated too.
  static SavedTensor output(const Tensor& y);
  /// The saved tensor; throws if its storage was written since it was saved.
  const Tensor& get() const;
  operator const Tensor&() const { return get(); }  // NOLINT: used as the tensor it saves
  const Tensor* operator->() const { return &get(); }
  bool defined() const { return tensor_.defined(); }

 private:
  Tensor tensor_;
  std::weak_ptr<TensorImpl> leaf_;  // the parameter saved, when it was one
  uint64_t version_ = 0;
  bool is_output_ = false;
};

/// Attaches a node to `output` when grad mode is on and any input requires grad; returns output.
/// The backward function must capture detached tensors only (see docs/architecture.md).
Tensor record(const char* name, Tensor output, std::span<const Tensor> inputs, BackwardFn backward);
/// record() for a braced list of inputs, as the ops write it: `record("mul", y, {a, b}, ...)`.
inline Tensor record(const char* name, Tensor output, std::initializer_list<Tensor> inputs,
                     BackwardFn backward) {
  return record(name, std::move(output), std::span<const Tensor>(inputs.begin(), inputs.size()),
                std::move(backward));
}

namespace detail {
// The grad mode of this thread; inline, as every op and backward function asks for it.
inline thread_local bool grad_enabled = true;
}  // namespace detail

/// True when ops are recorded (the default).
inline bool is_grad_enabled() { return detail::grad_enabled; }
/// Turns recording on or off for this thread.
inline void set_grad_enabled(bool enabled) { detail::grad_enabled = enabled; }

/// Disables recording for its lifetime, restoring the previous mode afterwards.
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

/// Anomaly mode (off by default, process-wide, free when off): the first op whose forward
/// output, or whose backward's gradient for an input, holds NaN or Inf throws a tg::Error
/// naming that op. Costs one scan of every op's output while on.
void set_detect_anomaly(bool enabled);
/// True while anomaly mode is on.
bool is_anomaly_enabled();

/// Backpropagates `gradient` from `root` into the leaves' .grad() (see Tensor::backward).
void run_backward(const Tensor& root, const Tensor& gradient, bool retain_graph,
                  bool create_graph = false);

/// The gradients of `output` with respect to `inputs`, returned in input order instead of
/// accumulated into their .grad(), which no leaf's changes: torch.autograd.grad. An input is a
/// leaf that requires grad or a tensor computed from one; only the ops on a path to an input
/// run. An input the output does not depend on gets an undefined tensor.
/// `gradient` seeds the pass as in Tensor::backward (implied 1 for a one-element output). With
/// `create_graph` the gradients are recorded on the tape, so they can be differentiated again,
/// and the graph is kept (PyTorch's retain_graph defaults to create_graph).
std::vector<Tensor> grad(const Tensor& output, const std::vector<Tensor>& inputs,
                         const Tensor& gradient = {}, bool retain_graph = false,
                         bool create_graph = false);
/// grad() of several outputs at once: Σ_k ⟨grad_outputs[k], d outputs[k]⟩, each grad_output
/// implied 1 for a one-element output when the list is empty or its entry undefined.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, bool retain_graph = false,
                         bool create_graph = false);

/// Tolerances of gradcheck; the defaults are torch.autograd.gradcheck's.
struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
  bool print_mismatch = true;  // describe the first mismatch on stderr
};

/// Compares the tape's gradients of fn with central finite differences in Float64, for every
/// input that requires grad; true when all agree within atol + rtol·|numerical|.
bool gradcheck(std::function<Tensor(const std::vector<Tensor>&)> fn, std::vector<Tensor> inputs,
               GradcheckOptions options = {});

/// gradcheck of fn's gradients (torch.autograd.gradgradcheck): the vector-Jacobian product
/// vᵀ·∂fn/∂inputs, taken with create_graph for a fixed random v, is itself checked against
/// finite differences in the inputs and in v, so every op's backward is checked to be
/// differentiable and differentiated right. Beyond torch's, that recorded product must also
/// equal (within the tolerances) the one a pass without create_graph computes.
bool gradgradcheck(std::function<Tensor(const std::vector<Tensor>&)> fn, std::vector<Tensor> inputs,
                   GradcheckOptions options = {});

namespace debug {
/// Number of tape nodes currently alive (for leak tests).
int64_t live_nodes();
}  // namespace debug

}  // namespace tg
