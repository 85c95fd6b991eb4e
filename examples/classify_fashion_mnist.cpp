// Classifies Fashion-MNIST with an MLP 784-256-128-10, RMSProp and cosine annealing.
// Data: Debian's dataset-fashion-mnist package (or --data-dir with the four IDX files).
// --save PATH writes a checkpoint after every epoch; --resume PATH continues a run from one,
// giving bit-identical results to a run that was never interrupted; --stop-after N ends this
// run after epoch N (to train in chunks).
// Built with MPI, `mpirun -np 2 ./build/examples/classify_fashion_mnist` trains on 2 processes
// (README, "Several processes"): every rank reads the data and takes its shards of each batch,
// rank 0 alone prints and writes the checkpoints, and the results are the bits of one process.

#include <tapegrad/tapegrad.hpp>

#include <fmt/core.h>

#include <cstdio>

#include "common/fashion_mnist.hpp"
#include "common/flags.hpp"

namespace fashion = examples::fashion_mnist;

namespace {

int world_size() {
#ifdef TAPEGRAD_WITH_MPI
  return tg::dist::world_size();
#else
  return 1;
#endif
}

// Ends MPI, when it was started, on every rank after a run that succeeded. An error exits without
// it (Flags::die), and mpirun then stops the other ranks rather than leaving them waiting.
int finish(int status) {
#ifdef TAPEGRAD_WITH_MPI
  std::fflush(stdout);
  if (tg::dist::is_initialized()) tg::dist::finalize();
#endif
  return status;
}

}  // namespace

int main(int argc, char** argv) {
#ifdef TAPEGRAD_WITH_MPI
  // Run alone, the example leaves MPI unstarted (one rank of one); under mpirun every rank joins.
  if (tg::dist::launched_by_mpirun()) tg::dist::init(argc, argv);
  // The ranks compute the same numbers: one report is enough. Errors still reach stderr.
  if (tg::dist::rank() != 0 && std::freopen("/dev/null", "w", stdout) == nullptr) return 1;
#endif
  auto options = fashion::common_flags("10");
  options.insert({{"lr", "0.001"}, {"batch-size", "128"}});
  const examples::Flags flags(
      argc, argv,
      "classify_fashion_mnist: trains an MLP on Fashion-MNIST and reports test accuracy", options);
  const std::string data_dir = flags.text("data-dir");
  fashion::RunOptions run = fashion::run_options(flags);
  const double lr = flags.number("lr", 0, 10);
  const int64_t batch_size = flags.integer("batch-size", 1, 60000);
  const auto seed = static_cast<uint64_t>(flags.integer("seed", 0, INT64_MAX));
  tg::set_num_threads(static_cast<int>(flags.integer("threads", 1, 256)));

  const tg::data::TensorDataset train = fashion::load_or_exit(data_dir, tg::data::Split::Train);
  const tg::data::TensorDataset test = fashion::load_or_exit(data_dir, tg::data::Split::Test);
  fmt::print(
      "Fashion-MNIST: {} training and {} test images; OpenBLAS {} kernel, tapegrad {} kernels, "
      "{} thread(s) × {} process(es)\n",
      train.size(), test.size(), tg::blas_core_name(), tg::cpu_level(), tg::num_threads(),
      world_size());

  tg::manual_seed(seed);
  tg::nn::Sequential model{tg::nn::Linear(784, 256), tg::nn::ReLU(), tg::nn::Linear(256, 128),
                           tg::nn::ReLU(), tg::nn::Linear(128, 10)};
#ifdef TAPEGRAD_WITH_MPI
  tg::dist::broadcast_parameters(model);  // the same seed gives the same model; this makes sure
#endif
  tg::optim::RMSProp optimizer(model.parameters(), {.lr = lr});
  tg::optim::CosineAnnealingLR schedule(optimizer, run.epochs);
  run.schedule = &schedule;
  tg::data::DataLoader loader(train, {.batch_size = batch_size, .shuffle = true, .seed = seed});

  const std::vector<tg::Tensor> parameters = model.parameters();
  const auto batch_loss = [&](const tg::Tensor& images, const tg::Tensor& classes) {
    return tg::nn::cross_entropy(model(images), classes);
  };
  // batch_loss(batch.inputs, batch.targets).backward(), with the batch split into shards shared
  // among the --threads threads of every process: the same bits for every count of either.
  const auto predicted =
      fashion::train(model, optimizer, loader, test, run, [&](const tg::data::Batch& batch) {
        return tg::nn::data_parallel_backward(parameters, batch.inputs, batch.targets, batch_loss);
      });
  if (!predicted) return finish(0);  // --stop-after

  // The per-class table reuses the last epoch's predictions.
  const std::vector<int64_t> labels = test.targets.to_vector<int64_t>();
  fashion::print_class_table(*predicted, labels);
  fmt::print("test accuracy: {:.4f}\n", fashion::accuracy(*predicted, labels));
  return finish(0);
}
