// Answers "which optimizer?" by measurement. SGD, Momentum, Adagrad, RMSProp and Adam:
//  1. train the same MLP from the same initialization on the same data (per-step losses), and
//  2. minimize the 2-D Rosenbrock function from the same start (trajectories).
// Writes CSV files, and PNG plots when gnuplot is installed (Debian: gnuplot-nox).

#include <tapegrad/tapegrad.hpp>

#include <fmt/core.h>
#include <fmt/os.h>

#include "common/flags.hpp"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>

namespace {

using MakeOptimizer = std::function<std::unique_ptr<tg::optim::Optimizer>(std::vector<tg::Tensor>)>;

// Learning rates chosen per optimizer for each task (each near its best on that task).
struct Contender {
  std::string name;
  MakeOptimizer for_mlp, for_rosenbrock;
};

std::vector<Contender> contenders() {
  using namespace tg::optim;
  return {
      {"SGD", [](auto p) { return std::make_unique<SGD>(p, SGDOptions{.lr = 0.1}); },
       [](auto p) { return std::make_unique<SGD>(p, SGDOptions{.lr = 1e-3}); }},
      {"Momentum",
       [](auto p) { return std::make_unique<Momentum>(p, MomentumOptions{.lr = 0.02}); },
       [](auto p) { return std::make_unique<Momentum>(p, MomentumOptions{.lr = 2e-4}); }},
      {"Adagrad", [](auto p) { return std::make_unique<Adagrad>(p, AdagradOptions{.lr = 0.05}); },
       [](auto p) { return std::make_unique<Adagrad>(p, AdagradOptions{.lr = 0.5}); }},
      {"RMSProp", [](auto p) { return std::make_unique<RMSProp>(p, RMSPropOptions{.lr = 0.003}); },
       [](auto p) { return std::make_unique<RMSProp>(p, RMSPropOptions{.lr = 0.01}); }},
      {"Adam", [](auto p) { return std::make_unique<Adam>(p, AdamOptions{.lr = 0.01}); },
       [](auto p) { return std::make_unique<Adam>(p, AdamOptions{.lr = 0.05}); }},
  };
}

// y = sin(3x) + 0.05·noise, the MLP's target.
tg::Tensor sine_target(const tg::Tensor& x) {
  std::vector<double> y;
  for (float v : x.to_vector<float>()) y.push_back(std::sin(3.0 * v));
  return tg::tensor(y, x.shape()) + 0.05 * tg::randn(x.shape());
}

// Per-step training losses of each optimizer: MLP 1-32-1 (tanh) fitting y = sin(3x) + noise.
std::vector<std::vector<double>> mlp_losses(int64_t steps, uint64_t seed) {
  tg::manual_seed(seed);
  const tg::Tensor x = 2.0 * tg::rand({256, 1}) - 1.0;
  const tg::Tensor y = sine_target(x);
  tg::nn::Sequential model{tg::nn::Linear(1, 32), tg::nn::Tanh(), tg::nn::Linear(32, 1)};
  std::vector<tg::Tensor> initial;
  for (const tg::Tensor& p : model.parameters()) initial.push_back(p.detach().clone());
  std::vector<std::vector<double>> losses;
  for (const Contender& contender : contenders()) {
    std::vector<tg::Tensor> params = model.parameters();
    for (size_t i = 0; i < params.size(); ++i) {  // every optimizer starts from the same weights
      std::copy_n(initial[i].data<float>(), initial[i].numel(), params[i].data<float>());
    }
    auto optimizer = contender.for_mlp(params);
    losses.emplace_back();
    for (int64_t step = 0; step < steps; ++step) {
      optimizer->zero_grad();
      const tg::Tensor loss = tg::nn::mse_loss(model(x), y);
      loss.backward();
      optimizer->step();
      losses.back().push_back(loss.item<float>());
    }
  }
  return losses;
}

// Trajectories (x, y) of each optimizer on f(x, y) = (1 − x)² + 100·(y − x²)², from (−1.5, 2).
std::vector<std::vector<std::pair<double, double>>> rosenbrock_paths(int64_t steps) {
  std::vector<std::vector<std::pair<double, double>>> paths;
  for (const Contender& contender : contenders()) {
    tg::Tensor point =
        tg::tensor({-1.5, 2.0}, {2}, {.dtype = tg::Dtype::Float64, .requires_grad = true});
    auto optimizer = contender.for_rosenbrock({point});
    paths.emplace_back();
    for (int64_t step = 0; step <= steps; ++step) {
      const std::vector<double> xy = point.to_vector<double>();
      paths.back().emplace_back(xy[0], xy[1]);
      optimizer->zero_grad();
      const tg::Tensor px = point.reshape({2});
      const tg::Tensor x = tg::sum(px * tg::tensor({1, 0}, {2}, {.dtype = tg::Dtype::Float64}));
      const tg::Tensor y = tg::sum(px * tg::tensor({0, 1}, {2}, {.dtype = tg::Dtype::Float64}));
      (tg::square(1.0 - x) + 100.0 * tg::square(y - tg::square(x))).backward();
      optimizer->step();
    }
  }
  return paths;
}

void plot(const std::filesystem::path& dir) {
  const std::string script = (dir / "plots.gp").string();
  auto out = fmt::output_file(script);
  out.print(R"(set terminal png size 900,600
set datafile separator ','
set key autotitle columnhead
set output '{0}/losses.png'
set title 'MLP 1-32-1 on y = sin(3x): training loss per step (same data, same initialization)'
set xlabel 'step'; set ylabel 'MSE (log scale)'; set logscale y
plot for [i=2:6] '{0}/losses.csv' using 1:i with lines linewidth 2 \
  linecolor rgb word('#1b9e77 #7570b3 #e6ab02 #d95f02 #e7298a', i - 1)
unset logscale y
set table '{0}/contours.dat'
set contour base; set cntrparam levels discrete 0.25,1,4,16,64,256,1024
unset surface; set isosamples 120,120
splot [-2:2] [-1:3] (1-x)**2 + 100*(y-x**2)**2
unset table
set output '{0}/rosenbrock.png'
set title 'Rosenbrock f(x, y) = (1 - x)^2 + 100 (y - x^2)^2 from (-1.5, 2); minimum at (1, 1)'
set xlabel 'x'; set ylabel 'y'; set xrange [-2:2]; set yrange [-1:3]
set datafile separator whitespace
set object 1 circle at 1,1 size 0.05 fillstyle solid fillcolor rgb 'black'
set label 1 'minimum (1, 1)' at 1.08,0.9
colors = '#1b9e77 #7570b3 #e6ab02 #d95f02 #e7298a'
names = 'SGD Momentum Adagrad RMSProp Adam'
plot '{0}/contours.dat' with lines linecolor rgb '#cccccc' notitle, \
  for [i=1:5] '< grep ^'.word(names, i).', {0}/rosenbrock.csv | tr , " "' using 3:4 \
  with lines linewidth 2 linecolor rgb word(colors, i) title word(names, i)
)",
            dir.string());
  out.close();
  if (std::system(fmt::format("gnuplot '{}'", script).c_str()) != 0) {
    fmt::print("gnuplot failed; the CSV files are complete\n");
  } else {
    fmt::print("wrote {0}/losses.png and {0}/rosenbrock.png\n", dir.string());
  }
}

}  // namespace

