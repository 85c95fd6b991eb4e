// Port of pytorch/examples' time_sequence_prediction (main.py and generate_sine_wave.py): two
// stacked LSTMCells (1 → 51 → 51) and a Linear(51, 1) learn to continue sine waves, trained in
// Float64 with L-BFGS (lr 0.8) and a closure, as main.py does. The waves are generated as in
// generate_sine_wave.py (100 waves of 1000 samples, sin((t + offset) / 20) with integer offsets
// in [−80, 80)), from a fixed seed instead of traindata.pt. Prints the loss of every closure
// call, the test loss after each step, and the first predicted `future` samples of a test wave.
#include <tapegrad/tapegrad.hpp>

#include <fmt/core.h>

#include "common/flags.hpp"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

namespace {

// main.py's Sequence: returns the prediction of every input step, then `future` more steps fed
// with its own output.
class Sequence : public tg::nn::Module {
 public:
  Sequence()
      : lstm1(register_module("lstm1", std::make_shared<tg::nn::LSTMCell>(1, 51))),
        lstm2(register_module("lstm2", std::make_shared<tg::nn::LSTMCell>(51, 51))),
        linear(register_module("linear", std::make_shared<tg::nn::Linear>(51, 1))) {}

  tg::Tensor forward(const tg::Tensor& input, int64_t future) {
    std::vector<tg::Tensor> outputs;
    tg::nn::LSTMState s1, s2;  // undefined: zeros of the input's dtype on the first step
    tg::Tensor output;
    const auto step = [&](const tg::Tensor& x) {
      s1 = lstm1->forward(x, s1);
      s2 = lstm2->forward(s1.first, s2);
      output = linear->forward(s2.first);
      outputs.push_back(output);
    };
    for (const tg::Tensor& input_t : input.split(1, 1)) step(input_t);
    for (int64_t i = 0; i < future; ++i) step(output);
    return tg::cat(outputs, 1);
  }

  std::shared_ptr<tg::nn::LSTMCell> lstm1, lstm2;
  std::shared_ptr<tg::nn::Linear> linear;
};

// generate_sine_wave.py: x[i, t] = sin((t + offset_i) / T) for offsets drawn in [−4T, 4T).
tg::Tensor sine_waves(int64_t waves, int64_t length, uint64_t seed) {
  const double period = 20;
  tg::Generator generator(seed);
  const tg::Tensor offsets = tg::randint(-4 * static_cast<int64_t>(period),
                                         4 * static_cast<int64_t>(period), {waves, 1}, generator);
  const tg::Tensor t = tg::arange(length, {.dtype = tg::Dtype::Float64}).reshape({1, length});
  return ((t + offsets.to(tg::Dtype::Float64)) * (1.0 / period)).sin();
}

}  // namespace

int main(int argc, char** argv) {
  const examples::Flags flags(
      argc, argv,
      "time_sequence_prediction: two LSTMCells learn to continue sine waves (pytorch/examples' "
      "time_sequence_prediction), trained with L-BFGS in Float64",
      {{"steps", "15"}, {"length", "1000"}, {"future", "1000"}, {"seed", "0"}});
  const int64_t steps = flags.integer("steps", 0, 1000000);
  const int64_t length = flags.integer("length", 3, 1000000);
  const int64_t future = flags.integer("future", 0, 1000000);
  const auto seed = static_cast<uint64_t>(flags.integer("seed", 0, 1LL << 62));

  tg::manual_seed(seed);  // torch.manual_seed(0): the layers' initialization
  const tg::Tensor data = sine_waves(100, length, 2);  // np.random.seed(2)
  // As main.py: waves 3… train, waves 0–2 test; the target is the input shifted by one step.
  const tg::Tensor input = data.narrow(0, 3, 97).narrow(1, 0, length - 1);
  const tg::Tensor target = data.narrow(0, 3, 97).narrow(1, 1, length - 1);
  const tg::Tensor test_input = data.narrow(0, 0, 3).narrow(1, 0, length - 1);
  const tg::Tensor test_target = data.narrow(0, 0, 3).narrow(1, 1, length - 1);

  Sequence seq;
  seq.to(tg::Dtype::Float64);  // seq.double()
  tg::optim::LBFGS optimizer(seq.parameters(), {.lr = 0.8});
  for (int64_t i = 0; i < steps; ++i) {
    fmt::print("STEP: {}\n", i);
    optimizer.step([&] {
      optimizer.zero_grad();
      const tg::Tensor loss = tg::nn::mse_loss(seq.forward(input, 0), target);
      fmt::print("loss: {}\n", loss.item<double>());
      std::fflush(stdout);
      loss.backward();
      return loss;
    });
    tg::NoGradGuard no_grad;
    const tg::Tensor pred = seq.forward(test_input, future);
    const tg::Tensor loss = tg::nn::mse_loss(pred.narrow(1, 0, length - 1), test_target);
    fmt::print("test loss: {}\n", loss.item<double>());
    if (i + 1 == steps && future > 0) {
      // main.py draws the predictions; print the first test wave's next few samples instead.
      const std::vector<double> next =
          pred.select(0, 0).narrow(0, length - 1, std::min<int64_t>(future, 8)).to_vector<double>();
      fmt::print("predicted future of test wave 0:");
      for (double v : next) fmt::print(" {:.4f}", v);
      fmt::print("\n");
    }
  }
  return 0;
}
