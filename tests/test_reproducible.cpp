// The same program gives the same parameter bits for every thread count: a batch split across
// threads (data_parallel_backward), optimizer updates split across threads, and OpenBLAS's own
// threads. (Every CPU level gives the same bits too: test_cpu_levels.cpp.)

#include "helpers.hpp"

#include <cstring>
#include <vector>

using tg::Tensor;
namespace nn = tg::nn;
namespace optim = tg::optim;

namespace {

enum class Backward { Plain, DataParallel };

// Trains 200-256-10 (51k weights: the optimizer splits them across threads; OpenBLAS threads the
// products) with `threads` threads for 4 steps of RMSProp then 4 of Adam; returns every
// parameter's values as bytes.
std::vector<std::vector<char>> train(int threads, Backward backward) {
  const int previous = tg::num_threads();
  tg::set_num_threads(threads);
  tg::manual_seed(17);
  nn::Sequential model{nn::Linear(200, 256), nn::ReLU(), nn::Linear(256, 10)};
  const Tensor x = tg::randn({259, 200});  // four shards of 64 and 65 rows
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < 259; ++i) labels.push_back(i * 7 % 10);
  const Tensor y = tg::from_vector(labels, {259});
  const std::vector<Tensor> params = model.parameters();
  const nn::ShardLoss loss = [&](const Tensor& in, const Tensor& target) {
    return nn::cross_entropy(model(in), target);
  };
  optim::RMSProp rmsprop(params, {.lr = 0.01, .momentum = 0.9, .centered = true});
  optim::Adam adam(params, {.lr = 0.01, .amsgrad = true});
  for (int step = 0; step < 8; ++step) {
    optim::Optimizer& optimizer = step < 4 ? static_cast<optim::Optimizer&>(rmsprop) : adam;
    optimizer.zero_grad();
    if (backward == Backward::DataParallel) {
      nn::data_parallel_backward(params, x, y, loss);
    } else {
      loss(x, y).backward();
    }
    optimizer.step();
  }
  tg::set_num_threads(previous);
  std::vector<std::vector<char>> bytes;
  for (const Tensor& p : params) {
    const auto* data = static_cast<const char*>(p.raw_data());
    bytes.emplace_back(data, data + p.numel() * static_cast<int64_t>(sizeof(float)));
  }
  return bytes;
}

}  // namespace

TEST_CASE("training gives the same parameter bits for 1, 2, 3 and 4 threads",
          "[parallel][reproducible]") {
  for (const Backward backward : {Backward::Plain, Backward::DataParallel}) {
    const auto one_thread = train(1, backward);
    for (int threads : {2, 3, 4}) {
      INFO(threads << " threads, " << (backward == Backward::Plain ? "plain" : "data parallel"));
      CHECK(train(threads, backward) == one_thread);
    }
  }
}

TEST_CASE("a CNN trains to the same parameter bits for 1, 2 and 3 threads",
          "[parallel][reproducible][conv]") {
  // 37 samples: conv2d's chunks of 16 samples are 16, 16 and 5, spread over the threads.
  const auto train_cnn = [](int threads) {
    const int previous = tg::num_threads();
    tg::set_num_threads(threads);
    tg::manual_seed(23);
    nn::Sequential model{nn::Conv2d(3, 4, 3, {.padding = 1}), nn::ReLU(),    nn::MaxPool2d(2),
                         nn::Conv2d(4, 6, 3, {.groups = 2}),  nn::Flatten(), nn::Linear(6, 5)};
    const Tensor x = tg::randn({37, 3, 6, 6});
    std::vector<int64_t> labels;
    for (int64_t i = 0; i < 37; ++i) labels.push_back(i * 3 % 5);
    const Tensor y = tg::from_vector(labels, {37});
    optim::Adam adam(model.parameters(), {.lr = 0.01});
    for (int step = 0; step < 3; ++step) {
      adam.zero_grad();
      nn::cross_entropy(model(x), y).backward();
      adam.step();
    }
    tg::set_num_threads(previous);
    std::vector<std::vector<float>> values;
    for (const Tensor& p : model.parameters()) values.push_back(p.to_vector<float>());
    return values;
  };
  const auto one_thread = train_cnn(1);
  for (int threads : {2, 3}) {
    INFO(threads << " threads");
    const auto many = train_cnn(threads);
    REQUIRE(many.size() == one_thread.size());
    for (size_t i = 0; i < many.size(); ++i) {
      CHECK(std::memcmp(many[i].data(), one_thread[i].data(), many[i].size() * sizeof(float)) == 0);
    }
  }
}
