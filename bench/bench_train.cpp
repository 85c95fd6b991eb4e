// Training-speed benchmarks (not tests): the two workloads of docs/performance.md.
//   bench_train fmnist --threads N --epochs E   W1: MLP 784-256-128-10 on Fashion-MNIST
//                     [--parallel batch|none]     each batch split into shards shared by the N
//                                                 threads (the default for N > 1), or a plain
//                                                 backward (the default for N = 1)
//   bench_train tiny --steps S                  W2: MLP 13-32-1 (tanh), pure framework overhead
//   bench_train cnn [--threads N] [--batches B] W3: conv-pool-conv-pool-MLP, Adam, batch 64
//   bench_train charrnn [--steps S]             W4: GRU character language model, Adam
//   bench_train charlstm [--steps S]            W4's model with an LSTM (no target)

#include <tapegrad/tapegrad.hpp>

#include <fmt/core.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <string>

#include "w1.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

int fmnist(int threads, int epochs, const std::string& data_dir, bool split_batch) {
  tg::set_num_threads(threads);
  const tg::data::TensorDataset train = tg::data::load_mnist(data_dir, tg::data::Split::Train);
  fmt::print("W1 fmnist-mlp: OpenBLAS {} kernel, tapegrad {} kernels, {} thread(s), {}\n",
             tg::blas_core_name(), tg::cpu_level(), tg::num_threads(),
             split_batch ? "batch split into shards" : "plain backward");
  bench::W1 w(train);
  const auto batch_loss = [&](const tg::Tensor& x, const tg::Tensor& y) { return w.loss(x, y); };
  std::vector<double> times;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    const auto start = Clock::now();
    double loss_sum = 0;
    for (const tg::data::Batch& batch : w.loader) {
      w.optimizer.zero_grad();
      tg::Tensor loss;
      if (split_batch) {
        loss =
            tg::nn::data_parallel_backward(w.parameters, batch.inputs, batch.targets, batch_loss);
      } else {
        loss = w.loss(batch.inputs, batch.targets);
        loss.backward();
      }
      w.optimizer.step();
      loss_sum += loss.item<float>();
    }
    times.push_back(seconds_since(start));
    fmt::print("epoch {}: {:.3f} s, mean loss {:.4f}\n", epoch, times.back(),
               loss_sum / w.loader.size());
  }
  std::sort(times.begin(), times.end());
  fmt::print("median seconds per epoch: {:.4f}\n", times[times.size() / 2]);
  fmt::print("peak RSS MiB: {:.1f}\n", peak_rss_mib());
  return 0;
}

int tiny(int steps) {
  tg::set_num_threads(1);
  tg::manual_seed(0);
  const tg::Tensor x = tg::randn({1024, 13});
  std::vector<double> targets;
  const std::vector<float> xs = x.to_vector<float>();
  for (int r = 0; r < 1024; ++r) {
    double total = 0;
    for (int c = 0; c < 13; ++c) total += std::sin(xs[r * 13 + c]);
    targets.push_back(total);
  }
  const tg::Tensor y = tg::tensor(targets, {1024, 1}) + 0.1 * tg::randn({1024, 1});
  // The 32 consecutive batches, sliced once (PyTorch's slices are views that cost nothing).
  std::vector<tg::data::Batch> batches;
  for (int64_t first = 0; first < 1024; first += 32) {
    std::vector<int64_t> rows(32);
    for (int64_t i = 0; i < 32; ++i) rows[i] = first + i;
    batches.push_back({tg::data::gather_rows(x, rows), tg::data::gather_rows(y, rows)});
  }
  tg::nn::Sequential model{tg::nn::Linear(13, 32), tg::nn::Tanh(), tg::nn::Linear(32, 1)};
  tg::optim::RMSProp optimizer(model.parameters(), {.lr = 1e-3});
  const auto run = [&](int count) {
    for (int s = 0; s < count; ++s) {
      const tg::data::Batch& batch = batches[s % batches.size()];
      optimizer.zero_grad();
      tg::nn::mse_loss(model(batch.inputs), batch.targets).backward();
      optimizer.step();
    }
  };
  run(500);  // warm-up
  const auto start = Clock::now();
  run(steps);
  const double elapsed = seconds_since(start);
  fmt::print("W2 tiny-mlp: OpenBLAS {} kernel, 1 thread, {} steps\n", tg::blas_core_name(), steps);
  fmt::print("microseconds per step: {:.3f}\n", elapsed / steps * 1e6);
  return 0;
}

