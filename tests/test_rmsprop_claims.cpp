// The claims docs/rmsprop.md makes, each measured with the library.

#include "helpers.hpp"

#include <cmath>

using tg::Tensor;
using namespace tg::optim;

namespace {

// Runs `steps` updates on one parameter whose gradient is always `g` (loss = g·p); returns
// the size of each step |p_t − p_{t−1}|.
template <class Optimizer, class Options>
std::vector<double> step_sizes(Options options, double g, int steps) {
  Tensor p = tg::zeros({1}, {.dtype = tg::Dtype::Float64, .requires_grad = true});
  Optimizer optimizer({p}, options);
  std::vector<double> sizes;
  double previous = 0;
  for (int t = 0; t < steps; ++t) {
    optimizer.zero_grad();
    tg::sum(p * g).backward();
    optimizer.step();
    sizes.push_back(std::abs(p.item<double>() - previous));
    previous = p.item<double>();
  }
  return sizes;
}

}  // namespace

TEST_CASE("doc: RMSProp's first step is about 10·lr because v starts at 0", "[rmsprop][doc]") {
  // v₁ = (1 − 0.99)·g² so √v₁ = 0.1·|g| and the step is lr·|g|/(0.1·|g|) = 10·lr.
  const auto sizes = step_sizes<RMSProp>(RMSPropOptions{.lr = 0.01}, 0.5, 500);
  CHECK(sizes[0] == Approx(0.1).epsilon(1e-6));
  CHECK(sizes[1] == Approx(0.01 / std::sqrt(1 - 0.99 * 0.99)).epsilon(1e-6));         // 7.09·lr
  CHECK(sizes[9] == Approx(0.01 / std::sqrt(1 - std::pow(0.99, 10))).epsilon(1e-6));  // 3.23·lr
  // After ~1/(1 − α) steps v has forgotten its zero start and the step settles at lr.
  CHECK(sizes[499] == Approx(0.01 / std::sqrt(1 - std::pow(0.99, 500))).epsilon(1e-6));
  CHECK(sizes[499] == Approx(0.01).epsilon(0.01));
  // TF1's v₀ = 1 instead starts small: lr·g/√(0.9 + 0.1·g²) with lr in the momentum buffer.
  const auto tf1 = step_sizes<RMSProp>(RMSPropOptions::tf1(0.01), 0.5, 1);
  CHECK(tf1[0] == Approx(0.01 * 0.5 / std::sqrt(0.9 + 0.1 * 0.25 + 1e-10)).epsilon(1e-9));
  CHECK(tf1[0] == Approx(0.52 * 0.01).epsilon(1e-3));
}

TEST_CASE("doc: Adagrad's step shrinks like 1/√t, RMSProp's does not", "[rmsprop][doc]") {
  const auto adagrad = step_sizes<Adagrad>(AdagradOptions{.lr = 0.01}, 0.5, 10000);
  const auto rmsprop = step_sizes<RMSProp>(RMSPropOptions{.lr = 0.01}, 0.5, 10000);
  // Adagrad: sum_t = t·g², step = lr·g/√(t·g²) = lr/√t.
  CHECK(adagrad[99] == Approx(0.01 / 10).epsilon(1e-6));
  CHECK(adagrad[9999] == Approx(0.01 / 100).epsilon(1e-6));
  // RMSProp: v_t → g², step → lr, whatever t.
  CHECK(rmsprop[99] == Approx(0.01256).epsilon(1e-3));  // lr/√(1 − 0.99¹⁰⁰), still above lr
  CHECK(rmsprop[9999] == Approx(0.01).epsilon(1e-6));
  CHECK(rmsprop[9999] / adagrad[9999] == Approx(100).epsilon(1e-4));
}

TEST_CASE("doc: the step is invariant to the gradient's scale", "[rmsprop][doc]") {
  // Multiplying every gradient by 1000 leaves the RMSProp steps (nearly: ε) unchanged.
  const auto small = step_sizes<RMSProp>(RMSPropOptions{.lr = 0.01}, 0.001, 50);
  const auto large = step_sizes<RMSProp>(RMSPropOptions{.lr = 0.01}, 1.0, 50);
  for (int t = 0; t < 50; ++t) CHECK(small[t] == Approx(large[t]).epsilon(1e-4));
}

