// Scale-out benchmarks (not tests), run under mpirun (docs/distributed.md):
//   bench_dist w1 [--epochs E] [--data-dir DIR]   W1 (MLP 784-256-128-10, batch 128, RMSProp)
//                                                 with data_parallel_backward over the ranks
//   bench_dist exchange [--reps R]                what moving W1's gradients costs: the
//                                                 shard-block MPI_Allgatherv tapegrad uses
//                                                 against one MPI_Allreduce, and the latency
//                                                 and bandwidth of MPI_Allreduce by size

#include <tapegrad/tapegrad.hpp>

#include <fmt/core.h>
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <string>

#include <vector>
#include "w1.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

int w1(int epochs, const std::string& data_dir) {
  tg::set_num_threads(1);
  const tg::data::TensorDataset train = tg::data::load_mnist(data_dir, tg::data::Split::Train);
  bench::W1 w(train);
  const auto batch_loss = [&](const tg::Tensor& x, const tg::Tensor& y) { return w.loss(x, y); };
  std::vector<double> times;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    tg::dist::barrier();
    const auto start = Clock::now();
    double loss_sum = 0;
    for (const tg::data::Batch& batch : w.loader) {
      w.optimizer.zero_grad();
      loss_sum +=
          tg::nn::data_parallel_backward(w.parameters, batch.inputs, batch.targets, batch_loss)
              .item<float>();
      w.optimizer.step();
    }
    times.push_back(seconds_since(start));
    if (tg::dist::rank() == 0) {
      fmt::print("epoch {}: {:.3f} s, mean loss {:.4f}\n", epoch, times.back(),
                 loss_sum / static_cast<double>(w.loader.size()));
    }
  }
  if (tg::dist::rank() == 0) {
    fmt::print("W1 over {} rank(s) of 1 thread: median seconds per epoch: {:.4f}\n",
               tg::dist::world_size(), median(times));
  }
  return 0;
}

// The median seconds of `reps` calls of `body`, every rank starting together.
template <class Body>
double timed(int reps, Body body) {
  std::vector<double> times;
  for (int r = 0; r < reps; ++r) {
    MPI_Barrier(MPI_COMM_WORLD);
    const auto start = Clock::now();
    body();
    times.push_back(seconds_since(start));
  }
  return median(times);
}

int exchange(int reps) {
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  const auto print = [&](const std::string& line) {
    if (rank == 0) fmt::print("{}\n", line);
  };
  print(fmt::format("{} ranks, medians of {} repetitions", ranks, reps));
  // W1 at batch 128 is 2 shards of 235146 gradients: with 2 ranks, each sends one shard block.
  for (const int64_t params : {int64_t{235146}, int64_t{2351460}}) {
    const int64_t words = params / 2 + 4;  // one shard block: floats, header, flags
    std::vector<uint64_t> mine(static_cast<size_t>(words)), all(mine.size() * ranks);
    std::vector<int> counts(ranks, static_cast<int>(words)), offsets(ranks);
    for (int r = 0; r < ranks; ++r) offsets[r] = r * static_cast<int>(words);
    const double gather = timed(reps, [&] {
      MPI_Allgatherv(mine.data(), static_cast<int>(words), MPI_UINT64_T, all.data(), counts.data(),
                     offsets.data(), MPI_UINT64_T, MPI_COMM_WORLD);
    });
    std::vector<float> grads(static_cast<size_t>(params)), sum(grads.size());
    const double reduce = timed(reps, [&] {
      MPI_Allreduce(grads.data(), sum.data(), static_cast<int>(params), MPI_FLOAT, MPI_SUM,
                    MPI_COMM_WORLD);
    });
    print(fmt::format("{} floats: shard-block Allgatherv {:.3f} ms, Allreduce {:.3f} ms", params,
                      gather * 1e3, reduce * 1e3));
  }
  // The agreement before every exchange: one 512-byte report per rank.
  std::vector<char> report(512), reports(512 * static_cast<size_t>(ranks));
  const double agree = timed(reps * 10, [&] {
    MPI_Allgather(report.data(), 512, MPI_BYTE, reports.data(), 512, MPI_BYTE, MPI_COMM_WORLD);
  });
  print(fmt::format("512-byte Allgather (the agreement): {:.1f} us", agree * 1e6));
  // Allreduce by size, for the latency + bytes / bandwidth model.
  for (int64_t bytes = 8; bytes <= (int64_t{1} << 26); bytes *= 8) {
    std::vector<float> in(static_cast<size_t>(bytes / 4)), out(in.size());
    const double t = timed(reps, [&] {
      MPI_Allreduce(in.data(), out.data(), static_cast<int>(in.size()), MPI_FLOAT, MPI_SUM,
                    MPI_COMM_WORLD);
    });
    print(fmt::format("Allreduce {:>9} bytes: {:.1f} us", bytes, t * 1e6));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  tg::dist::init(argc, argv);
  const std::string workload = argc > 1 ? argv[1] : "";
  int epochs = 3, reps = 50;
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--epochs") epochs = std::stoi(value);
    if (flag == "--reps") reps = std::stoi(value);
    if (flag == "--data-dir") data_dir = value;
  }
  int status = 2;
  try {
    if (workload == "w1") status = w1(epochs, data_dir);
    if (workload == "exchange") status = exchange(reps);
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 2;
  }
  if (status == 2) fmt::print(stderr, "usage: mpirun ... bench_dist w1|exchange [options]\n");
  tg::dist::finalize();
  return status;
}