// W3: the CNN of issue 14 on Fashion-MNIST, Adam 1e-3, batch 64. An epoch is 938 steps (over a
// minute here), so the epoch time is estimated from `batches` timed steps after 10 warm-up ones.
int cnn(int threads, int batches, const std::string& data_dir) {
  tg::set_num_threads(threads);
  tg::data::TensorDataset train = tg::data::load_mnist(data_dir, tg::data::Split::Train);
  train = {train.inputs.reshape({train.size(), 1, 28, 28}), train.targets};
  fmt::print("W3 fmnist-cnn: OpenBLAS {} kernel, tapegrad {} kernels, {} thread(s)\n",
             tg::blas_core_name(), tg::cpu_level(), tg::num_threads());
  tg::manual_seed(0);
  using namespace tg::nn;
  Sequential model{Conv2d(1, 32, 3), ReLU(),        MaxPool2d(2),   Conv2d(32, 64, 3),
                   ReLU(),           MaxPool2d(2),  Flatten(),      Linear(1600, 128),
                   ReLU(),           Dropout(0.25), Linear(128, 10)};
  tg::optim::Adam optimizer(model.parameters(), {.lr = 1e-3});
  tg::data::DataLoader loader(train, {.batch_size = 64, .shuffle = true, .seed = 0});
  std::vector<double> times;
  int done = 0;
  for (const tg::data::Batch& batch : loader) {
    if (done == 10 + batches) break;
    const auto start = Clock::now();
    optimizer.zero_grad();
    cross_entropy(model(batch.inputs), batch.targets).backward();
    optimizer.step();
    if (done++ >= 10) times.push_back(seconds_since(start));
  }
  std::sort(times.begin(), times.end());
  const double median = times[times.size() / 2];
  fmt::print("median milliseconds per step: {:.2f}\n", median * 1e3);
  fmt::print("median seconds per epoch: {:.2f}\n", median * static_cast<double>(loader.size()));
  fmt::print("peak RSS MiB: {:.1f}\n", peak_rss_mib());
  return 0;
}

// W4: examples/char_language_model's model, Embedding(54, 32) → GRU(32, 128, batch_first) →
// Linear(128, 54), Adam, batches of 64 sequences of 32 characters, on one thread. A step's cost
// does not depend on which characters it sees, so 16 batches of random tokens stand in for the
// word list (54: the list's 53 characters and the boundary). Median of `steps` timed steps
// after 10 warm-up ones.
// `lstm`: the same model with LSTM(32, 128) in place of the GRU (no target; the LSTM layer's
// cost against PyTorch's).
int charrnn(int steps, bool lstm) {
  tg::set_num_threads(1);
  tg::manual_seed(0);
  const int64_t vocab = 54, batch = 64, length = 32;
  std::vector<tg::data::Batch> batches;
  for (int i = 0; i < 16; ++i) {
    batches.push_back(
        {tg::randint(0, vocab, {batch, length}), tg::randint(0, vocab, {batch * length})});
  }
  using namespace tg::nn;
  Embedding embedding(vocab, 32);
  GRU gru(32, 128, {.batch_first = true});
  LSTM lstm_layer(32, 128, {.batch_first = true});
  Linear head(128, vocab);
  const Module& recurrent = lstm ? static_cast<const Module&>(lstm_layer) : gru;
  std::vector<tg::Tensor> parameters;
  for (const Module* module : std::vector<const Module*>{&embedding, &recurrent, &head}) {
    for (const tg::Tensor& p : module->parameters()) parameters.push_back(p);
  }
  tg::optim::Adam optimizer(parameters, {.lr = 3e-3});
  std::vector<double> times;
  for (int step = 0; step < 10 + steps; ++step) {
    const tg::data::Batch& b = batches[step % batches.size()];
    const auto start = Clock::now();
    optimizer.zero_grad();
    const tg::Tensor x = embedding(b.inputs);
    const tg::Tensor output = lstm ? lstm_layer.forward(x).first : gru.forward(x).first;
    cross_entropy(head(output.reshape({batch * length, 128})), b.targets).backward();
    optimizer.step();
    if (step >= 10) times.push_back(seconds_since(start));
  }
  std::sort(times.begin(), times.end());
  fmt::print("W4 char-rnn{}: OpenBLAS {} kernel, tapegrad {} kernels, 1 thread, {} steps\n",
             lstm ? " (LSTM)" : "", tg::blas_core_name(), tg::cpu_level(), steps);
  fmt::print("median milliseconds per step: {:.3f}\n", times[times.size() / 2] * 1e3);
  fmt::print("peak RSS MiB: {:.1f}\n", peak_rss_mib());
  return 0;
}

int usage() {
  fmt::print(stderr,
             "usage: bench_train fmnist [--threads N] [--epochs E] [--data-dir DIR]\n"
             "                          [--parallel batch|none]\n"
             "       bench_train tiny [--steps S]\n"
             "       bench_train cnn [--threads N] [--batches B] [--data-dir DIR]\n"
             "       bench_train charrnn [--steps S]\n"
             "       bench_train charlstm [--steps S]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string workload = argv[1];
  int threads = 1, epochs = 5, steps = 20000, batches = 100;
  bool steps_given = false;  // --steps' default is tiny's 20000; charrnn's and charlstm's 200
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  std::string parallel;  // batch or none; by default batch for more than one thread
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--threads")
      threads = std::stoi(value);
    else if (flag == "--epochs")
      epochs = std::stoi(value);
    else if (flag == "--steps")
      steps = std::stoi(value), steps_given = true;
    else if (flag == "--batches")
      batches = std::stoi(value);
    else if (flag == "--data-dir")
      data_dir = value;
    else if (flag == "--parallel" && (value == "batch" || value == "none"))
      parallel = value;
    else
      return usage();
  }
  try {
    const bool split_batch = parallel.empty() ? threads > 1 : parallel == "batch";
    if (workload == "fmnist") return fmnist(threads, epochs, data_dir, split_batch);
    if (workload == "tiny") return tiny(steps);
    if (workload == "cnn") return cnn(threads, batches, data_dir);
    if (workload == "charrnn") return charrnn(steps_given ? steps : 200, false);
    if (workload == "charlstm") return charrnn(steps_given ? steps : 200, true);
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 2;
  }
  return usage();
}
