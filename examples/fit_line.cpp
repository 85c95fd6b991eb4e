// Fits y = 3x + 2 from noisy samples with a Linear layer, RMSProp and a cosine schedule.
#include <tapegrad/tapegrad.hpp>

#include <fmt/core.h>

int main() {
  tg::manual_seed(0);
  const tg::Tensor x = tg::randn({256, 1});
  const tg::Tensor y = 3.0 * x + 2.0 + 0.1 * tg::randn({256, 1});

  tg::nn::Linear model(1, 1);
  tg::optim::RMSProp optimizer(model.parameters(), {.lr = 0.05});
  tg::optim::CosineAnnealingLR schedule(optimizer, /*T_max=*/300);
  for (int step = 1; step <= 300; ++step) {
    optimizer.zero_grad();
    const tg::Tensor loss = tg::nn::mse_loss(model(x), y);
    loss.backward();
    optimizer.step();
    schedule.step();
    if (step % 50 == 0) fmt::print("step {:3d}  loss {:.5f}\n", step, loss.item<float>());
  }
  fmt::print("learned w = {:.3f} (true 3), b = {:.3f} (true 2)\n", model.weight.item<float>(),
             model.bias.item<float>());
}
