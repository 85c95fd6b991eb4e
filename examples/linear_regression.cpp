// The RMSProp tutorial's example done right: fit y = w·x + b to noisy samples with RMSProp,
// print the true and learned w and b, and the loss curve as text.

#include <tapegrad/tapegrad.hpp>

#include <fmt/core.h>

#include "common/flags.hpp"

#include <algorithm>
#include <cmath>

int main(int argc, char** argv) {
  const examples::Flags flags(argc, argv, "linear_regression: fits y = w·x + b with RMSProp",
                              {{"w", "2.5"},
                               {"b", "-1"},
                               {"noise", "0.3"},
                               {"samples", "200"},
                               {"epochs", "60"},
                               {"lr", "0.05"},
                               {"batch-size", "20"},
                               {"seed", "0"}});
  const double true_w = flags.number("w", -1e6, 1e6), true_b = flags.number("b", -1e6, 1e6);
  const double noise = flags.number("noise", 0, 1e6);
  const int64_t samples = flags.integer("samples", 1, 10000000);
  const int64_t epochs = flags.integer("epochs", 1, 100000);
  const double lr = flags.number("lr", 0, 10);
  const int64_t batch_size = flags.integer("batch-size", 1, 10000000);
  const auto seed = static_cast<uint64_t>(flags.integer("seed", 0, INT64_MAX));

  tg::manual_seed(seed);
  const tg::Tensor x = tg::randn({samples, 1});
  const tg::Tensor y = true_w * x + true_b + noise * tg::randn({samples, 1});

  tg::nn::Linear model(1, 1);
  tg::optim::RMSProp optimizer(model.parameters(), {.lr = lr});
  tg::optim::CosineAnnealingLR schedule(optimizer, epochs);
  tg::data::DataLoader loader({x, y}, {.batch_size = batch_size, .shuffle = true, .seed = seed});
  std::vector<double> curve;
  for (int64_t epoch = 1; epoch <= epochs; ++epoch) {
    double loss_sum = 0;
    for (const tg::data::Batch& batch : loader) {
      optimizer.zero_grad();
      // MSE: L = (1/N)·Σ(ŷᵢ − yᵢ)², so ∂L/∂w = −(2/N)·Σ(yᵢ − ŷᵢ)·xᵢ — the tape computes it.
      const tg::Tensor loss = tg::nn::mse_loss(model(batch.inputs), batch.targets);
      loss.backward();
      optimizer.step();
      loss_sum += loss.item<float>();
    }
    schedule.step();
    curve.push_back(loss_sum / loader.size());
  }

  // The loss curve on a log scale: one row per tenth of training.
  const double top = std::log10(*std::max_element(curve.begin(), curve.end()));
  const double bottom = std::log10(*std::min_element(curve.begin(), curve.end()));
  fmt::print("epoch  mean loss   (log scale)\n");
  for (int64_t e = 0; e < epochs; e += std::max<int64_t>(1, epochs / 10)) {
    const double position = top == bottom ? 1 : (std::log10(curve[e]) - bottom) / (top - bottom);
    fmt::print("{:5d}  {:9.5f}  {:#<{}}\n", e + 1, curve[e], "",
               1 + static_cast<int>(40 * position));
  }
  fmt::print("{:5d}  {:9.5f}\n\n", epochs, curve.back());
  fmt::print("true    w = {:8.4f}  b = {:8.4f}\n", true_w, true_b);
  fmt::print("learned w = {:8.4f}  b = {:8.4f}\n", model.weight.item<float>(),
             model.bias.item<float>());
  fmt::print("the noise floor of the loss is noise² = {:.4f}\n", noise * noise);
}
