// Classifies Fashion-MNIST with an MLP 784-256-128-10, RMSProp and cosine annealing.
// Data: Debian's dataset-fashion-mnist package (or --data-dir with the four IDX files).
// --save PATH writes a checkpoint after every epoch; --resume PATH continues a run from one,
// giving bit-identical results to a run that was never interrupted; --stop-after N ends this
// run after epoch N (to train in chunks).

#include <tapegrad/tapegrad.hpp>

#include <fmt/core.h>

#include "common/flags.hpp"

#include <chrono>
#include <filesystem>

namespace {

const char* const kClassNames[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                     "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

// Predicted class of every test image, in batches of 1000, without recording.
std::vector<int64_t> predict(tg::nn::Module& model, const tg::data::TensorDataset& test) {
  tg::NoGradGuard no_grad;
  std::vector<int64_t> predictions;
  for (const tg::data::Batch& batch : tg::data::DataLoader(test, {.batch_size = 1000})) {
    for (int64_t p : tg::argmax(model(batch.inputs), 1).to_vector<int64_t>()) {
      predictions.push_back(p);
    }
  }
  return predictions;
}

// A damaged data file ends the program with the loader's one-line message.
tg::data::TensorDataset load_or_exit(const std::string& dir, tg::data::Split split) {
  try {
    return tg::data::load_mnist(dir, split);
  } catch (const tg::Error& e) {
    examples::Flags::die(e.what());
  }
}

double accuracy(const std::vector<int64_t>& predictions, const std::vector<int64_t>& labels) {
  int64_t correct = 0;
  for (size_t i = 0; i < labels.size(); ++i) correct += predictions[i] == labels[i];
  return static_cast<double>(correct) / static_cast<double>(labels.size());
}

void save_or_exit(const std::string& path, const tg::nn::Module& model,
                  const tg::optim::Optimizer& optimizer, const tg::CheckpointExtra& progress) {
  try {
    tg::save_checkpoint(path, model, optimizer, progress);
  } catch (const tg::Error& e) {
    examples::Flags::die(e.what());
  }
}

void print_progress(int64_t epoch, int64_t epochs, int64_t done, int64_t total, double loss,
                    double samples_per_second) {
  const int width = 30;
  const auto filled = static_cast<int>(width * done / total);
  fmt::print("\repoch {:2d}/{} [{:=<{}}{:<{}}] {:3d}/{} loss {:.4f} {:7.0f} samples/s", epoch,
             epochs, "", filled, "", width - filled, done, total, loss, samples_per_second);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const examples::Flags flags(
      argc, argv,
      "classify_fashion_mnist: trains an MLP on Fashion-MNIST and reports test accuracy",
      {{"data-dir", "/usr/share/datasets/fashion-mnist"},
       {"epochs", "10"},
       {"lr", "0.001"},
       {"batch-size", "128"},
       {"seed", "0"},
       {"threads", "1"},
       {"save", ""},
       {"resume", ""},
       {"stop-after", "0"}});
  const std::string data_dir = flags.text("data-dir");
  const int64_t epochs = flags.integer("epochs", 1, 1000);
  const double lr = flags.number("lr", 0, 10);
  const int64_t batch_size = flags.integer("batch-size", 1, 60000);
  const auto seed = static_cast<uint64_t>(flags.integer("seed", 0, INT64_MAX));
  const std::string save_path = flags.text("save");
  const std::string resume_path = flags.text("resume");
  const int64_t stop_after = flags.integer("stop-after", 0, epochs);  // 0: run every epoch
  tg::set_num_threads(static_cast<int>(flags.integer("threads", 1, 256)));
  if (!std::filesystem::is_directory(data_dir)) {
    examples::Flags::die(
        fmt::format("data directory '{}' not found: install Debian's dataset-fashion-mnist "
                    "(sudo apt-get install dataset-fashion-mnist) or pass --data-dir",
                    data_dir));
  }

  const tg::data::TensorDataset train = load_or_exit(data_dir, tg::data::Split::Train);
  const tg::data::TensorDataset test = load_or_exit(data_dir, tg::data::Split::Test);
  fmt::print(
      "Fashion-MNIST: {} training and {} test images; OpenBLAS {} kernel, tapegrad {} kernels, "
      "{} thread(s)\n",
      train.size(), test.size(), tg::blas_core_name(), tg::cpu_level(), tg::num_threads());

  tg::manual_seed(seed);
  tg::nn::Sequential model{tg::nn::Linear(784, 256), tg::nn::ReLU(), tg::nn::Linear(256, 128),
                           tg::nn::ReLU(), tg::nn::Linear(128, 10)};
  tg::optim::RMSProp optimizer(model.parameters(), {.lr = lr});
  tg::optim::CosineAnnealingLR schedule(optimizer, epochs);
  tg::data::DataLoader loader(train, {.batch_size = batch_size, .shuffle = true, .seed = seed});

  tg::CheckpointExtra progress{.scheduler = &schedule, .generator = &tg::default_generator()};
  if (!resume_path.empty()) {
    try {
      tg::load_checkpoint(resume_path, model, optimizer, progress);
    } catch (const tg::Error& e) {
      examples::Flags::die(e.what());
    }
    loader.set_epoch(progress.epoch);
    fmt::print("resumed from '{}' after epoch {} (step {})\n", resume_path, progress.epoch,
               progress.step);
  }

  const std::vector<int64_t> labels = test.targets.to_vector<int64_t>();
  std::vector<int64_t> predicted;
  const std::vector<tg::Tensor> parameters = model.parameters();
  const auto batch_loss = [&](const tg::Tensor& images, const tg::Tensor& classes) {
    return tg::nn::cross_entropy(model(images), classes);
  };
  for (int64_t epoch = progress.epoch + 1; epoch <= epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    double loss_sum = 0;
    int64_t done = 0, seen = 0;
    for (const tg::data::Batch& batch : loader) {
      optimizer.zero_grad();
      // batch_loss(batch.inputs, batch.targets).backward(), with the batch split into shards
      // shared among the --threads threads: the same bits for every thread count.
      const tg::Tensor loss =
          tg::nn::data_parallel_backward(parameters, batch.inputs, batch.targets, batch_loss);
      optimizer.step();
      ++progress.step;
      loss_sum += loss.item<float>();
      seen += batch.inputs.size(0);
      if (++done % 47 == 0 || done == loader.size()) {
        const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
        print_progress(epoch, epochs, done, loader.size(), loss_sum / done, seen / elapsed.count());
      }
    }
    schedule.step();
    predicted = predict(model, test);
    fmt::print("  test accuracy {:.4f}\n", accuracy(predicted, labels));
    progress.epoch = epoch;
    if (!save_path.empty()) save_or_exit(save_path, model, optimizer, progress);
    if (epoch == stop_after) {
      fmt::print("stopped after epoch {} as asked; continue with --resume\n", epoch);
      return 0;
    }
  }
  if (predicted.empty()) predicted = predict(model, test);  // resumed after the last epoch

  // The per-class table reuses the last epoch's predictions.
  std::vector<int64_t> correct(10, 0), total(10, 0);
  for (size_t i = 0; i < labels.size(); ++i) {
    ++total[labels[i]];
    correct[labels[i]] += predicted[i] == labels[i];
  }
  fmt::print("\n{:<12} {:>8}\n", "class", "accuracy");
  for (int c = 0; c < 10; ++c) {
    fmt::print("{:<12} {:>8.4f}\n", kClassNames[c], static_cast<double>(correct[c]) / total[c]);
  }
  fmt::print("test accuracy: {:.4f}\n", accuracy(predicted, labels));
}
