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

// Every loop below sweeps x in memory order, sample by sample and channel by channel: for
// BatchNorm1d on [N, C] a channel's values are single elements a row apart, which a
// channel-major sweep would visit C elements apart. With such runs of one value, the loop over
// the channels is the innermost and vectorizes.

// f(ch, at) for the element at offset `at` of every channel ch.
template <class F>
void sweep(const Layout& s, const F& f) {
  for (int64_t i = 0; i < s.n; ++i) {
    const int64_t row = i * s.c * s.l;
    if (s.l == 1) {
      for (int64_t ch = 0; ch < s.c; ++ch) f(ch, row + ch);
    } else {
      for (int64_t ch = 0; ch < s.c; ++ch) {
        const int64_t run = row + ch * s.l;
        for (int64_t j = 0; j < s.l; ++j) f(ch, run + j);
      }
    }
  }
}

// Σ term(ch, at) over each channel's elements, in double: each sample's run of L terms by
// lane_reduce, the runs added in sample order (a run of one adds its term), so each sum's order
// is fixed by the shape.
template <class Term>
std::vector<double> channel_sums(const Layout& s, const Term& term) {
  std::vector<double> sums(static_cast<size_t>(s.c), 0.0);
  for (int64_t i = 0; i < s.n; ++i) {
    const int64_t row = i * s.c * s.l;
    if (s.l == 1) {
      for (int64_t ch = 0; ch < s.c; ++ch) sums[ch] += term(ch, row + ch);
    } else {
      for (int64_t ch = 0; ch < s.c; ++ch) {
        const int64_t run = row + ch * s.l;
        sums[ch] +=
            tg::detail::lane_reduce<double>(s.l, [&](int64_t j) { return term(ch, run + j); });
      }
    }
  }
  return sums;
}

template <class T>
Tensor channel_tensor(const std::vector<double>& values, Dtype dtype) {
  Tensor t = make_tensor({static_cast<int64_t>(values.size())}, dtype);
  std::copy(values.begin(), values.end(), t.data<T>());
  return t;
}

// The batch's mean and biased variance of each channel: sums in double, the variance from the
// centered values (a second sweep).
template <class T>
ChannelStats batch_stats(const Tensor& x, const Layout& s) {
  const T* in = x.data<T>();
  std::vector<double> mean =
      channel_sums(s, [in](int64_t, int64_t at) { return static_cast<double>(in[at]); });
  std::vector<T> m(mean.size());
  for (size_t ch = 0; ch < m.size(); ++ch) {
    m[ch] = static_cast<T>(mean[ch] / static_cast<double>(s.count()));
    mean[ch] = m[ch];
  }
  std::vector<double> variance = channel_sums(s, [in, &m](int64_t ch, int64_t at) {
    const T centered = in[at] - m[ch];
    return static_cast<double>(centered * centered);
  });
  for (double& v : variance)
    v = static_cast<double>(static_cast<T>(v / static_cast<double>(s.count())));
  return {channel_tensor<T>(mean, x.dtype()), channel_tensor<T>(variance, x.dtype())};
}

// The forward with each channel's mean and spread √(var + eps) known; `spread` [C] out.
template <class T>
Tensor forward(const Tensor& x, const Layout& s, const ChannelStats& stats, const Tensor& weight,
               const Tensor& bias, double eps, Tensor& spread) {
  const T* variance = stats.variance.data<T>();
  std::vector<double> sd(static_cast<size_t>(s.c));
  for (int64_t ch = 0; ch < s.c; ++ch) {
    sd[ch] = static_cast<T>(std::sqrt(static_cast<double>(variance[ch]) + eps));
  }
  spread = channel_tensor<T>(sd, x.dtype());
  // Each channel's multiplier and addend, 1 and 0 without weight and bias: (x − m)/sd·1 + 0
  // is (x − m)/sd exactly.
  std::vector<T> w(static_cast<size_t>(s.c), T(1)), b(static_cast<size_t>(s.c), T(0));
  if (weight.defined()) std::copy_n(weight.data<T>(), s.c, w.begin());
  if (bias.defined()) std::copy_n(bias.data<T>(), s.c, b.begin());
  Tensor y = make_tensor(x.shape(), x.dtype());
  const T* __restrict in = x.data<T>();
  const T* __restrict m = stats.mean.data<T>();
  const T* __restrict d = spread.data<T>();
  T* __restrict out = y.data<T>();
  sweep(s, [&](int64_t ch, int64_t at) { out[at] = (in[at] - m[ch]) / d[ch] * w[ch] + b[ch]; });
  return y;
}

// With x̂ = (x − mean)/s and g = dy·weight, per channel: dx = (g − mean(g) − x̂·mean(g·x̂))/s
// for the batch's statistics (they depend on x), dx = g/s for given ones; d weight = Σ dy·x̂,
// d bias = Σ dy.
template <class T>
Grads backward(const Tensor& gy, const Tensor& x, const Layout& s, const Tensor& mean,
               const Tensor& spread, const Tensor& weight, bool batch_statistics, bool need_x,
               bool need_w, bool need_b) {
  const T* __restrict m = mean.data<T>();
  const T* __restrict d = spread.data<T>();
  const T* __restrict in = x.data<T>();
  const T* __restrict dy = gy.data<T>();
  const std::vector<double> dy_sum =
      channel_sums(s, [dy](int64_t, int64_t at) { return static_cast<double>(dy[at]); });
  const std::vector<double> dy_x_hat_sum = channel_sums(s, [=](int64_t ch, int64_t at) {
    return static_cast<double>(dy[at] * ((in[at] - m[ch]) / d[ch]));
  });
  Grads grads{Tensor(), need_w ? channel_tensor<T>(dy_x_hat_sum, x.dtype()) : Tensor(),
              need_b ? channel_tensor<T>(dy_sum, x.dtype()) : Tensor()};
  if (!need_x) return grads;
  // mean(g) = w·mean(dy) and mean(g·x̂) = w·mean(dy·x̂), as g = w·dy within a channel.
  const double count = static_cast<double>(s.count());
  std::vector<T> w(static_cast<size_t>(s.c), T(1)), g_mean(w.size(), T(0)), gx_mean(g_mean);
  if (weight.defined()) std::copy_n(weight.data<T>(), s.c, w.begin());
  for (int64_t ch = 0; ch < s.c && batch_statistics; ++ch) {
    g_mean[ch] = static_cast<T>(dy_sum[ch] / count * static_cast<double>(w[ch]));
    gx_mean[ch] = static_cast<T>(dy_x_hat_sum[ch] / count * static_cast<double>(w[ch]));
  }
  grads[0] = make_tensor(x.shape(), x.dtype());
  T* __restrict dx = grads[0].data<T>();
  sweep(s, [&](int64_t ch, int64_t at) {
    const T hat = (in[at] - m[ch]) / d[ch];
    dx[at] = (dy[at] * w[ch] - g_mean[ch] - hat * gx_mean[ch]) / d[ch];
  });
  return grads;
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
