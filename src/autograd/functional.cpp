// torch.autograd.functional on top of tg::grad: every product is one or two create_graph
// passes, every matrix one pass per row (torch.autograd.functional, 1.13, reverse mode).

#include <tapegrad/autograd.hpp>
#include <tapegrad/autograd/functional.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/ops.hpp>

namespace tg::autograd {
namespace {

// Leaves to differentiate at: the inputs themselves when a graph is created through them and
// they are leaves that require grad, else detached copies that require grad (torch's
// _grad_preprocess).
std::vector<Tensor> leaves_of(const std::vector<Tensor>& inputs, bool create_graph,
                              const char* op) {
  std::vector<Tensor> leaves;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& input = inputs[i];
    if (!input.defined() || !is_floating(input.dtype())) {
      fail("{}: input {} must be a defined Float32 or Float64 tensor", op, i);
    }
    if (create_graph && input.is_leaf() && input.requires_grad()) {
      leaves.push_back(input);
    } else {
      leaves.push_back(input.detach().set_requires_grad(true));
    }
  }
  return leaves;
}

// fn at the leaves, checked to give a tensor.
Tensor evaluate(const Function& fn, const std::vector<Tensor>& leaves, const char* op) {
  Tensor output = fn(leaves);
  if (!output.defined()) fail("{}: the function returned an undefined tensor", op);
  return output;
}

// grad() that tolerates outputs independent of the inputs: those give zeros (torch's
// strict = False), and so does every input the outputs do not reach.
std::vector<Tensor> grad_or_zeros(const std::vector<Tensor>& outputs,
                                  const std::vector<Tensor>& inputs,
                                  const std::vector<Tensor>& grad_outputs, bool create_graph) {
  std::vector<Tensor> connected, seeds;
  for (size_t k = 0; k < outputs.size(); ++k) {
    if (!outputs[k].defined() || !outputs[k].requires_grad()) continue;
    connected.push_back(outputs[k]);
    seeds.push_back(k < grad_outputs.size() ? grad_outputs[k] : Tensor());
  }
  std::vector<Tensor> grads(inputs.size());
  if (!connected.empty()) grads = grad(connected, inputs, seeds, true, create_graph);
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!grads[i].defined()) grads[i] = zeros_like(inputs[i]);
  }
  return grads;
}

// The results cut from the tape unless the caller asked for a graph.
std::vector<Tensor> finished(std::vector<Tensor> results, bool create_graph) {
  if (!create_graph) {
    for (Tensor& result : results) result = result.detach();
  }
  return results;
}

void require_one_element(const Tensor& output, const char* op) {
  if (output.numel() != 1) {
    fail("{}: the function must return a one-element tensor, got shape {}", op,
         shape_str(output.shape()));
  }
}

void require_like(const std::vector<Tensor>& v, const std::vector<Tensor>& inputs, const char* op) {
  if (v.size() != inputs.size()) {
    fail("{}: expected one v per input ({}), got {}", op, inputs.size(), v.size());
  }
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].defined() || v[i].shape() != inputs[i].shape() || v[i].dtype() != inputs[i].dtype()) {
      fail("{}: v[{}] must match input {} ({} {}), got {}", op, i, i, inputs[i].dtype(),
           shape_str(inputs[i].shape()),
           v[i].defined() ? shape_str(v[i].shape()) : std::string("undefined"));
    }
  }
}

// Shape a ++ b.
Shape joined(const Shape& a, const Shape& b) {
  Shape out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

// The rows d outputs[r] / d inputs, one pass each, stacked into [outputs.numel(), …] per input.
std::vector<Tensor> rows_of(const Tensor& flat_output, const std::vector<Tensor>& leaves,
                            bool create_graph) {
  std::vector<std::vector<Tensor>> rows(leaves.size());
  for (int64_t r = 0; r < flat_output.numel(); ++r) {
    const std::vector<Tensor> g =
        grad_or_zeros({flat_output.select(0, r)}, leaves, {}, create_graph);
    for (size_t i = 0; i < leaves.size(); ++i) rows[i].push_back(g[i]);
  }
  std::vector<Tensor> stacked;
  for (size_t i = 0; i < leaves.size(); ++i) {
    stacked.push_back(rows[i].empty()
                          ? zeros(joined({0}, leaves[i].shape()), {.dtype = leaves[i].dtype()})
                          : stack(rows[i], 0));
  }
  return stacked;
}

}  // namespace

