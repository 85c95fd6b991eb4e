// Trains a W1-like MLP (784-H-128-10, Adam) on synthetic data under mpirun, for the tests in
// tests/test_dist_mpi.cpp: rank 0 writes the final parameters' bytes to --out, so runs with any
// number of ranks and threads can be compared bit for bit. It can also checkpoint every few
// steps, resume, kill one of its ranks mid-run, or give one rank a bad file or another model.

#include <tapegrad/tapegrad.hpp>

#include <fmt/core.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <string>

namespace {

using Flags = std::map<std::string, std::string>;

Flags parse(int argc, char** argv) {
  Flags flags = {
      {"steps", "20"},     {"threads", "1"},     {"batch", "256"},   {"rows", "1100"},
      {"hidden", "256"},   {"mode", "dp"},       {"out", ""},        {"save", ""},
      {"save-every", "0"}, {"resume", ""},       {"odd-rank", "-1"}, {"odd-resume", ""},
      {"odd-hidden", "0"}, {"die-at-step", "0"}, {"seed", "5"},      {"optimizer", "adam"}};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string name = std::string(argv[i]).substr(2);
    if (!flags.contains(name)) tg::fail("dist_train: unknown option '{}'", argv[i]);
    flags[name] = argv[i + 1];
  }
  return flags;
}

int64_t integer(const Flags& flags, const std::string& name) { return std::stoll(flags.at(name)); }

void write_parameters(const std::string& path, const tg::nn::Module& model) {
  std::ofstream out(path, std::ios::binary);
  for (const tg::Tensor& p : model.parameters()) {
    out.write(static_cast<const char*>(p.raw_data()),
              static_cast<std::streamsize>(p.numel() * sizeof(float)));
  }
}

int train(const Flags& flags) {
  const int rank = tg::dist::rank(), ranks = tg::dist::world_size();
  const bool odd = rank == integer(flags, "odd-rank");
  tg::set_num_threads(static_cast<int>(integer(flags, "threads")));
  const auto seed = static_cast<uint64_t>(integer(flags, "seed"));
  tg::Generator data_generator(1234);
  const int64_t rows = integer(flags, "rows");
  const tg::data::TensorDataset train(tg::randn({rows, 784}, {}, data_generator),
                                      tg::randint(0, 10, {rows}, data_generator));
  // Each rank starts from other weights: broadcast_parameters must make them rank 0's.
  tg::manual_seed(seed + static_cast<uint64_t>(rank));
  const int64_t hidden = odd && integer(flags, "odd-hidden") > 0 ? integer(flags, "odd-hidden")
                                                                 : integer(flags, "hidden");
  tg::nn::Sequential model{tg::nn::Linear(784, hidden), tg::nn::ReLU(), tg::nn::Linear(hidden, 128),
                           tg::nn::ReLU(), tg::nn::Linear(128, 10)};
  tg::dist::broadcast_parameters(model);
  tg::manual_seed(seed);
  // Adam by default; SGD for the test of all_reduce_gradients' mean, which Adam's scale
  // invariance would hide.
  std::unique_ptr<tg::optim::Optimizer> optimizer;
  if (flags.at("optimizer") == "sgd") {
    optimizer =
        std::make_unique<tg::optim::SGD>(model.parameters(), tg::optim::SGDOptions{.lr = 0.1});
  } else {
    optimizer =
        std::make_unique<tg::optim::Adam>(model.parameters(), tg::optim::AdamOptions{.lr = 1e-3});
  }

  // ddp: each rank its own share of the data and all_reduce_gradients; sharded: that share fed
  // to data_parallel_backward, a misuse; dp: the whole batch on every rank.
  const bool ddp = flags.at("mode") == "ddp", sharded = ddp || flags.at("mode") == "sharded";
  tg::data::DataLoader loader(train, {.batch_size = integer(flags, "batch"),
                                      .shuffle = true,
                                      .seed = seed,
                                      .rank = sharded ? rank : 0,
                                      .world_size = sharded ? ranks : 1});
  tg::CheckpointExtra progress{.generator = &tg::default_generator()};
  const std::string resume =
      odd && !flags.at("odd-resume").empty() ? flags.at("odd-resume") : flags.at("resume");
  if (!resume.empty()) tg::load_checkpoint(resume, model, *optimizer, progress);

  const std::vector<tg::Tensor> parameters = model.parameters();
  const auto batch_loss = [&](const tg::Tensor& x, const tg::Tensor& y) {
    return tg::nn::cross_entropy(model(x), y);
  };
  const int64_t steps = integer(flags, "steps"), save_every = integer(flags, "save-every");
  double loss = 0;
  while (progress.step < steps) {
    // A checkpoint taken mid-epoch resumes at the batch after its last step.
    loader.set_epoch(progress.epoch);
    auto batch = loader.begin();
    for (int64_t done = progress.step - progress.epoch * loader.size(); done > 0; --done) ++batch;
    for (; batch != loader.end() && progress.step < steps; ++batch) {
      optimizer->zero_grad();
      if (ddp) {
        tg::Tensor value = batch_loss(batch->inputs, batch->targets);
        value.backward();
        tg::dist::all_reduce_gradients(model);
        loss = value.item<double>();
      } else {
        loss = tg::nn::data_parallel_backward(parameters, batch->inputs, batch->targets, batch_loss)
                   .item<double>();
      }
      optimizer->step();
      ++progress.step;
      if (save_every > 0 && progress.step % save_every == 0) {
        tg::save_checkpoint(flags.at("save"), model, *optimizer, progress);
      }
      if (odd && progress.step == integer(flags, "die-at-step")) std::raise(SIGKILL);
    }
    if (batch == loader.end()) ++progress.epoch;
  }
  tg::dist::check_same_on_every_rank("dist_train", parameters);
  if (rank == 0 && !flags.at("out").empty()) write_parameters(flags.at("out"), model);
  fmt::print("rank {} of {}: {} steps, last loss {:.6f}\n", rank, ranks, progress.step, loss);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  tg::dist::init(argc, argv);
  try {
    const int status = train(parse(argc, argv));
    tg::dist::finalize();
    return status;
  } catch (const tg::Error& e) {
    // No finalize: mpirun then ends the job even if some rank were still waiting.
    fmt::print("rank {}: error: {}\n", tg::dist::rank(), e.what());
    std::fflush(stdout);
    return 3;
  }
}