TEST_CASE("doc: accumulate-then-average is not RMSProp", "[rmsprop][doc]") {
  // A circulating formulation: a ← a + g²; v̂ ← α·a + (1 − α)·v̂. With a constant gradient a
  // grows like t·g², so v̂ does too and the step shrinks like Adagrad's. RMSProp averages g²
  // directly and v → g².
  const double g = 0.5, alpha = 0.99;
  double accumulated = 0, averaged = 0, v = 0;
  for (int t = 1; t <= 10000; ++t) {
    accumulated += g * g;
    averaged = alpha * accumulated + (1 - alpha) * averaged;
    v = alpha * v + (1 - alpha) * g * g;
  }
  CHECK(v == Approx(g * g).epsilon(1e-12));
  CHECK(averaged > 9000 * g * g);  // ~t·g²: 10⁴ times too large, steps 100× too small
  // And the library's RMSProp state is the direct average.
  Tensor p = tg::zeros({1}, {.dtype = tg::Dtype::Float64, .requires_grad = true});
  RMSProp optimizer({p}, {.lr = 1e-6});
  for (int t = 0; t < 10000; ++t) {
    optimizer.zero_grad();
    tg::sum(p * g).backward();
    optimizer.step();
  }
  CHECK(optimizer.state(0)->square_avg.item<double>() == Approx(g * g).epsilon(1e-12));
}

TEST_CASE("doc: for y = wx + b under MSE, dL/dw = −(2/N)·Σ(yᵢ − ŷᵢ)·xᵢ", "[rmsprop][doc]") {
  const std::vector<double> xs{1, 2, 3, 4}, ys{3, 5, 6, 9};
  const Tensor x = tg::tensor(xs, {4, 1}, {.dtype = tg::Dtype::Float64});
  const Tensor y = tg::tensor(ys, {4, 1}, {.dtype = tg::Dtype::Float64});
  Tensor w = tg::full({1, 1}, 0.5, {.dtype = tg::Dtype::Float64, .requires_grad = true});
  Tensor b = tg::full({1}, 0.25, {.dtype = tg::Dtype::Float64, .requires_grad = true});
  tg::nn::mse_loss(tg::matmul(x, w) + b, y).backward();
  double dw = 0, db = 0;
  for (size_t i = 0; i < 4; ++i) {
    const double residual = ys[i] - (0.5 * xs[i] + 0.25);
    dw += -2.0 / 4 * residual * xs[i];
    db += -2.0 / 4 * residual;
  }
  CHECK(w.grad().item<double>() == Approx(dw).epsilon(1e-14));
  CHECK(b.grad().item<double>() == Approx(db).epsilon(1e-14));
  CHECK(dw < 0);  // the fit is too low, so w must grow: the update w ← w − lr·dL/dw does that
}

TEST_CASE("doc: eps inside or outside the root matters only where v is tiny", "[rmsprop][doc]") {
  const auto outside = step_sizes<RMSProp>(RMSPropOptions{.lr = 0.01, .eps = 1e-4}, 1e-4, 1);
  const auto inside = step_sizes<RMSProp>(
      RMSPropOptions{.lr = 0.01, .eps = 1e-4, .eps_inside_sqrt = true}, 1e-4, 1);
  // g = 1e-4: √v₁ = 1e-5. Outside: 0.01·1e-4/(1e-5 + 1e-4) = 9.1e-3. Inside: 0.01·1e-4/√(1e-10 +
  // 1e-4) ≈ 1e-4.
  CHECK(outside[0] == Approx(0.01 * 1e-4 / (1e-5 + 1e-4)).epsilon(1e-9));
  CHECK(inside[0] == Approx(0.01 * 1e-4 / std::sqrt(1e-10 + 1e-4)).epsilon(1e-9));
  const auto big_outside = step_sizes<RMSProp>(RMSPropOptions{.lr = 0.01, .eps = 1e-8}, 1.0, 1);
  const auto big_inside =
      step_sizes<RMSProp>(RMSPropOptions{.lr = 0.01, .eps = 1e-8, .eps_inside_sqrt = true}, 1.0, 1);
  CHECK(big_outside[0] == Approx(big_inside[0]).epsilon(1e-6));
}
