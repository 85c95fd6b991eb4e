#include "nn/fused_layer_norm.hpp"

#include <tapegrad/autograd.hpp>
#include <tapegrad/ops.hpp>

#include "autograd/composed_backward.hpp"
#include "kernels/lane_sum.hpp"
#include "ops/kernels.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace tg::nn::detail {
namespace {

// Each row's mean and √(var + eps), the sums in double in lane_sum's fixed order (the same bits
// at every CPU level); `mean` and `spread` are [R].
template <class T>
Tensor forward(const Tensor& rows, const Tensor& weight, const Tensor& bias, double eps,
               Tensor& mean, Tensor& spread) {
  const int64_t r = rows.size(0), n = rows.size(1);
  Tensor y = make_tensor(rows.shape(), rows.dtype());
  mean = make_tensor({r}, rows.dtype());
  spread = make_tensor({r}, rows.dtype());
  const T* w = weight.defined() ? weight.data<T>() : nullptr;
  const T* b = bias.defined() ? bias.data<T>() : nullptr;
  for (int64_t i = 0; i < r; ++i) {
    const T* __restrict x = rows.data<T>() + i * n;
    T* __restrict out = y.data<T>() + i * n;
    const auto m = static_cast<T>(tg::detail::lane_sum(x, n) / static_cast<double>(n));
    for (int64_t j = 0; j < n; ++j) out[j] = x[j] - m;
    const double squares = tg::detail::lane_dot(out, out, n);
    const auto s = static_cast<T>(std::sqrt(squares / static_cast<double>(n) + eps));
    mean.data<T>()[i] = m;
    spread.data<T>()[i] = s;
    for (int64_t j = 0; j < n; ++j) out[j] = out[j] / s;
    if (w) {
      for (int64_t j = 0; j < n; ++j) out[j] = out[j] * w[j];
    }
    if (b) {
      for (int64_t j = 0; j < n; ++j) out[j] = out[j] + b[j];
    }
  }
  return y;
}

// With x̂ = (x − mean)/s and g = gy·weight: dx = (g − mean(g) − x̂·mean(g·x̂))/s per row;
// d weight = Σ_rows gy·x̂, d bias = Σ_rows gy (the row sums in double).
template <class T>
Grads backward(const Tensor& gy, const Tensor& rows, const Tensor& weight, const Tensor& mean,
               const Tensor& spread, bool need_x, bool need_w, bool need_b) {
  const int64_t r = rows.size(0), n = rows.size(1);
  Tensor dx = need_x ? make_tensor(rows.shape(), rows.dtype()) : Tensor();
  std::vector<double> dw(need_w ? static_cast<size_t>(n) : 0, 0.0);
  std::vector<double> db(need_b ? static_cast<size_t>(n) : 0, 0.0);
  std::vector<T> g(static_cast<size_t>(n)), x_hat(static_cast<size_t>(n));
  const T* w = weight.defined() ? weight.data<T>() : nullptr;
  for (int64_t i = 0; i < r; ++i) {
    const T* __restrict x = rows.data<T>() + i * n;
    const T* __restrict dy = gy.data<T>() + i * n;
    const T m = mean.data<T>()[i], s = spread.data<T>()[i];
    for (int64_t j = 0; j < n; ++j) x_hat[j] = (x[j] - m) / s;
    if (w) {
      for (int64_t j = 0; j < n; ++j) g[j] = dy[j] * w[j];
    } else {
      std::copy(dy, dy + n, g.begin());
    }
    const double g_sum = tg::detail::lane_sum(g.data(), n);
    const double gx_sum = tg::detail::lane_dot(g.data(), x_hat.data(), n);
    if (need_x) {
      const auto g_mean = static_cast<T>(g_sum / static_cast<double>(n));
      const auto gx_mean = static_cast<T>(gx_sum / static_cast<double>(n));
      T* __restrict out = dx.data<T>() + i * n;
      for (int64_t j = 0; j < n; ++j) out[j] = (g[j] - g_mean - x_hat[j] * gx_mean) / s;
    }
    for (int64_t j = 0; need_w && j < n; ++j) dw[j] += static_cast<double>(dy[j] * x_hat[j]);
    for (int64_t j = 0; need_b && j < n; ++j) db[j] += dy[j];
  }
  const auto column = [&](const std::vector<double>& sums) {
    if (sums.empty()) return Tensor();
    Tensor t = make_tensor({n}, rows.dtype());
    for (int64_t j = 0; j < n; ++j) t.data<T>()[j] = static_cast<T>(sums[j]);
    return t;
  };
  return {dx, column(dw), column(db)};
}

}  // namespace

Tensor composed_layer_norm_rows(const Tensor& rows, const Tensor& weight, const Tensor& bias,
                                double eps) {
  const Tensor centered = rows - rows.mean(1, /*keepdim=*/true);
  const Tensor variance = (centered * centered).mean(1, /*keepdim=*/true);  // biased
  Tensor y = centered / sqrt(variance + eps);
  if (weight.defined()) y = y * weight;
  if (bias.defined()) y = y + bias;
  return y;
}

Tensor layer_norm_rows(const Tensor& rows, const Tensor& weight, const Tensor& bias, double eps) {
  if (rows.numel() == 0) return composed_layer_norm_rows(rows, weight, bias, eps);
  Tensor mean, spread;
  Tensor y = visit_floating(rows, "layer_norm", [&]<class T>() {
    return forward<T>(rows, weight, bias, eps, mean, spread);
  });
  return record("layer_norm", y, {rows, weight, bias},
                [mean, spread, eps, saved_rows = SavedTensor(rows),
                 saved_w = saved_for_backward(weight), saved_b = saved_for_backward(bias),
                 need_x = rows.requires_grad(), need_w = weight.defined() && weight.requires_grad(),
                 need_b = bias.defined() && bias.requires_grad()](const Tensor& gy) -> Grads {
                  const Tensor w = saved_w.defined() ? saved_w.get() : Tensor();
                  if (creating_graph()) {
                    return tg::detail::composed_backward(
                        [eps](const std::vector<Tensor>& in) {
                          return composed_layer_norm_rows(in[0], in[1], in[2], eps);
                        },
                        {saved_rows.get(), w, saved_b.defined() ? saved_b.get() : Tensor()}, gy);
                  }
                  return visit_floating(gy, "layer_norm_backward", [&]<class T>() {
                    return backward<T>(gy, saved_rows, w, mean, spread, need_x, need_w, need_b);
                  });
                });
}

}  // namespace tg::nn::detail
