// Predicts diabetes progression (examples/data/diabetes.csv, 442 patients, 10 features) with an
// MLP trained by RMSProp, next to the closed-form least-squares line on the same split.

#include <tapegrad/tapegrad.hpp>

#include <fmt/core.h>

#include "common/flags.hpp"

#include <cmath>
#include <numeric>

namespace {

struct Split {
  tg::data::TensorDataset train, test;
};

// Shuffles the rows with `seed` and keeps 20% for testing.
Split split_rows(const tg::data::TensorDataset& all, uint64_t seed) {
  const std::vector<int64_t> order = tg::Generator(seed).permutation(all.size());
  const auto test_rows = static_cast<std::ptrdiff_t>(order.size() / 5);
  return {all.gather({order.begin() + test_rows, order.end()}),
          all.gather({order.begin(), order.begin() + test_rows})};
}

// Per-column mean and standard deviation of a [N, D] tensor (the training rows' statistics).
std::pair<tg::Tensor, tg::Tensor> column_stats(const tg::Tensor& x) {
  const tg::Tensor mean = tg::mean(x, 0);
  const tg::Tensor std = tg::sqrt(tg::mean(tg::square(x - mean), 0));
  return {mean, std};
}

// Ordinary least squares with an intercept: solves (AᵀA)β = Aᵀy, A = [1, X], by Gaussian
// elimination with partial pivoting, in double precision.
std::vector<double> least_squares(const tg::Tensor& x, const tg::Tensor& y) {
  const auto n = static_cast<size_t>(x.size(0)), d = static_cast<size_t>(x.size(1)) + 1;
  const std::vector<double> xs = x.to_vector<double>(), ys = y.to_vector<double>();
  std::vector<std::vector<double>> m(d, std::vector<double>(d + 1, 0.0));  // [AᵀA | Aᵀy]
  for (size_t r = 0; r < n; ++r) {
    std::vector<double> a{1.0};
    for (size_t c = 0; c + 1 < d; ++c) a.push_back(xs[r * (d - 1) + c]);
    for (size_t i = 0; i < d; ++i) {
      for (size_t j = 0; j < d; ++j) m[i][j] += a[i] * a[j];
      m[i][d] += a[i] * ys[r];
    }
  }
  for (size_t k = 0; k < d; ++k) {
    size_t pivot = k;
    for (size_t i = k + 1; i < d; ++i)
      if (std::abs(m[i][k]) > std::abs(m[pivot][k])) pivot = i;
    std::swap(m[k], m[pivot]);
    for (size_t i = k + 1; i < d; ++i) {
      const double factor = m[i][k] / m[k][k];
      for (size_t j = k; j <= d; ++j) m[i][j] -= factor * m[k][j];
    }
  }
  std::vector<double> beta(d);
  for (size_t k = d; k-- > 0;) {
    double rest = m[k][d];
    for (size_t j = k + 1; j < d; ++j) rest -= m[k][j] * beta[j];
    beta[k] = rest / m[k][k];
  }
  return beta;
}

// Root mean squared error and R² of predictions against targets.
std::pair<double, double> rmse_r2(const std::vector<double>& predicted,
                                  const std::vector<double>& actual) {
  const double mean = std::accumulate(actual.begin(), actual.end(), 0.0) / actual.size();
  double residual = 0, total = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    residual += (actual[i] - predicted[i]) * (actual[i] - predicted[i]);
    total += (actual[i] - mean) * (actual[i] - mean);
  }
  return {std::sqrt(residual / actual.size()), 1 - residual / total};
}

}  // namespace

