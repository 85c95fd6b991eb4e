// Element-wise and reduction kernels on a large tensor against memcpy of the same bytes: how
// close they come to the memory bandwidth. 64 MiB of Float32 (16 Mi elements) per operand, far
// beyond any cache; each figure is the median of --repeats runs, in GB/s of bytes moved (read +
// written). Usage: bench_bandwidth [repeats] [threads] (defaults 15 and the core count).

#include <tapegrad/tapegrad.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

namespace {

constexpr int64_t kElements = int64_t{16} << 20;  // 64 MiB of Float32
constexpr double kBytes = 4.0 * static_cast<double>(kElements);

// The median seconds of `repeats` calls of `fn` (after one warm-up call that faults the pages in).
double median_seconds(int repeats, const std::function<void()>& fn) {
  fn();
  std::vector<double> seconds;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    seconds.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  return seconds[seconds.size() / 2];
}

struct Row {
  const char* name;
  double operands_moved;  // how many 64 MiB arrays are read or written
  std::function<void()> run;
};

}  // namespace

int main(int argc, char** argv) {
  const int repeats = argc > 1 ? std::atoi(argv[1]) : 15;
  if (argc > 2) tg::set_num_threads(std::atoi(argv[2]));
  tg::manual_seed(0);
  tg::Tensor x = tg::rand({kElements}), y = tg::rand({kElements});
  std::vector<float> source(x.data<float>(), x.data<float>() + kElements), target(kElements);
  tg::NoGradGuard no_grad;
  float sink = 0;  // keeps results alive so nothing is optimized away
  const std::vector<Row> rows = {
      {"memcpy", 2, [&] { std::memcpy(target.data(), source.data(), source.size() * 4); }},
      {"sum(x)", 1, [&] { sink += tg::sum(x).item<float>(); }},
      {"max(x)", 1, [&] { sink += tg::max(x).item<float>(); }},
      {"x.mul_(1.0001)", 2, [&] { x.mul_(1.0001); }},
      {"x + y", 3, [&] { sink += (x + y).numel(); }},
      {"x * y + x", 6, [&] { sink += (x * y + x).numel(); }},
      {"exp(x)", 2, [&] { sink += tg::exp(x).numel(); }},
  };
  double memcpy_rate = 0;
  std::printf("threads %d, 64 MiB Float32 operands, median of %d (GB/s of bytes read+written)\n",
              tg::num_threads(), repeats);
  for (const Row& row : rows) {
    const double rate = row.operands_moved * kBytes / median_seconds(repeats, row.run) / 1e9;
    if (memcpy_rate == 0) memcpy_rate = rate;
    std::printf("  %-16s %7.2f GB/s  %5.2fx memcpy\n", row.name, rate, rate / memcpy_rate);
  }
  return sink == -1 ? 1 : 0;
}
