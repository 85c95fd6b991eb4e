#include <tapegrad/tapegrad.hpp>

#include "helpers.hpp"

#include <cmath>

using namespace tg;

namespace {

// Turns anomaly mode on for one test and off again, even when the test fails.
struct AnomalyMode {
  AnomalyMode() { set_detect_anomaly(true); }
  ~AnomalyMode() { set_detect_anomaly(false); }
};

}  // namespace

TEST_CASE("anomaly mode is off by default and NaN then flows silently, as in PyTorch") {
  CHECK_FALSE(is_anomaly_enabled());
  const Tensor y = log(tensor({-1.0, 2.0}, {2}));
  CHECK(std::isnan(y.to_vector<float>()[0]));
}

TEST_CASE("anomaly mode names the first op whose forward output holds NaN or Inf") {
  AnomalyMode on;
  CHECK(is_anomaly_enabled());
  const Tensor x = tensor({-1.0, 2.0}, {2}, {.requires_grad = true});
  const Tensor fine = x * 2.0;  // finite: no error
  CHECK_TG_ERROR(log(x), "the forward of 'log' produced NaN in its output Float32 [2]");
  CHECK_TG_ERROR(exp(tensor({1000.0}, {1})), "the forward of 'exp' produced Inf");
  {
    NoGradGuard no_grad;  // also while not recording
    CHECK_TG_ERROR(sqrt(tensor({-4.0}, {1})), "the forward of 'sqrt' produced NaN");
  }
}

TEST_CASE("anomaly mode names the op whose backward produced NaN or Inf") {
  const Tensor x = tensor({0.0, 4.0}, {2}, {.requires_grad = true});
  const Tensor y = sum(sqrt(x));  // finite forward; d sqrt(x)/dx = 1 / (2 sqrt(x)) is Inf at 0
  {
    AnomalyMode on;
    CHECK_TG_ERROR(y.backward({}, true),
                   "the backward of 'sqrt' produced Inf in the gradient of its input 0 [2]");
  }
  y.backward();  // off: the Inf reaches the gradient, as in PyTorch
  CHECK(std::isinf(x.grad().to_vector<float>()[0]));
}

TEST_CASE("anomaly mode catches a diverging training run at the op where it breaks") {
  AnomalyMode on;
  manual_seed(3);
  nn::Sequential model{nn::Linear(2, 4), nn::Tanh(), nn::Linear(4, 1)};
  optim::SGD sgd(model.parameters(), {.lr = 1e30});  // absurd: the weights overflow
  const Tensor x = randn({8, 2}), target = randn({8, 1});
  bool caught = false;
  for (int step = 0; step < 20 && !caught; ++step) {
    try {
      sgd.zero_grad();
      nn::mse_loss(model(x), target).backward();
      sgd.step();
    } catch (const Error& e) {
      caught = true;
      CHECK_THAT(e.what(), Catch::Matchers::StartsWith("detect_anomaly: the "));
    }
  }
  CHECK(caught);
}
