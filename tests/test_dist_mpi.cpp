// tg::dist across processes: each case starts mpirun itself (on loopback, with a timeout, in a
// scratch directory it removes) on tests/dist/dist_train.cpp and checks what the ranks did.

#include <fmt/core.h>
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "scratch.hpp"

using Catch::Contains;
using tg::testing::read_bytes;
using tg::testing::ScratchDir;

namespace {

struct Run {
  int status;  // mpirun's exit status; 124 when the timeout ended it
  std::string output;
};

// The flags that work as root in a container on one machine: loopback TCP and shared memory
// only, more ranks than cores allowed, no pinning (the tests share the cores with others).
// ASan's leak check is off for the ranks: Open MPI's own allocations at exit would be reported.
Run mpirun(int ranks, const std::string& args) {
  const std::string command = fmt::format(
      "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 timeout 120 {} --allow-run-as-root "
      "--oversubscribe "
      "--bind-to none --mca btl self,vader,tcp --mca btl_tcp_if_include lo -np {} {} {} 2>&1",
      TAPEGRAD_MPIEXEC, ranks, TAPEGRAD_DIST_TRAIN, args);
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[4096];
  while (const size_t n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), output};
}

// A run that must succeed; returns the parameter bytes rank 0 wrote.
std::vector<unsigned char> trained(const ScratchDir& dir, int ranks, const std::string& name,
                                   const std::string& args) {
  const std::string out = (dir / name).string();
  const Run run = mpirun(ranks, fmt::format("--out {} {}", out, args));
  INFO(run.output);
  REQUIRE(run.status == 0);
  CHECK_THAT(run.output, Contains(fmt::format("rank {} of {}", ranks - 1, ranks)));
  return read_bytes(out);
}

}  // namespace

TEST_CASE("data_parallel_backward gives the same bits for 1, 2 or 3 ranks of 1 or 2 threads",
          "[dist][mpi]") {
  const ScratchDir dir;
  // 1100 rows in batches of 256: steps of 4, 4, 4, 4 and 1 shards (a last batch of 76 rows),
  // 6 epochs, each shuffled.
  const std::string common = "--steps 30";
  const auto one = trained(dir, 1, "1x1", common + " --threads 1");
  REQUIRE(one.size() == 235146 * sizeof(float));  // W1's parameters
  CHECK(trained(dir, 1, "1x2", common + " --threads 2") == one);
  CHECK(trained(dir, 2, "2x1", common + " --threads 1") == one);
  CHECK(trained(dir, 2, "2x2", common + " --threads 2") == one);
  // 3 ranks share 4 shards unevenly (1, 1, 2), and the last batch's one shard not at all.
  CHECK(trained(dir, 3, "3x1", common + " --threads 1") == one);
}

TEST_CASE("a job killed mid-run resumes from rank 0's checkpoint bit for bit on 2 ranks or 1",
          "[dist][mpi]") {
  const ScratchDir dir;
  const std::string checkpoint = (dir / "run.ckpt").string();
  const auto whole = trained(dir, 2, "whole", "--steps 12");
  // Rank 1 dies at step 7, after the checkpoint of step 6 (mid-epoch): mpirun ends the job.
  const Run killed = mpirun(2, fmt::format("--steps 12 --save {} --save-every 3 --odd-rank 1 "
                                           "--die-at-step 7",
                                           checkpoint));
  INFO(killed.output);
  CHECK(killed.status != 0);
  CHECK(killed.status != 124);  // ended by the death, not by the timeout
  REQUIRE(std::filesystem::exists(checkpoint));
  CHECK(trained(dir, 2, "resumed2", "--steps 12 --resume " + checkpoint) == whole);
  CHECK(trained(dir, 1, "resumed1", "--steps 12 --resume " + checkpoint) == whole);
}

TEST_CASE("a bad checkpoint on one rank is a tg::Error on every rank, not a hang", "[dist][mpi]") {
  const ScratchDir dir;
  const std::string checkpoint = (dir / "good.ckpt").string();
  trained(dir, 2, "first", fmt::format("--steps 3 --save {} --save-every 3", checkpoint));
  auto bytes = read_bytes(checkpoint);
  bytes.resize(bytes.size() / 2);
  const std::string bad = (dir / "bad.ckpt").string();
  tg::testing::write_bytes(bad, bytes);
  const Run run =
      mpirun(2, fmt::format("--steps 6 --resume {} --odd-rank 1 --odd-resume {}", checkpoint, bad));
  INFO(run.output);
  CHECK(run.status == 3);
  for (const char* rank : {"rank 0", "rank 1"}) {
    CHECK_THAT(run.output,
               Contains(fmt::format(
                   "{}: error: load_checkpoint: rank 1 of 2 failed: load_checkpoint", rank)));
  }
}

TEST_CASE("ranks whose models differ in shape stop with a tg::Error on every rank", "[dist][mpi]") {
  const ScratchDir dir;
  const Run run = mpirun(2, "--steps 2 --odd-rank 1 --odd-hidden 64");
  INFO(run.output);
  CHECK(run.status == 3);
  for (const char* rank : {"rank 0", "rank 1"}) {
    CHECK_THAT(run.output, Contains(fmt::format("{}: error: broadcast_parameters: the ranks differ "
                                                "in the tensors' count, shapes and dtypes",
                                                rank)));
  }
}

TEST_CASE("each rank's own share of the data into data_parallel_backward is a tg::Error on all",
          "[dist][mpi]") {
  const Run run = mpirun(2, "--steps 2 --mode sharded");
  INFO(run.output);
  CHECK(run.status == 3);
  for (const char* rank : {"rank 0", "rank 1"}) {
    CHECK_THAT(run.output, Contains(fmt::format(
                               "{}: error: data_parallel_backward: the ranks differ in the batch's "
                               "inputs and targets (a hash; every rank must pass the whole batch)",
                               rank)));
  }
}

TEST_CASE("a sharded DataLoader with all_reduce_gradients trains as one process on their union",
          "[dist][mpi]") {
  const ScratchDir dir;
  // Rank r's k-th batch of 128 holds positions 256k + r, 256k + r + 2, … of the epoch's order:
  // together the ranks' k-th batches are one process's k-th batch of 256, and the mean of their
  // gradients is its gradient, up to rounding. SGD, since Adam would not notice a sum instead of
  // a mean. dist_train checks that both ranks end with the same parameters.
  const std::string common = "--steps 8 --optimizer sgd";
  const auto sharded = trained(dir, 2, "ddp", common + " --mode ddp --batch 128");
  const auto whole = trained(dir, 1, "one", common + " --batch 256");
  const auto half = trained(dir, 1, "half", common + " --batch 128");
  REQUIRE(sharded.size() == whole.size());
  const auto largest_difference = [](const std::vector<unsigned char>& a,
                                     const std::vector<unsigned char>& b) {
    float largest = 0;
    for (size_t i = 0; i + 4 <= a.size(); i += 4) {
      float x, y;
      std::memcpy(&x, a.data() + i, 4);
      std::memcpy(&y, b.data() + i, 4);
      largest = std::max(largest, std::abs(x - y));
    }
    return largest;
  };
  // Measured: 7.5e-9 against the union batch, 7.2e-3 against one rank's batch alone.
  CHECK(largest_difference(sharded, whole) < 1e-6f);
  CHECK(largest_difference(half, whole) > 1e-4f);
  // The same run again, with 2 threads per rank: the same bits.
  CHECK(trained(dir, 2, "ddp2", common + " --mode ddp --batch 128 --threads 2") == sharded);
}