int main(int argc, char** argv) {
  const examples::Flags flags(argc, argv,
                              "regression: an MLP with RMSProp against least squares on the "
                              "diabetes data set",
                              {{"data", TAPEGRAD_EXAMPLE_DATA "/diabetes.csv"},
                               {"epochs", "200"},
                               {"lr", "0.001"},
                               {"batch-size", "32"},
                               {"seed", "0"},
                               {"threads", "1"}});
  const int64_t epochs = flags.integer("epochs", 1, 100000);
  const double lr = flags.number("lr", 0, 10);
  const int64_t batch_size = flags.integer("batch-size", 1, 100000);
  const auto seed = static_cast<uint64_t>(flags.integer("seed", 0, INT64_MAX));
  tg::set_num_threads(static_cast<int>(flags.integer("threads", 1, 256)));

  tg::data::TensorDataset all = [&] {
    try {
      return tg::data::read_csv(flags.text("data"));
    } catch (const tg::Error& e) {
      examples::Flags::die(e.what());
    }
  }();
  const Split split = split_rows(all, seed);
  // Standardize features and target with the training rows' statistics only.
  const auto [x_mean, x_std] = column_stats(split.train.inputs);
  const auto [y_mean, y_std] = column_stats(split.train.targets);
  const auto standardize = [](const tg::Tensor& t, const tg::Tensor& mean, const tg::Tensor& std) {
    return ((t - mean) / std).detach();
  };
  const tg::Tensor x_train = standardize(split.train.inputs, x_mean, x_std);
  const tg::Tensor x_test = standardize(split.test.inputs, x_mean, x_std);
  const tg::Tensor y_train = standardize(split.train.targets, y_mean, y_std);
  const std::vector<double> y_test = split.test.targets.to_vector<double>();
  fmt::print("diabetes: {} training and {} test rows, {} features\n", split.train.size(),
             split.test.size(), x_train.size(1));

  const std::vector<double> beta = least_squares(x_train, split.train.targets);
  std::vector<double> baseline;
  const std::vector<double> xt = x_test.to_vector<double>();
  for (int64_t r = 0; r < x_test.size(0); ++r) {
    double p = beta[0];
    for (int64_t c = 0; c < x_test.size(1); ++c) p += beta[c + 1] * xt[r * x_test.size(1) + c];
    baseline.push_back(p);
  }

  tg::manual_seed(seed);
  tg::nn::Sequential model{tg::nn::Linear(10, 32), tg::nn::Tanh(), tg::nn::Linear(32, 1)};
  tg::optim::RMSProp optimizer(model.parameters(), {.lr = lr});
  tg::data::DataLoader loader({x_train, y_train},
                              {.batch_size = batch_size, .shuffle = true, .seed = seed});
  const auto predict_test = [&] {
    tg::NoGradGuard no_grad;
    return (model(x_test) * y_std + y_mean).to_vector<double>();
  };
  for (int64_t epoch = 1; epoch <= epochs; ++epoch) {
    double loss_sum = 0;
    for (const tg::data::Batch& batch : loader) {
      optimizer.zero_grad();
      const tg::Tensor loss = tg::nn::mse_loss(model(batch.inputs), batch.targets);
      loss.backward();
      optimizer.step();
      loss_sum += loss.item<float>();
    }
    if (epoch % (epochs < 10 ? 1 : epochs / 10) == 0 || epoch == epochs) {
      fmt::print("epoch {:4d}  train loss (standardized) {:.4f}  test RMSE {:.2f}\n", epoch,
                 loss_sum / loader.size(), rmse_r2(predict_test(), y_test).first);
    }
  }
  const auto [mlp_rmse, mlp_r2] = rmse_r2(predict_test(), y_test);
  const auto [ls_rmse, ls_r2] = rmse_r2(baseline, y_test);
  fmt::print("\n{:<26} {:>10} {:>8}\n", "model (test set)", "RMSE", "R²");
  fmt::print("{:<26} {:>10.2f} {:>8.4f}\n", "least squares (closed form)", ls_rmse, ls_r2);
  fmt::print("{:<26} {:>10.2f} {:>8.4f}\n", "MLP 10-32-1, RMSProp", mlp_rmse, mlp_r2);
}