int main(int argc, char** argv) {
  const examples::Flags flags(argc, argv,
                              "compare_optimizers: SGD, Momentum, Adagrad, RMSProp and Adam on "
                              "the same MLP and on the Rosenbrock function",
                              {{"out", "compare_optimizers_out"},
                               {"steps", "500"},
                               {"rosenbrock-steps", "3000"},
                               {"seed", "0"}});
  const std::filesystem::path dir = flags.text("out");
  const int64_t steps = flags.integer("steps", 1, 1000000);
  const int64_t rosenbrock_steps = flags.integer("rosenbrock-steps", 1, 1000000);
  const auto seed = static_cast<uint64_t>(flags.integer("seed", 0, INT64_MAX));
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error)
    examples::Flags::die(fmt::format("cannot create '{}': {}", dir.string(), error.message()));

  const std::vector<Contender> all = contenders();
  const auto losses = mlp_losses(steps, seed);
  auto csv = fmt::output_file((dir / "losses.csv").string());
  csv.print("step");
  for (const Contender& c : all) csv.print(",{}", c.name);
  csv.print("\n");
  for (int64_t step = 0; step < steps; ++step) {
    csv.print("{}", step + 1);
    for (const auto& series : losses) csv.print(",{:.6g}", series[step]);
    csv.print("\n");
  }
  csv.close();

  const auto paths = rosenbrock_paths(rosenbrock_steps);
  auto trajectories = fmt::output_file((dir / "rosenbrock.csv").string());
  trajectories.print("optimizer,step,x,y\n");
  for (size_t k = 0; k < all.size(); ++k) {
    for (size_t step = 0; step < paths[k].size(); ++step) {
      trajectories.print("{},{},{:.6g},{:.6g}\n", all[k].name, step, paths[k][step].first,
                         paths[k][step].second);
    }
  }
  trajectories.close();

  fmt::print("{:<10} {:>14} {:>14} {:>22}\n", "optimizer", "MLP loss @10%", "MLP loss end",
             "Rosenbrock distance to (1,1)");
  for (size_t k = 0; k < all.size(); ++k) {
    const auto [x, y] = paths[k].back();
    fmt::print("{:<10} {:>14.5f} {:>14.5f} {:>22.4f}\n", all[k].name,
               losses[k][std::max<int64_t>(steps / 10, 1) - 1], losses[k].back(),
               std::hypot(x - 1, y - 1));
  }
  fmt::print("wrote {0}/losses.csv and {0}/rosenbrock.csv\n", dir.string());
  if (std::system("command -v gnuplot > /dev/null 2>&1") == 0) {
    plot(dir);
  } else {
    fmt::print("gnuplot not found (Debian: apt-get install gnuplot-nox): no PNG plots\n");
  }
}