std::vector<Tensor> jacobian(const Function& fn, const std::vector<Tensor>& inputs,
                             bool create_graph) {
  const std::vector<Tensor> leaves = leaves_of(inputs, create_graph, "jacobian");
  const Tensor output = evaluate(fn, leaves, "jacobian");
  std::vector<Tensor> blocks = rows_of(output.reshape({-1}), leaves, create_graph);
  for (size_t i = 0; i < blocks.size(); ++i) {
    blocks[i] = blocks[i].reshape(joined(output.shape(), leaves[i].shape()));
  }
  return finished(std::move(blocks), create_graph);
}

std::vector<std::vector<Tensor>> hessian(const Function& fn, const std::vector<Tensor>& inputs,
                                         bool create_graph) {
  const std::vector<Tensor> leaves = leaves_of(inputs, create_graph, "hessian");
  const Tensor output = evaluate(fn, leaves, "hessian");
  require_one_element(output, "hessian");
  const std::vector<Tensor> gradient = grad_or_zeros({output}, leaves, {}, true);
  std::vector<std::vector<Tensor>> blocks(leaves.size());
  for (size_t i = 0; i < leaves.size(); ++i) {
    std::vector<Tensor> row = rows_of(gradient[i].reshape({-1}), leaves, create_graph);
    for (size_t j = 0; j < leaves.size(); ++j) {
      row[j] = row[j].reshape(joined(leaves[i].shape(), leaves[j].shape()));
    }
    blocks[i] = finished(std::move(row), create_graph);
  }
  return blocks;
}

ValueAndResult vjp(const Function& fn, const std::vector<Tensor>& inputs, const Tensor& v,
                   bool create_graph) {
  const std::vector<Tensor> leaves = leaves_of(inputs, create_graph, "vjp");
  const Tensor output = evaluate(fn, leaves, "vjp");
  if (!v.defined()) require_one_element(output, "vjp");
  if (v.defined() && (v.shape() != output.shape() || v.dtype() != output.dtype())) {
    fail("vjp: v {} {} must match the output {} {}", v.dtype(), shape_str(v.shape()),
         output.dtype(), shape_str(output.shape()));
  }
  std::vector<Tensor> result = grad_or_zeros({output}, leaves, {v}, create_graph);
  return {create_graph ? output : output.detach(), finished(std::move(result), create_graph)};
}

std::pair<Tensor, Tensor> jvp(const Function& fn, const std::vector<Tensor>& inputs,
                              const std::vector<Tensor>& v, bool create_graph) {
  require_like(v, inputs, "jvp");
  const std::vector<Tensor> leaves = leaves_of(inputs, create_graph, "jvp");
  const Tensor output = evaluate(fn, leaves, "jvp");
  // Jᵀu is linear in a dummy u; its gradient in u along v is J·v.
  const Tensor u = zeros_like(output).set_requires_grad(true);
  const std::vector<Tensor> transposed = grad_or_zeros({output}, leaves, {u}, true);
  const Tensor jv = grad_or_zeros(transposed, {u}, v, create_graph)[0];
  return {create_graph ? output : output.detach(), create_graph ? jv : jv.detach()};
}

ValueAndResult vhp(const Function& fn, const std::vector<Tensor>& inputs,
                   const std::vector<Tensor>& v, bool create_graph) {
  require_like(v, inputs, "vhp");
  const std::vector<Tensor> leaves = leaves_of(inputs, create_graph, "vhp");
  const Tensor output = evaluate(fn, leaves, "vhp");
  require_one_element(output, "vhp");
  const std::vector<Tensor> gradient = grad_or_zeros({output}, leaves, {}, true);
  std::vector<Tensor> result = grad_or_zeros(gradient, leaves, v, create_graph);
  return {create_graph ? output : output.detach(), finished(std::move(result), create_graph)};
}

ValueAndResult hvp(const Function& fn, const std::vector<Tensor>& inputs,
                   const std::vector<Tensor>& v, bool create_graph) {
  require_like(v, inputs, "hvp");
  const std::vector<Tensor> leaves = leaves_of(inputs, create_graph, "hvp");
  const Tensor output = evaluate(fn, leaves, "hvp");
  require_one_element(output, "hvp");
  // torch's order: g = ∇f, then uᵀ∂g (linear in dummies u), then its gradient in u along v.
  const std::vector<Tensor> gradient = grad_or_zeros({output}, leaves, {}, true);
  std::vector<Tensor> dummies;
  for (const Tensor& leaf : leaves) dummies.push_back(zeros_like(leaf).set_requires_grad(true));
  const std::vector<Tensor> double_back = grad_or_zeros(gradient, leaves, dummies, true);
  std::vector<Tensor> result = grad_or_zeros(double_back, dummies, v, create_graph);
  return {create_graph ? output : output.detach(), finished(std::move(result), create_graph)};
}

}  // namespace tg::autograd
