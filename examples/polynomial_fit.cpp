// Port of "PyTorch: Tensors and autograd" (github.com/pytorch/tutorials,
// beginner_source/examples_autograd/polynomial_autograd.py, commit 92f11a1): fits
// y = a + b·x + c·x² + d·x³ to sin(x) on [−π, π] by gradient descent on the summed squared
// error, with the gradients from autograd and hand-written updates. Float32; prints the loss
// every 100 steps and the fitted polynomial, as the original does. Its output under torch 1.13
// is examples/ports/expected/polynomial_fit.txt.
#include <tapegrad/tapegrad.hpp>

#include <fmt/core.h>

#include "ports/python_float.hpp"

#include <numbers>

namespace {

// A 0-d Float32 parameter starting at `value`.
tg::Tensor parameter(double value) { return tg::full({}, value, {.requires_grad = true}); }

}  // namespace

int main() {
  const tg::Tensor x = tg::linspace(-std::numbers::pi, std::numbers::pi, 2000);
  const tg::Tensor y = x.sin();

  // The original draws a, b, c, d with torch.randn((), dtype=torch.float) and no seed, so each
  // run differs. To compare figures, the reference is run after torch.manual_seed(0)
  // (examples/ports/make_expected.py), and these are those four Float32 draws, printed by
  // `torch.manual_seed(0); [torch.randn(()).item() for _ in range(4)]` (exact: a float printed
  // with 17 digits reads back as the same float). tapegrad's generator is not PyTorch's, so
  // tg::manual_seed(0) + tg::randn would draw other numbers.
  tg::Tensor a = parameter(1.5409960746765137), b = parameter(-0.293428897857666),
             c = parameter(-2.1787893772125244), d = parameter(0.5684312582015991);

  const double learning_rate = 1e-6;
  for (int t = 0; t < 2000; ++t) {
    const tg::Tensor y_pred = a + b * x + c * x.pow(2) + d * x.pow(3);

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
  fmt::print("Result: y = {} + {} x + {} x^2 + {} x^3\n", python_float(a.item<float>()),
             python_float(b.item<float>()), python_float(c.item<float>()),
             python_float(d.item<float>()));
}
