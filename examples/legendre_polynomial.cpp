// Port of "PyTorch: Defining New autograd Functions" (github.com/pytorch/tutorials,
// beginner_source/examples_autograd/polynomial_custom_function.py, commit c53e7d4): fits
// y = a + b·P3(c + d·x) to sin(x) on [−π, π], where P3(x) = ½(5x³ − 3x) is the Legendre
// polynomial of degree three, written as a custom autograd function with its own backward,
// P3'(x) = 3/2·(5x² − 1). Float32, plain gradient descent with hand-written updates; prints
// the loss every 100 steps and the fitted polynomial, as the original does. Its output under
// torch 1.13 is examples/ports/expected/legendre_polynomial.txt.
#include <tapegrad/tapegrad.hpp>

#include <fmt/core.h>

#include "ports/python_float.hpp"

#include <numbers>

namespace {

// LegendrePolynomial3 (torch.autograd.Function): the forward is computed with recording off,
// as PyTorch runs Function.forward, and tg::record attaches the hand-written backward.
tg::Tensor legendre_p3(const tg::Tensor& input) {
  tg::Tensor output;
  {
    tg::NoGradGuard no_grad;
    output = 0.5 * (5 * input.pow(3) - 3 * input);
  }
  // ctx.save_for_backward(input): a SavedTensor, so an in-place change of input is caught.
  return tg::record("LegendrePolynomial3", output, {input},
                    [input = tg::SavedTensor(input)](const tg::Tensor& grad_output) -> tg::Grads {
                      const tg::Tensor& x = input;
                      return {grad_output * 1.5 * (5 * x.pow(2) - 1)};
                    });
}

// torch.full((), value, requires_grad=True): a 0-d Float32 parameter.
tg::Tensor parameter(double value) { return tg::full({}, value, {.requires_grad = true}); }

}  // namespace

int main() {
  const tg::Tensor x = tg::linspace(-std::numbers::pi, std::numbers::pi, 2000);
  const tg::Tensor y = x.sin();

  // The original's initial values, chosen near the answer so that the fit converges.
  tg::Tensor a = parameter(0.0), b = parameter(-1.0), c = parameter(0.0), d = parameter(0.3);

  const double learning_rate = 5e-6;
  for (int t = 0; t < 2000; ++t) {
    const tg::Tensor y_pred = a + b * legendre_p3(c + d * x);

    const tg::Tensor loss = (y_pred - y).pow(2).sum();
    if (t % 100 == 99) fmt::print("{} {}\n", t, examples::python_float(loss.item<float>()));

    loss.backward();

    // Gradient descent by hand: in-place updates of leaves are allowed with recording off.
    tg::NoGradGuard no_grad;
    for (tg::Tensor* p : {&a, &b, &c, &d}) {
      *p -= learning_rate * p->grad();
      p->zero_grad();  // a.grad = None
    }
  }
  using examples::python_float;
  fmt::print("Result: y = {} + {} * P3({} + {} x)\n", python_float(a.item<float>()),
             python_float(b.item<float>()), python_float(c.item<float>()),
             python_float(d.item<float>()));
}
