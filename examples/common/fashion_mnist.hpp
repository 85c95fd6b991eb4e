#pragma once

// What the Fashion-MNIST examples share: loading the data (saying how to install it when it is
// missing), the epoch loop with its progress bar, checkpoints after every epoch and --resume,
// the test predictions and the per-class table.

#include <tapegrad/tapegrad.hpp>

#include <fmt/core.h>

#include "flags.hpp"
#include "progress.hpp"

#include <array>
#include <filesystem>
#include <functional>
#include <map>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace examples::fashion_mnist {

inline constexpr std::array<const char*, 10> kClassNames = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

/// The flags every Fashion-MNIST example accepts, with their defaults; `epochs` is the example's.
inline std::map<std::string, std::string> common_flags(const std::string& epochs) {
  return {{"data-dir", "/usr/share/datasets/fashion-mnist"},
          {"epochs", epochs},
          {"seed", "0"},
          {"threads", "1"},
          {"save", ""},
          {"resume", ""},
          {"stop-after", "0"}};
}

/// One split of `dir`; a missing directory or a damaged file ends the program with a one-line
/// message (the loader's, or how to install the data).
inline tg::data::TensorDataset load_or_exit(const std::string& dir, tg::data::Split split) {
  if (!std::filesystem::is_directory(dir)) {
    Flags::die(
        fmt::format("data directory '{}' not found: install Debian's dataset-fashion-mnist "
                    "(sudo apt-get install dataset-fashion-mnist) or pass --data-dir",
                    dir));
  }
  try {
    return tg::data::load_mnist(dir, split);
  } catch (const tg::Error& e) {
    Flags::die(e.what());
  }
}

/// The first `limit` rows of `data`; all of them when limit is 0.
inline tg::data::TensorDataset first_rows(const tg::data::TensorDataset& data, int64_t limit) {
  if (limit <= 0 || limit >= data.size()) return data;
  std::vector<int64_t> first(static_cast<size_t>(limit));
  std::iota(first.begin(), first.end(), int64_t{0});
  return data.gather(first);
}

/// Predicted class of every test image, in batches of 1000, in eval mode, without recording.
inline std::vector<int64_t> predict(tg::nn::Module& model, const tg::data::TensorDataset& test) {
  tg::NoGradGuard no_grad;
  model.eval();
  std::vector<int64_t> predictions;
  for (const tg::data::Batch& batch : tg::data::DataLoader(test, {.batch_size = 1000})) {
    for (int64_t p : tg::argmax(model(batch.inputs), 1).to_vector<int64_t>()) {
      predictions.push_back(p);
    }
  }
  model.train();
  return predictions;
}

inline double accuracy(const std::vector<int64_t>& predictions,
                       const std::vector<int64_t>& labels) {
  int64_t correct = 0;
  for (size_t i = 0; i < labels.size(); ++i) correct += predictions[i] == labels[i];
  return static_cast<double>(correct) / static_cast<double>(labels.size());
}

/// How long to train and where the checkpoints go (--epochs, --stop-after, --save, --resume).
struct RunOptions {
  int64_t epochs = 1;
  int64_t stop_after = 0;  // 0: run every epoch
  std::string save_path, resume_path;
  tg::optim::LRScheduler* schedule = nullptr;  // if any, stepped after every epoch
  bool schedule_every_step = false;            // or after every optimizer step
};

inline RunOptions run_options(const Flags& flags) {
  const int64_t epochs = flags.integer("epochs", 1, 1000);
  return {.epochs = epochs,
          .stop_after = flags.integer("stop-after", 0, epochs),
          .save_path = flags.text("save"),
          .resume_path = flags.text("resume")};
}

/// One training step's forward and backward on a batch; returns its loss. The optimizer's
/// zero_grad and step are train's.
using BackwardStep = std::function<tg::Tensor(const tg::data::Batch&)>;

/// Trains the epochs that remain (all of them, or those after the --resume checkpoint's),
/// printing a progress bar and the test accuracy after each and saving a checkpoint when asked.
/// Returns the last epoch's test predictions, or nothing when --stop-after ended the run.
inline std::optional<std::vector<int64_t>> train(
    tg::nn::Module& model, tg::optim::Optimizer& optimizer, tg::data::DataLoader& loader,
    const tg::data::TensorDataset& test, const RunOptions& run, const BackwardStep& backward_step) {
  tg::CheckpointExtra progress{.scheduler = run.schedule, .generator = &tg::default_generator()};
  try {
    if (!run.resume_path.empty()) tg::load_checkpoint(run.resume_path, model, optimizer, progress);
  } catch (const tg::Error& e) {
    Flags::die(e.what());
  }
  if (!run.resume_path.empty()) {
    loader.set_epoch(progress.epoch);
    fmt::print("resumed from '{}' after epoch {} (step {})\n", run.resume_path, progress.epoch,
               progress.step);
  }
  const std::vector<int64_t> labels = test.targets.to_vector<int64_t>();
  std::vector<int64_t> predicted;
  for (int64_t epoch = progress.epoch + 1; epoch <= run.epochs; ++epoch) {
    const ProgressBar bar(epoch, run.epochs, loader.size());
    double loss_sum = 0;
    int64_t done = 0, seen = 0;
    for (const tg::data::Batch& batch : loader) {
      optimizer.zero_grad();
      loss_sum += backward_step(batch).item<float>();
      optimizer.step();
      if (run.schedule != nullptr && run.schedule_every_step) run.schedule->step();
      ++progress.step;
      seen += batch.inputs.size(0);
      ++done;
      bar.update(done, loss_sum / static_cast<double>(done), seen);
    }
    if (run.schedule != nullptr && !run.schedule_every_step) run.schedule->step();
    predicted = predict(model, test);
    fmt::print("  test accuracy {:.4f}\n", accuracy(predicted, labels));
    progress.epoch = epoch;
    try {
      if (!run.save_path.empty()) tg::save_checkpoint(run.save_path, model, optimizer, progress);
    } catch (const tg::Error& e) {
      Flags::die(e.what());
    }
    if (epoch == run.stop_after) {
      fmt::print("stopped after epoch {} as asked; continue with --resume\n", epoch);
      return std::nullopt;
    }
  }
  if (predicted.empty()) predicted = predict(model, test);  // resumed after the last epoch
  return predicted;
}

/// Accuracy per class, one row each.
inline void print_class_table(const std::vector<int64_t>& predicted,
                              const std::vector<int64_t>& labels) {
  std::array<int64_t, 10> correct{}, total{};
  for (size_t i = 0; i < labels.size(); ++i) {
    ++total[labels[i]];
    correct[labels[i]] += predicted[i] == labels[i];
  }
  fmt::print("\n{:<12} {:>8}\n", "class", "accuracy");
  for (size_t c = 0; c < kClassNames.size(); ++c) {
    fmt::print("{:<12} {:>8.4f}\n", kClassNames[c],
               static_cast<double>(correct[c]) / static_cast<double>(total[c]));
  }
}

}  // namespace examples::fashion_mnist
