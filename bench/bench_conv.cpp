// One training step (forward, cross_entropy, backward, Adadelta step) of pytorch/examples'
// MNIST Net at batch 64 on random Float32 images; prints the median of --steps timed steps.
// bench/torch_conv_bench.py is its PyTorch twin. Usage: bench_conv [steps] (default 20).

#include <tapegrad/tapegrad.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace F = tg::nn::F;

int main(int argc, char** argv) {
  const int steps = argc > 1 ? std::atoi(argv[1]) : 20;
  tg::manual_seed(0);
  tg::nn::Conv2d conv1(1, 32, 3), conv2(32, 64, 3);
  tg::nn::Linear fc1(9216, 128), fc2(128, 10);
  std::vector<tg::Tensor> params;
  for (tg::nn::Module* m : std::vector<tg::nn::Module*>{&conv1, &conv2, &fc1, &fc2}) {
    for (const tg::Tensor& p : m->parameters()) params.push_back(p);
  }
  tg::optim::Adadelta optimizer(params, {.lr = 1.0});
  const tg::Tensor x = tg::randn({64, 1, 28, 28});
  const tg::Tensor y = tg::randint(0, 10, {64});
  std::vector<double> ms;
  for (int i = 0; i < steps + 3; ++i) {
    const auto start = std::chrono::steady_clock::now();
    optimizer.zero_grad();
    tg::Tensor h = F::max_pool2d(F::relu(conv2(F::relu(conv1(x)))), 2).flatten(1);
    tg::Tensor loss = tg::nn::cross_entropy(fc2(F::relu(fc1(h))), y);
    loss.backward();
    optimizer.step();
    const std::chrono::duration<double, std::milli> t = std::chrono::steady_clock::now() - start;
    if (i >= 3) ms.push_back(t.count());  // the first steps warm up allocations
  }
  std::sort(ms.begin(), ms.end());
  std::printf("tapegrad mnist-cnn step (batch 64, OpenBLAS %s): median %.2f ms over %d\n",
              tg::blas_core_name().c_str(), ms[ms.size() / 2], steps);
}
