// Classifies points of three noisy spirals with a small MLP: data, model, loss, optimizer,
// schedule, training loop and evaluation — everything a first program needs.
#include <tapegrad/tapegrad.hpp>

#include <fmt/core.h>

#include <cmath>

int main() {
  tg::manual_seed(42);

  // 1. Data: 3 spirals of 100 points each; inputs [300, 2] Float32, labels [300] Int64.
  std::vector<double> points, labels;
  for (int c = 0; c < 3; ++c) {
    for (int i = 0; i < 100; ++i) {
      const double r = i / 100.0, angle = 4.0 * c + 4.0 * r;
      points.push_back(r * std::sin(angle));
      points.push_back(r * std::cos(angle));
      labels.push_back(c);
    }
  }
  const tg::Tensor x = tg::tensor(points, {300, 2}) + 0.02 * tg::randn({300, 2});
  const tg::Tensor y = tg::tensor(labels, {300}, {.dtype = tg::Dtype::Int64});
  tg::data::DataLoader loader({x, y}, {.batch_size = 32, .shuffle = true, .seed = 42});

  // 2. Model, optimizer and learning-rate schedule.
  tg::nn::Sequential model{tg::nn::Linear(2, 64), tg::nn::ReLU(), tg::nn::Linear(64, 3)};
  tg::optim::RMSProp optimizer(model.parameters(), {.lr = 0.01});
  tg::optim::StepLR schedule(optimizer, /*step_size=*/100, /*gamma=*/0.5);

  // 3. Training: forward, loss, backward, update.
  for (int epoch = 1; epoch <= 300; ++epoch) {
    double total = 0;
    for (const tg::data::Batch& batch : loader) {
      optimizer.zero_grad();
      const tg::Tensor loss = tg::nn::cross_entropy(model(batch.inputs), batch.targets);
      loss.backward();
      optimizer.step();
      total += loss.item<float>();
    }
    schedule.step();
    if (epoch % 100 == 0) fmt::print("epoch {}  loss {:.4f}\n", epoch, total / loader.size());
  }

  // 4. Evaluation, without recording the tape.
  tg::NoGradGuard no_grad;
  const std::vector<int64_t> predicted = tg::argmax(model(x), 1).to_vector<int64_t>();
  int correct = 0;
  for (int i = 0; i < 300; ++i) correct += predicted[i] == static_cast<int64_t>(labels[i]);
  fmt::print("training accuracy: {:.3f}\n", correct / 300.0);
}
