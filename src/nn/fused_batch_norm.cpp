#include "nn/fused_batch_norm.hpp"

#include <tapegrad/autograd.hpp>
#include <tapegrad/ops.hpp>

#include "autograd/composed_backward.hpp"
#include "kernels/lane_sum.hpp"
#include "ops/kernels.hpp"

#include <cmath>
#include <vector>

namespace tg::nn::detail {
namespace {

// x seen as [N, C, L]: channel c's values are N runs of L, `stride` = C·L apart.
struct Layout {
  int64_t n, c, l;
  int64_t count() const { return n * l; }
};

Layout layout_of(const Tensor& x) {
  return {x.size(0), x.size(1), x.numel() / (x.size(0) * x.size(1))};
}

Shape channel_shape(const Tensor& x) {
  Shape shape(static_cast<size_t>(x.dim()), 1);
  shape[1] = x.size(1);
  return shape;
}

// The batch's mean and biased variance of each channel: sums in double, the variance from the
// centered values (a second pass), in lane_sum's fixed order.
template <class T>
ChannelStats batch_stats(const Tensor& x, const Layout& s) {
  ChannelStats stats{make_tensor({s.c}, x.dtype()), make_tensor({s.c}, x.dtype())};
  std::vector<T> centered(static_cast<size_t>(s.l));
  for (int64_t ch = 0; ch < s.c; ++ch) {
    double total = 0;
    for (int64_t i = 0; i < s.n; ++i)
      total += tg::detail::lane_sum(x.data<T>() + (i * s.c + ch) * s.l, s.l);
    const auto m = static_cast<T>(total / static_cast<double>(s.count()));
    double squares = 0;
    for (int64_t i = 0; i < s.n; ++i) {
      const T* run = x.data<T>() + (i * s.c + ch) * s.l;
      for (int64_t j = 0; j < s.l; ++j) centered[j] = run[j] - m;
      squares += tg::detail::lane_dot(centered.data(), centered.data(), s.l);
    }
    stats.mean.data<T>()[ch] = m;
    stats.variance.data<T>()[ch] = static_cast<T>(squares / static_cast<double>(s.count()));
  }
  return stats;
}

// The forward with each channel's mean and spread √(var + eps) known; `spread` [C] out.
template <class T>
Tensor forward(const Tensor& x, const Layout& s, const ChannelStats& stats, const Tensor& weight,
               const Tensor& bias, double eps, Tensor& spread) {
  Tensor y = make_tensor(x.shape(), x.dtype());
  spread = make_tensor({s.c}, x.dtype());
  for (int64_t ch = 0; ch < s.c; ++ch) {
    const T m = stats.mean.data<T>()[ch];
    const auto sd =
        static_cast<T>(std::sqrt(static_cast<double>(stats.variance.data<T>()[ch]) + eps));
    spread.data<T>()[ch] = sd;
    const T w = weight.defined() ? weight.data<T>()[ch] : T(1);
    const T b = bias.defined() ? bias.data<T>()[ch] : T(0);
    for (int64_t i = 0; i < s.n; ++i) {
      const T* __restrict in = x.data<T>() + (i * s.c + ch) * s.l;
      T* __restrict out = y.data<T>() + (i * s.c + ch) * s.l;
      for (int64_t j = 0; j < s.l; ++j) out[j] = (in[j] - m) / sd;
      if (weight.defined()) {
        for (int64_t j = 0; j < s.l; ++j) out[j] = out[j] * w;
      }
      if (bias.defined()) {
        for (int64_t j = 0; j < s.l; ++j) out[j] = out[j] + b;
      }
    }
  }
  return y;
}

// With x̂ = (x − mean)/s and g = dy·weight, per channel: dx = (g − mean(g) − x̂·mean(g·x̂))/s
// for the batch's statistics (they depend on x), dx = g/s for given ones; d weight = Σ dy·x̂,
// d bias = Σ dy.
template <class T>
Grads backward(const Tensor& gy, const Tensor& x, const Layout& s, const Tensor& mean,
               const Tensor& spread, const Tensor& weight, bool batch_statistics, bool need_x,
               bool need_w, bool need_b) {
  Tensor dx = need_x ? make_tensor(x.shape(), x.dtype()) : Tensor();
  Tensor dw = need_w ? make_tensor({s.c}, x.dtype()) : Tensor();
  Tensor db = need_b ? make_tensor({s.c}, x.dtype()) : Tensor();
  std::vector<T> x_hat(static_cast<size_t>(s.l));
  for (int64_t ch = 0; ch < s.c; ++ch) {
    const T m = mean.data<T>()[ch], sd = spread.data<T>()[ch];
    const T w = weight.defined() ? weight.data<T>()[ch] : T(1);
    double dy_sum = 0, dy_x_hat_sum = 0;
    for (int64_t i = 0; i < s.n; ++i) {
      const T* in = x.data<T>() + (i * s.c + ch) * s.l;
      for (int64_t j = 0; j < s.l; ++j) x_hat[j] = (in[j] - m) / sd;
      const T* dy = gy.data<T>() + (i * s.c + ch) * s.l;
      dy_sum += tg::detail::lane_sum(dy, s.l);
      dy_x_hat_sum += tg::detail::lane_dot(dy, x_hat.data(), s.l);
    }
    if (need_w) dw.data<T>()[ch] = static_cast<T>(dy_x_hat_sum);
    if (need_b) db.data<T>()[ch] = static_cast<T>(dy_sum);
    if (!need_x) continue;
    // mean(g) = w·mean(dy) and mean(g·x̂) = w·mean(dy·x̂), as g = w·dy within a channel.
    const double count = static_cast<double>(s.count());
    const auto g_mean = static_cast<T>(batch_statistics ? dy_sum / count * w : 0.0);
    const auto gx_mean = static_cast<T>(batch_statistics ? dy_x_hat_sum / count * w : 0.0);
    for (int64_t i = 0; i < s.n; ++i) {
      const T* __restrict in = x.data<T>() + (i * s.c + ch) * s.l;
      const T* __restrict dy = gy.data<T>() + (i * s.c + ch) * s.l;
      T* __restrict out = dx.data<T>() + (i * s.c + ch) * s.l;
      for (int64_t j = 0; j < s.l; ++j) {
        const T hat = (in[j] - m) / sd;
        out[j] = (dy[j] * w - g_mean - hat * gx_mean) / sd;
      }
    }
  }
  return {dx, dw, db};
}

}  // namespace

Tensor composed_batch_norm_channels(const Tensor& x, const ChannelStats& given,
                                    const Tensor& weight, const Tensor& bias, double eps) {
  const Shape per_channel = channel_shape(x);
  Tensor y;
  if (!given.mean.defined()) {
    // Channels first, then one row of N·… values per channel.
    const int64_t channels = x.size(1);
    const Tensor rows = x.transpose(0, 1).reshape({channels, -1});
    const Tensor mean = rows.mean(1, /*keepdim=*/true);
    const Tensor centered = rows - mean;
    const Tensor variance = (centered * centered).mean(1, /*keepdim=*/true);
    y = (x - mean.reshape(per_channel)) / sqrt(variance.reshape(per_channel) + eps);
  } else {
    y = (x - given.mean.reshape(per_channel)) / sqrt(given.variance.reshape(per_channel) + eps);
  }
  if (weight.defined()) y = y * weight.reshape(per_channel);
  if (bias.defined()) y = y + bias.reshape(per_channel);
  return y;
}

Tensor batch_norm_channels(const Tensor& x, const ChannelStats& given, const Tensor& weight,
                           const Tensor& bias, double eps, ChannelStats* batch) {
  const bool batch_statistics = !given.mean.defined();
  if (x.numel() == 0) return composed_batch_norm_channels(x, given, weight, bias, eps);
  const Layout s = layout_of(x);
  ChannelStats stats;
  Tensor spread;
  Tensor y = visit_floating(x, "batch_norm", [&]<class T>() {
    NoGradGuard constants;  // the statistics are not on the tape: the backward accounts for them
    stats = batch_statistics ? batch_stats<T>(x, s)
                             : ChannelStats{given.mean.detach().contiguous(),
                                            given.variance.detach().contiguous()};
    return forward<T>(x, s, stats, weight, bias, eps, spread);
  });
  if (batch != nullptr) *batch = stats;
  const ChannelStats constant_given{given.mean.defined() ? given.mean.detach() : Tensor(),
                                    given.variance.defined() ? given.variance.detach() : Tensor()};
  return record("batch_norm", y, {x, weight, bias},
                [s, eps, batch_statistics, mean = stats.mean, spread, constant_given,
                 saved_x = SavedTensor(x), saved_w = saved_for_backward(weight),
                 saved_b = saved_for_backward(bias), need_x = x.requires_grad(),
                 need_w = weight.defined() && weight.requires_grad(),
                 need_b = bias.defined() && bias.requires_grad()](const Tensor& gy) -> Grads {
                  const Tensor w = saved_w.defined() ? saved_w.get() : Tensor();
                  if (creating_graph()) {
                    return tg::detail::composed_backward(
                        [constant_given, eps](const std::vector<Tensor>& in) {
                          return composed_batch_norm_channels(in[0], constant_given, in[1], in[2],
                                                              eps);
                        },
                        {saved_x.get(), w, saved_b.defined() ? saved_b.get() : Tensor()}, gy);
                  }
                  return visit_floating(gy, "batch_norm_backward", [&]<class T>() {
                    return backward<T>(gy, saved_x, s, mean, spread, w, batch_statistics, need_x,
                                       need_w, need_b);
                  });
                });
}

}  // namespace tg::nn::detail
