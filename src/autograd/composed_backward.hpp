#pragma once

// The second form of a fused op's backward. A fused op (conv2d, max_pool2d, …) computes its
// forward and its first-order backward in kernels of its own; when a graph is being created
// (create_graph), its gradient must instead be recorded, so it can be differentiated again.
// Rather than writing that backward a second time in recorded ops, it is taken as the gradient
// of the op's composed form (the same function written with recorded ops): one definition of
// the op's math, and every fused op's higher derivatives are those of ops already checked.

#include <tapegrad/autograd.hpp>

#include <functional>
#include <vector>

namespace tg::detail {

/// The op written with recorded ops: its inputs in the fused op's order → its output.
using ComposedForm = std::function<Tensor(const std::vector<Tensor>&)>;

/// x as a new interior tensor (a recorded identity) newer than every node so far: a tg::grad
/// asked for it walks only the graph recorded after it. A composed form that takes a gradient of
/// its own asks for such a tensor, never a leaf: asked for a leaf, tg::grad walks the whole
/// graph, into the enclosing backward pass's nodes, and disturbs that pass.
Tensor alias(const Tensor& x);

/// The gradients, recorded, of Σ grad_output · composed(inputs) with respect to each input that
/// requires grad (undefined for the others), in input order. Call it from a backward function
/// while creating_graph() is true, with the inputs as SavedTensor hands them back.
Grads composed_backward(const ComposedForm& composed, const std::vector<Tensor>& inputs,
                        const Tensor& grad_output);

}  // namespace tg::detail
