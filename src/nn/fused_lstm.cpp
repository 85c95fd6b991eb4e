#include "nn/fused_lstm.hpp"

#include <tapegrad/autograd.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/ops.hpp>

#include "autograd/composed_backward.hpp"
#include "nn/fused_recurrence.hpp"
#include "ops/gemm.hpp"
#include "ops/kernels.hpp"

#include <algorithm>
#include <vector>

namespace tg::nn::detail {
namespace {

void check_layer(const Tensor& gi, const Tensor& h0, const Tensor& c0, const Tensor& w_hh,
                 const Tensor& b_hh) {
  const int64_t hidden = h0.dim() == 2 ? h0.size(1) : -1;
  const bool fits = gi.dim() == 3 && h0.dim() == 2 && c0.shape() == h0.shape() &&
                    gi.size(1) == h0.size(0) && gi.size(2) == 4 * hidden &&
                    w_hh.shape() == Shape{4 * hidden, hidden} &&
                    (!b_hh.defined() || b_hh.shape() == Shape{4 * hidden});
  if (!fits) {
    fail(
        "LSTM layer: expected gi [T, N, 4H], h0 and c0 [N, H], weight_hh [4H, H] and bias_hh "
        "[4H], got {}, {}, {}, {} and {}",
        shape_str(gi.shape()), shape_str(h0.shape()), shape_str(c0.shape()),
        shape_str(w_hh.shape()), b_hh.defined() ? shape_str(b_hh.shape()) : std::string("none"));
  }
  require_same_dtype(gi, h0, "LSTM layer");
  require_same_dtype(gi, c0, "LSTM layer");
  require_same_dtype(gi, w_hh, "LSTM layer");
}

// Planes kept per step for the backward: i, f, g, o and tanh(c), each [N, H].
constexpr int64_t kPlanes = 5;

template <class T>
Tensor layer_forward(const RecurrentLayer& l, const Tensor& gi, const Tensor& h0, const Tensor& c0,
                     const Tensor& w_hh, const Tensor& b_hh, Tensor& gates) {
  const int64_t count = l.count(), wide = 4 * l.hidden;
  Tensor out = make_tensor({2, l.steps, l.rows, l.hidden}, h0.dtype());
  gates = make_tensor({l.steps, kPlanes, l.rows, l.hidden}, h0.dtype());
  Tensor gh = make_tensor({l.rows, wide}, h0.dtype());
  const Tensor w_hh_t = steps_weight(w_hh);
  T* hs = out.data<T>();
  T* cs = hs + l.steps * count;
  for (int64_t i = 0; i < l.steps; ++i) {
    const int64_t t = l.time(i), before = i == 0 ? -1 : l.time(i - 1);
    const Tensor h_prev = i == 0 ? h0 : share_storage(out, {l.rows, l.hidden}, before * count);
    const T* c_prev = i == 0 ? c0.data<T>() : cs + before * count;
    gemm_into(h_prev, false, w_hh_t, false, gh, 0.0);
    T *pi = gates.data<T>() + t * kPlanes * count, *pf = pi + count, *pg = pf + count,
      *po = pg + count, *ptc = po + count;
    const T* x = gi.data<T>() + t * l.rows * wide;
    const T* h = gh.data<T>();
    const T* b = b_hh.defined() ? b_hh.data<T>() : nullptr;
    // Gate q of row r from its run of hidden values: contiguous, non-overlapping (__restrict),
    // so each run vectorizes.
    T* const planes[4] = {pi, pf, pg, po};
    for (int64_t r = 0; r < l.rows; ++r) {
      for (int64_t q = 0; q < 4; ++q) {
        const T* __restrict xq = x + r * wide + q * l.hidden;
        const T* __restrict hq = h + r * wide + q * l.hidden;
        T* __restrict to = planes[q] + r * l.hidden;
        if (b) {
          const T* __restrict bq = b + q * l.hidden;
          for (int64_t j = 0; j < l.hidden; ++j) to[j] = xq[j] + (hq[j] + bq[j]);
        } else {
          for (int64_t j = 0; j < l.hidden; ++j) to[j] = xq[j] + hq[j];
        }
      }
    }
    sigmoid_in_place(pi, 2 * count);  // i and f, adjacent
    tanh_in_place(pg, count);
    sigmoid_in_place(po, count);
    T* c = cs + t * count;
    for (int64_t k = 0; k < count; ++k) c[k] = pf[k] * c_prev[k] + pi[k] * pg[k];
    std::copy(c, c + count, ptc);
    tanh_in_place(ptc, count);
    T* h_out = hs + t * count;
    for (int64_t k = 0; k < count; ++k) h_out[k] = po[k] * ptc[k];
  }
  return out;
}

// {d gi, d h0, d c0, d weight_hh, d bias_hh} from the gradient of every step's h and c.
template <class T>
Grads layer_backward(const RecurrentLayer& l, const Tensor& gy, const Tensor& out,
                     const Tensor& gates, const Tensor& h0, const Tensor& c0, const Tensor& w_hh,
                     bool need_b) {
  const int64_t count = l.count(), wide = 4 * l.hidden;
  Tensor d_gates = make_tensor({l.steps, l.rows, wide}, h0.dtype());
  Tensor dh = zeros({l.rows, l.hidden}, {.dtype = h0.dtype()});  // into the state before a step
  Tensor dc = zeros({l.rows, l.hidden}, {.dtype = h0.dtype()});
  const T *gy_h = gy.data<T>(), *gy_c = gy_h + l.steps * count;
  const T *hs = out.data<T>(), *cs = hs + l.steps * count;
  for (int64_t i = l.steps - 1; i >= 0; --i) {
    const int64_t t = l.time(i);
    const T* c_prev = previous_state(l, i, c0.data<T>(), cs);
    const T *pi = gates.data<T>() + t * kPlanes * count, *pf = pi + count, *pg = pf + count,
            *po = pg + count, *ptc = po + count;
    T* pd = d_gates.data<T>() + t * l.rows * wide;
    T *pdh = dh.data<T>(), *pdc = dc.data<T>();
    for (int64_t r = 0; r < l.rows; ++r) {
      // Row r's runs: contiguous and non-overlapping (__restrict), so the loop vectorizes.
      const int64_t row = r * l.hidden;
      const T* __restrict gh = gy_h + t * count + row, * __restrict gc = gy_c + t * count + row;
      const T* __restrict back_h = pdh + row, * __restrict cp = c_prev + row;
      const T* __restrict ri = pi + row, * __restrict rf = pf + row, * __restrict rg = pg + row;
      const T* __restrict ro = po + row, * __restrict rtc = ptc + row;
      T* __restrict back_c = pdc + row;
      T* __restrict d = pd + r * wide;
      for (int64_t j = 0; j < l.hidden; ++j) {
        const T g_h = gh[j] + back_h[j];
        const T tc = rtc[j], o = ro[j], ig = ri[j], fg = rf[j], gg = rg[j];
        const T g_c = gc[j] + back_c[j] + g_h * o * (1 - tc * tc);
        d[j] = g_c * gg * (1 - ig) * ig;
        d[j + l.hidden] = g_c * cp[j] * (1 - fg) * fg;
        d[j + 2 * l.hidden] = g_c * ig * (1 - gg * gg);
        d[j + 3 * l.hidden] = g_h * tc * (1 - o) * o;
        back_c[j] = g_c * fg;
      }
    }
    gemm_into(share_storage(d_gates, {l.rows, wide}, t * l.rows * wide), false, w_hh, false, dh,
              0.0);
  }
  auto [dw, db] = recurrent_weight_gradients(l, d_gates, h0.data<T>(), hs, w_hh.shape(), need_b);
  return {d_gates, dh, dc, dw, db};
}

}  // namespace

Tensor composed_lstm_layer(const Tensor& gi, const Tensor& h0, const Tensor& c0, const Tensor& w_hh,
                           const Tensor& b_hh, bool reverse) {
  const int64_t steps = gi.size(0);
  std::vector<Tensor> hs(static_cast<size_t>(steps)), cs(static_cast<size_t>(steps));
  Tensor h = h0, c = c0;
  for (int64_t i = 0; i < steps; ++i) {
    const int64_t t = reverse ? steps - 1 - i : i;
    const std::vector<Tensor> g = (gi.select(0, t) + linear(h, w_hh, b_hh)).chunk(4, -1);
    c = sigmoid(g[1]) * c + sigmoid(g[0]) * tanh(g[2]);
    h = sigmoid(g[3]) * tanh(c);
    hs[static_cast<size_t>(t)] = h;
    cs[static_cast<size_t>(t)] = c;
  }
  return stack({stack(hs, 0), stack(cs, 0)}, 0);
}

Tensor lstm_layer(const Tensor& gi, const Tensor& h0, const Tensor& c0, const Tensor& w_hh,
                  const Tensor& b_hh, bool reverse) {
  check_layer(gi, h0, c0, w_hh, b_hh);
  const RecurrentLayer l{gi.size(0), h0.size(0), h0.size(1), reverse};
  if (l.steps == 0 || l.rows == 0) return composed_lstm_layer(gi, h0, c0, w_hh, b_hh, reverse);
  Tensor gates;
  Tensor out = visit_floating(h0, "LSTM layer", [&]<class T>() {
    return layer_forward<T>(l, gi, h0, c0, w_hh, b_hh, gates);
  });
  return record("lstm_layer", out, {gi, h0, c0, w_hh, b_hh},
                [l, gates, saved_out = SavedTensor::output(out), saved_gi = SavedTensor(gi),
                 saved_h0 = SavedTensor(h0), saved_c0 = SavedTensor(c0),
                 saved_w = SavedTensor(w_hh), saved_b = saved_for_backward(b_hh),
                 need_b = b_hh.defined() && b_hh.requires_grad()](const Tensor& gy) -> Grads {
                  if (creating_graph()) {
                    return tg::detail::composed_backward(
                        [reverse = l.reverse](const std::vector<Tensor>& in) {
                          return composed_lstm_layer(in[0], in[1], in[2], in[3], in[4], reverse);
                        },
                        {saved_gi.get(), saved_h0.get(), saved_c0.get(), saved_w.get(),
                         saved_b.defined() ? saved_b.get() : Tensor()},
                        gy);
                  }
                  return visit_floating(gy, "LSTM layer backward", [&]<class T>() {
                    return layer_backward<T>(l, gy, saved_out, gates, saved_h0, saved_c0, saved_w,
                                             need_b);
                  });
                });
}

}  // namespace tg::nn::detail
