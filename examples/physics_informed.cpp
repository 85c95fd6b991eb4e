// physics_informed: a physics-informed network (Raissi et al., 2019) solves u''(x) = −π² sin(πx)
// on [0, 1] with u(0) = u(1) = 0, whose solution is sin(πx). The loss holds u'' itself, taken
// through the tape with create_graph (two nested tg::grad calls), so training differentiates a
// second derivative: Adam first, then L-BFGS with the strong Wolfe line search, in Float64.

#include <tapegrad/tapegrad.hpp>

#include "common/flags.hpp"

#include <fmt/core.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numbers>
#include <string>

namespace {

constexpr double kPi = std::numbers::pi;

// du/dx of u(x) for a column of points x (a leaf that requires grad), kept on the tape.
tg::Tensor derivative(const tg::Tensor& u, const tg::Tensor& x) {
  return tg::grad(u, {x}, tg::ones_like(u), false, true)[0];
}

// mean (u'' + π² sin πx)² over the collocation points + u(0)² + u(1)².
tg::Tensor pinn_loss(tg::nn::Sequential& u_of, const tg::Tensor& x, const tg::Tensor& ends) {
  const tg::Tensor u = u_of(x);
  const tg::Tensor u_xx = derivative(derivative(u, x), x);
  const tg::Tensor residual = u_xx + (kPi * kPi) * tg::sin(kPi * x.detach());
  return tg::mean(residual * residual) + tg::sum(tg::square(u_of(ends)));
}

// Writes x, u(x), sin(πx) and the error as CSV to `path`, and `path` with .png for .csv as a
// plot of the solution and its error when gnuplot is installed.
void write_solution(const std::string& path, const tg::Tensor& grid, const tg::Tensor& u) {
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (!file) {
    fmt::print("cannot write '{}': no CSV or plot\n", path);
    return;
  }
  fmt::print(file, "x,u,exact,error\n");
  const std::vector<double> xs = grid.to_vector<double>(), us = u.to_vector<double>();
  for (size_t i = 0; i < xs.size(); ++i) {
    const double exact = std::sin(kPi * xs[i]);
    fmt::print(file, "{},{},{},{}\n", xs[i], us[i], exact, us[i] - exact);
  }
  std::fclose(file);
  fmt::print("wrote '{}'\n", path);
  if (std::system("command -v gnuplot > /dev/null 2>&1") != 0) return;
  const std::string png = path.substr(0, path.rfind('.')) + ".png";
  const std::string script = fmt::format(
      "set terminal png size 900,400; set output '{}'; set datafile separator ','; "
      "set key autotitle columnhead; set multiplot layout 1,2; set title 'u(x) and sin(pi x)'; "
      "plot '{}' using 1:2 with lines, '' using 1:3 with lines dashtype 2; "
      "set title 'u(x) - sin(pi x)'; plot '{}' using 1:4 with lines; unset multiplot",
      png, path, path);
  if (std::system(fmt::format("gnuplot -e \"{}\"", script).c_str()) == 0) {
    fmt::print("wrote '{}'\n", png);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const examples::Flags flags(
      argc, argv,
      "physics_informed: an MLP u(x) (1-32-32-1, tanh) learns u'' = -pi^2 sin(pi x), "
      "u(0) = u(1) = 0, from a loss that holds u'' (create_graph); Adam, then L-BFGS",
      {{"points", "64"},
       {"adam-steps", "500"},
       {"lbfgs-steps", "4"},
       {"seed", "0"},
       {"csv", "physics_informed.csv"}});
  const int64_t points = flags.integer("points", 2, 100000);
  const int64_t adam_steps = flags.integer("adam-steps", 0, 1000000);
  const int64_t lbfgs_steps = flags.integer("lbfgs-steps", 0, 100000);
  tg::manual_seed(static_cast<uint64_t>(flags.integer("seed", 0, 1LL << 62)));

  tg::nn::Sequential u_of{tg::nn::Linear(1, 32), tg::nn::Tanh(), tg::nn::Linear(32, 32),
                          tg::nn::Tanh(), tg::nn::Linear(32, 1)};
  u_of.to(tg::Dtype::Float64);
  const tg::TensorOptions f64{.dtype = tg::Dtype::Float64};
  tg::Tensor x = tg::linspace(0, 1, points, f64).reshape({points, 1});
  x.set_requires_grad();
  const tg::Tensor ends = tg::tensor({0.0, 1.0}, {2, 1}, f64);

  const auto start = std::chrono::steady_clock::now();
  tg::optim::Adam adam(u_of.parameters(), {.lr = 1e-2});
  for (int64_t step = 1; step <= adam_steps; ++step) {
    adam.zero_grad();
    const tg::Tensor loss = pinn_loss(u_of, x, ends);
    loss.backward();
    adam.step();
    if (step % 100 == 0 || step == adam_steps) {
      fmt::print("adam   step {:5d}  loss {:.3e}\n", step, loss.item<double>());
    }
  }
  tg::optim::LBFGS lbfgs(u_of.parameters(), {.max_iter = 200,
                                             .tolerance_grad = 1e-12,
                                             .tolerance_change = 1e-15,
                                             .line_search_fn = tg::optim::LineSearch::StrongWolfe});
  for (int64_t step = 1; step <= lbfgs_steps; ++step) {
    const tg::Tensor loss = lbfgs.step([&] {
      lbfgs.zero_grad();
      tg::Tensor value = pinn_loss(u_of, x, ends);
      value.backward();
      return value;
    });
    fmt::print("lbfgs  step {:5d}  loss {:.3e}\n", step, loss.item<double>());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  tg::NoGradGuard no_grad;
  const tg::Tensor grid = tg::linspace(0, 1, 1001, f64).reshape({1001, 1});
  const tg::Tensor u = u_of(grid);
  const tg::Tensor error = u - tg::sin(kPi * grid);
  fmt::print("trained in {:.2f} s\n", seconds);
  fmt::print("L2 error {:.3e}  max error {:.3e}  (against sin(pi x) on 1001 points)\n",
             std::sqrt(tg::mean(error * error).item<double>()),
             tg::max(tg::abs(error)).item<double>());
  write_solution(flags.text("csv"), grid, u);
}
