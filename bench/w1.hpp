#pragma once

// W1 of docs/performance.md as bench_train and bench_dist run it: the MLP 784-256-128-10 from
// seed 0, RMSProp (lr 1e-3, alpha 0.99, eps 1e-8), shuffled batches of 128 from seed 0.

#include <tapegrad/tapegrad.hpp>

#include <vector>

namespace bench {

struct W1 {
  static tg::nn::Sequential seeded_model() {
    tg::manual_seed(0);
    return tg::nn::Sequential{tg::nn::Linear(784, 256), tg::nn::ReLU(), tg::nn::Linear(256, 128),
                              tg::nn::ReLU(), tg::nn::Linear(128, 10)};
  }

  explicit W1(const tg::data::TensorDataset& train)
      : loader(train, {.batch_size = 128, .shuffle = true, .seed = 0}) {}

  tg::Tensor loss(const tg::Tensor& x, const tg::Tensor& y) {
    return tg::nn::cross_entropy(model(x), y);
  }

  tg::nn::Sequential model = seeded_model();
  std::vector<tg::Tensor> parameters = model.parameters();
  tg::optim::RMSProp optimizer{parameters, {.lr = 1e-3, .alpha = 0.99, .eps = 1e-8}};
  tg::data::DataLoader loader;
};

}  // namespace bench
