// gradgradcheck: gradcheck of the vector-Jacobian product that a create_graph pass builds.

#include <tapegrad/autograd.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/ops.hpp>
#include <tapegrad/random.hpp>

#include <cmath>
#include <cstdio>

namespace tg {
namespace {

// Grad mode on for its lifetime: gradcheck evaluates its function under NoGradGuard, and the
// vector-Jacobian product needs a graph to differentiate.
class EnableGrad {
 public:
  EnableGrad() : previous_(is_grad_enabled()) { set_grad_enabled(true); }
  ~EnableGrad() { set_grad_enabled(previous_); }
  EnableGrad(const EnableGrad&) = delete;
  EnableGrad& operator=(const EnableGrad&) = delete;

 private:
  bool previous_;
};

// The positions of the inputs that require grad.
std::vector<size_t> differentiable(const std::vector<Tensor>& inputs) {
  std::vector<size_t> which;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].defined() && inputs[i].requires_grad()) which.push_back(i);
  }
  return which;
}

}  // namespace

bool gradgradcheck(std::function<Tensor(const std::vector<Tensor>&)> fn, std::vector<Tensor> inputs,
                   GradcheckOptions options) {
  for (Tensor& input : inputs) {
    if (!input.defined() || !is_floating(input.dtype())) continue;
    const bool needs_grad = input.requires_grad();
    input = input.detach().to(Dtype::Float64).clone().detach();
    input.set_requires_grad(needs_grad);
  }
  const std::vector<size_t> which = differentiable(inputs);
  if (which.empty()) fail("gradgradcheck: no input requires grad");
  Shape output_shape;
  {
    EnableGrad grad_mode;
    output_shape = fn(inputs).shape();
  }
  // A fixed v (torch draws one too), so every evaluation differentiates the same product.
  Generator generator(20261202);
  Tensor v = randn(output_shape, {.dtype = Dtype::Float64}, generator);
  v.set_requires_grad(true);
  const size_t n = inputs.size();
  // (inputs, v) ↦ the flattened vᵀ·∂fn/∂inputs, one block per input that requires grad, from
  // a create_graph pass or an ordinary one.
  const auto vjp_of = [fn, which, n](const std::vector<Tensor>& args, bool create_graph) {
    EnableGrad grad_mode;
    const std::vector<Tensor> x(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(n));
    std::vector<Tensor> wrt;
    for (size_t i : which) wrt.push_back(x[i]);
    const Tensor output = fn(x);
    std::vector<Tensor> grads(wrt.size());
    if (output.requires_grad()) grads = grad(output, wrt, args[n], true, create_graph);
    std::vector<Tensor> flat;
    for (size_t k = 0; k < wrt.size(); ++k) {
      flat.push_back(grads[k].defined() ? grads[k].reshape({-1})
                                        : zeros({wrt[k].numel()}, {.dtype = Dtype::Float64}));
    }
    return cat(flat, 0);
  };
  inputs.push_back(v);
  // The recorded product must have the ordinary one's values: a recorded backward computing
  // some other function would otherwise pass, as the finite differences below differentiate
  // the same recorded product.
  const std::vector<double> recorded = vjp_of(inputs, true).detach().to_vector<double>();
  const std::vector<double> ordinary = vjp_of(inputs, false).detach().to_vector<double>();
  for (size_t i = 0; i < recorded.size(); ++i) {
    if (!(std::abs(recorded[i] - ordinary[i]) <=
          options.atol + options.rtol * std::abs(ordinary[i]))) {
      if (options.print_mismatch) {
        std::fprintf(stderr,
                     "gradgradcheck: entry %zu of the vector-Jacobian product is %.17g with "
                     "create_graph but %.17g without\n",
                     i, recorded[i], ordinary[i]);
      }
      return false;
    }
  }
  return gradcheck([vjp_of](const std::vector<Tensor>& args) { return vjp_of(args, true); }, inputs,
                   options);
}

}  // namespace tg
