// gradcheck: the tape's Jacobian (one backward per output element) against central differences.

#include <tapegrad/autograd.hpp>
#include <tapegrad/error.hpp>

#include <cmath>
#include <cstdio>

namespace tg {
namespace {

// Float64 leaf copies of the inputs, keeping which of them require grad.
std::vector<Tensor> float64_leaves(const std::vector<Tensor>& inputs) {
  std::vector<Tensor> leaves;
  for (const Tensor& input : inputs) {
    if (!input.defined() || !is_floating(input.dtype())) {
      leaves.push_back(input);
      continue;
    }
    Tensor leaf = input.detach().to(Dtype::Float64).clone().detach();
    leaf.set_requires_grad(input.requires_grad());
    leaves.push_back(leaf);
  }
  return leaves;
}

Tensor evaluate(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                const std::vector<Tensor>& inputs) {
  Tensor output = fn(inputs);
  if (!output.defined() || output.dtype() != Dtype::Float64) {
    fail("gradcheck: the function must return a Float64 tensor for Float64 inputs");
  }
  return output;
}

// analytical[o][i]: d output[o] / d input[i], from one backward per output element.
std::vector<std::vector<double>> tape_jacobian(
    const std::function<Tensor(const std::vector<Tensor>&)>& fn, std::vector<Tensor>& inputs,
    size_t which) {
  Tensor output = evaluate(fn, inputs);
  const int64_t outputs = output.numel();
  std::vector<std::vector<double>> jacobian(outputs);
  for (int64_t o = 0; o < outputs; ++o) {
    for (Tensor& input : inputs) {
      if (input.defined() && input.requires_grad()) input.zero_grad();
    }
    std::vector<double> one_hot(outputs, 0.0);
    one_hot[o] = 1.0;
    if (output.requires_grad()) {
      output.backward(tensor(one_hot, output.shape(), {.dtype = Dtype::Float64}), true);
    }
    Tensor grad = inputs[which].grad();
    jacobian[o] =
        grad.defined() ? grad.to_vector<double>() : std::vector<double>(inputs[which].numel(), 0.0);
  }
  return jacobian;
}

}  // namespace

bool gradcheck(std::function<Tensor(const std::vector<Tensor>&)> fn, std::vector<Tensor> inputs,
               GradcheckOptions options) {
  std::vector<Tensor> leaves = float64_leaves(inputs);
  for (size_t which = 0; which < leaves.size(); ++which) {
    if (!leaves[which].defined() || !leaves[which].requires_grad()) continue;
    const auto analytical = tape_jacobian(fn, leaves, which);
    double* x = leaves[which].data<double>();
    for (int64_t i = 0; i < leaves[which].numel(); ++i) {
      const double saved = x[i];
      std::vector<double> plus, minus;
      {
        NoGradGuard no_grad;
        x[i] = saved + options.eps;
        plus = evaluate(fn, leaves).to_vector<double>();
        x[i] = saved - options.eps;
        minus = evaluate(fn, leaves).to_vector<double>();
        x[i] = saved;
      }
      for (size_t o = 0; o < plus.size(); ++o) {
        const double numerical = (plus[o] - minus[o]) / (2 * options.eps);
        const double tape = analytical[o][i];
        if (!(std::abs(tape - numerical) <= options.atol + options.rtol * std::abs(numerical))) {
          if (options.print_mismatch) {
            std::fprintf(stderr,
                         "gradcheck: input %zu element %lld, output element %zu: tape gradient "
                         "%.12g, finite difference %.12g\n",
                         which, static_cast<long long>(i), o, tape, numerical);
          }
          return false;
        }
      }
    }
  }
  return true;
}

}  // namespace tg
