// torch.autograd.functional: Jacobians, Hessians and their products, built on tg::grad with
// create_graph (docs/architecture.md, "Derivatives of derivatives").
#pragma once

#include <tapegrad/tensor.hpp>

#include <functional>
#include <utility>
#include <vector>

namespace tg::autograd {

/// A function of several tensors, as gradcheck takes it.
using Function = std::function<Tensor(const std::vector<Tensor>&)>;
/// fn's value at the inputs and one result tensor per input (or the output, for jvp).
using ValueAndResult = std::pair<Tensor, std::vector<Tensor>>;

/// The Jacobian of fn's output with respect to each input: result[i] has shape
/// output.shape + inputs[i].shape (torch.autograd.functional.jacobian, reverse mode, one backward
/// per output element). An input fn does not depend on gets zeros.
std::vector<Tensor> jacobian(const Function& fn, const std::vector<Tensor>& inputs,
                             bool create_graph = false);

/// The Hessian of a one-element fn: result[i][j] has shape inputs[i].shape + inputs[j].shape.
std::vector<std::vector<Tensor>> hessian(const Function& fn, const std::vector<Tensor>& inputs,
                                         bool create_graph = false);

/// {fn(inputs), vᵀJ}: the vector-Jacobian product, v of the output's shape (implied 1 for a
/// one-element output when undefined); one tensor per input.
ValueAndResult vjp(const Function& fn, const std::vector<Tensor>& inputs, const Tensor& v = {},
                   bool create_graph = false);

/// {fn(inputs), J·v}: the Jacobian-vector product, v one tensor per input; computed in reverse
/// mode by the double-backward trick (J·v = ∂/∂u ⟨Jᵀu, v⟩), as torch.autograd.functional.jvp.
std::pair<Tensor, Tensor> jvp(const Function& fn, const std::vector<Tensor>& inputs,
                              const std::vector<Tensor>& v, bool create_graph = false);

/// {fn(inputs), H·v} for a one-element fn, v one tensor per input.
ValueAndResult hvp(const Function& fn, const std::vector<Tensor>& inputs,
                   const std::vector<Tensor>& v, bool create_graph = false);

/// {fn(inputs), vᵀH} for a one-element fn (equal to H·v, H being symmetric, up to rounding).
ValueAndResult vhp(const Function& fn, const std::vector<Tensor>& inputs,
                   const std::vector<Tensor>& v, bool create_graph = false);

}  // namespace tg::autograd
