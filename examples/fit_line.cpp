// Fits y = 3x + 2 with the autograd tape and plain gradient descent, then prints what it learned.

#include <fmt/core.h>

#include <tapegrad/tapegrad.hpp>

int main() {
  tg::manual_seed(0);
  const tg::Tensor x = tg::randn({64, 1});
  const tg::Tensor y = 3.0 * x + 2.0 + 0.01 * tg::randn({64, 1});

  tg::Tensor w = tg::zeros({1, 1}, {.requires_grad = true});
  tg::Tensor b = tg::zeros({1}, {.requires_grad = true});
  const double lr = 0.1;
  for (int step = 0; step <= 100; ++step) {
    const tg::Tensor loss = tg::mean(tg::square(tg::matmul(x, w) + b - y));
    w.zero_grad();
    b.zero_grad();
    loss.backward();
    {
      tg::NoGradGuard no_grad;  // the update itself is not part of the model
      w.data<float>()[0] -= static_cast<float>(lr) * w.grad().item<float>();
      b.data<float>()[0] -= static_cast<float>(lr) * b.grad().item<float>();
    }
    if (step % 20 == 0) fmt::print("step {:3d}  loss {:.6f}\n", step, loss.item<float>());
  }
  fmt::print("learned w = {:.4f} (true 3), b = {:.4f} (true 2)\n", w.item<float>(),
             b.item<float>());
}
