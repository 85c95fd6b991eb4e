// A port of pytorch/examples' mnist/main.py: its Net (two 3×3 convolutions, max pooling,
// dropout, two linear layers) trained with Adadelta (lr 1.0) and StepLR(step_size=1,
// gamma=0.7), here on Fashion-MNIST (Debian's dataset-fashion-mnist, or --data-dir).
// --limit N trains on the first N images only (a quick run).

#include <tapegrad/tapegrad.hpp>

#include <fmt/core.h>

#include "common/flags.hpp"

#include <chrono>
#include <filesystem>
#include <memory>
#include <numeric>

namespace {

namespace F = tg::nn::F;

// main.py's Net, layer for layer.
class Net : public tg::nn::Module {
 public:
  Net() {
    conv1 = register_module("conv1", std::make_shared<tg::nn::Conv2d>(1, 32, 3, F::ConvOptions{}));
    conv2 = register_module("conv2", std::make_shared<tg::nn::Conv2d>(32, 64, 3, F::ConvOptions{}));
    dropout1 = register_module("dropout1", std::make_shared<tg::nn::Dropout>(0.25));
    dropout2 = register_module("dropout2", std::make_shared<tg::nn::Dropout>(0.5));
    fc1 = register_module("fc1", std::make_shared<tg::nn::Linear>(9216, 128));
    fc2 = register_module("fc2", std::make_shared<tg::nn::Linear>(128, 10));
  }

  // x [N, 1, 28, 28] → log-probabilities [N, 10], as main.py's Net.
  tg::Tensor forward(const tg::Tensor& input) override {
    tg::Tensor x = F::relu((*conv1)(input));
    x = F::relu((*conv2)(x));
    x = F::max_pool2d(x, 2);
    x = (*dropout1)(x).flatten(1);
    x = F::relu((*fc1)(x));
    return F::log_softmax((*fc2)((*dropout2)(x)), 1);
  }

  std::shared_ptr<tg::nn::Conv2d> conv1, conv2;
  std::shared_ptr<tg::nn::Dropout> dropout1, dropout2;
  std::shared_ptr<tg::nn::Linear> fc1, fc2;
};

// main.py's transforms: ToTensor (to [0, 1], done by load_mnist) then Normalize((0.1307,),
// (0.3081,)), kept as they are although these are MNIST's statistics; as [N, 1, 28, 28].
tg::data::TensorDataset prepare(tg::data::TensorDataset data, int64_t limit) {
  if (limit > 0 && limit < data.size()) {
    std::vector<int64_t> first(static_cast<size_t>(limit));
    std::iota(first.begin(), first.end(), int64_t{0});
    data = data.gather(first);
  }
  const tg::Tensor images = (data.inputs - 0.1307) / 0.3081;
  return {images.reshape({data.size(), 1, 28, 28}), data.targets};
}

tg::data::TensorDataset load_or_exit(const std::string& dir, tg::data::Split split) {
  try {
    return tg::data::load_mnist(dir, split);
  } catch (const tg::Error& e) {
    examples::Flags::die(e.what());
  }
}

// main.py's test(): mean loss and accuracy over the test set, without recording.
void evaluate(Net& model, const tg::data::TensorDataset& test) {
  tg::NoGradGuard no_grad;
  model.eval();
  double loss_sum = 0;
  int64_t correct = 0;
  for (const tg::data::Batch& batch : tg::data::DataLoader(test, {.batch_size = 1000})) {
    const tg::Tensor log_probs = model(batch.inputs);
    loss_sum += tg::nn::nll_loss(log_probs, batch.targets, {.reduction = tg::nn::Reduction::Sum})
                    .item<float>();
    const std::vector<int64_t> p = tg::argmax(log_probs, 1).to_vector<int64_t>();
    const std::vector<int64_t> t = batch.targets.to_vector<int64_t>();
    for (size_t i = 0; i < p.size(); ++i) correct += p[i] == t[i];
  }
  model.train();
  fmt::print("test: average loss {:.4f}, test accuracy: {:.4f}\n", loss_sum / test.size(),
             static_cast<double>(correct) / static_cast<double>(test.size()));
}

}  // namespace

int main(int argc, char** argv) {
  const examples::Flags flags(argc, argv,
                              "mnist_cnn: pytorch/examples' MNIST CNN trained on Fashion-MNIST",
                              {{"data-dir", "/usr/share/datasets/fashion-mnist"},
                               {"epochs", "1"},
                               {"limit", "0"},
                               {"batch-size", "64"},
                               {"seed", "1"}});
  const std::string data_dir = flags.text("data-dir");
  const int64_t epochs = flags.integer("epochs", 1, 1000);
  const int64_t limit = flags.integer("limit", 0, 60000);  // 0: every training image
  const int64_t batch_size = flags.integer("batch-size", 1, 60000);
  const auto seed = static_cast<uint64_t>(flags.integer("seed", 0, INT64_MAX));
  if (!std::filesystem::is_directory(data_dir)) {
    examples::Flags::die(
        fmt::format("data directory '{}' not found: install Debian's dataset-fashion-mnist "
                    "(sudo apt-get install dataset-fashion-mnist) or pass --data-dir",
                    data_dir));
  }
  const tg::data::TensorDataset train =
      prepare(load_or_exit(data_dir, tg::data::Split::Train), limit);
  const tg::data::TensorDataset test = prepare(load_or_exit(data_dir, tg::data::Split::Test), 0);
  fmt::print("Fashion-MNIST: {} training and {} test images; OpenBLAS {} kernel\n", train.size(),
             test.size(), tg::blas_core_name());

  tg::manual_seed(seed);
  Net model;
  tg::optim::Adadelta optimizer(model.parameters(), {.lr = 1.0});
  tg::optim::StepLR schedule(optimizer, 1, 0.7);
  tg::data::DataLoader loader(train, {.batch_size = batch_size, .shuffle = true, .seed = seed});
  for (int64_t epoch = 1; epoch <= epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    int64_t done = 0;
    for (const tg::data::Batch& batch : loader) {
      optimizer.zero_grad();
      const tg::Tensor loss = tg::nn::nll_loss(model(batch.inputs), batch.targets);
      loss.backward();
      optimizer.step();
      if (++done % 10 == 0 || done == loader.size()) {
        const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
        fmt::print("\rtrain epoch {} [{}/{}] loss {:.6f} {:6.0f} samples/s", epoch, done,
                   loader.size(), loss.item<float>(),
                   static_cast<double>(done * batch_size) / elapsed.count());
        std::fflush(stdout);
      }
    }
    fmt::print("\n");
    evaluate(model, test);
    schedule.step();
  }
}
