#include "nn/fused_rnn.hpp"

#include <tapegrad/autograd.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/ops.hpp>

#include "autograd/composed_backward.hpp"
#include "nn/fused_recurrence.hpp"
#include "ops/gemm.hpp"
#include "ops/kernels.hpp"

#include <vector>

namespace tg::nn::detail {
namespace {

void check_layer(const Tensor& gi, const Tensor& h0, const Tensor& w_hh, const Tensor& b_hh) {
  const int64_t hidden = h0.dim() == 2 ? h0.size(1) : -1;
  const bool fits = gi.dim() == 3 && h0.dim() == 2 && gi.size(1) == h0.size(0) &&
                    gi.size(2) == hidden && w_hh.shape() == Shape{hidden, hidden} &&
                    (!b_hh.defined() || b_hh.shape() == Shape{hidden});
  if (!fits) {
    fail(
        "RNN layer: expected gi [T, N, H], h0 [N, H], weight_hh [H, H] and bias_hh [H], got {}, "
        "{}, {} and {}",
        shape_str(gi.shape()), shape_str(h0.shape()), shape_str(w_hh.shape()),
        b_hh.defined() ? shape_str(b_hh.shape()) : std::string("none"));
  }
  require_same_dtype(gi, h0, "RNN layer");
  require_same_dtype(gi, w_hh, "RNN layer");
}

// pre = gi + gh (gh holding h_prev·W_hhᵀ + b_hh, as linear() computes it) into out, then the
// nonlinearity over the whole step: relu as tg::relu (NaN passes through), tanh through the
// vectorized Float32 kernel.
template <class T>
void step_forward(const T* __restrict gi, const T* __restrict gh, int64_t count, bool relu,
                  T* __restrict out) {
  for (int64_t k = 0; k < count; ++k) out[k] = gi[k] + gh[k];
  if (relu) {
    for (int64_t k = 0; k < count; ++k) out[k] = T(0) > out[k] ? T(0) : out[k];
  } else {
    tanh_in_place(out, count);
  }
}

template <class T>
Tensor layer_forward(const RecurrentLayer& l, const Tensor& gi, const Tensor& h0,
                     const Tensor& w_hh, const Tensor& b_hh, bool relu) {
  Tensor out = make_tensor({l.steps, l.rows, l.hidden}, h0.dtype());
  Tensor gh = make_tensor({l.rows, l.hidden}, h0.dtype());
  const Tensor w_hh_t = steps_weight(w_hh);
  for (int64_t i = 0; i < l.steps; ++i) {
    const int64_t t = l.time(i);
    const Tensor prev =
        i == 0 ? h0 : share_storage(out, {l.rows, l.hidden}, l.time(i - 1) * l.count());
    hidden_projection<T>(prev, w_hh_t, b_hh, gh);
    step_forward(gi.data<T>() + t * l.count(), gh.data<T>(), l.count(), relu,
                 out.data<T>() + t * l.count());
  }
  return out;
}

// {d gi, d h0, d weight_hh, d bias_hh} from the gradient of every step's output. d pre =
// g·act'(h) with g the step's own gradient plus the one coming back through the next step;
// relu' is 0 where the output is ≤ 0 (threshold_backward), tanh' = 1 − h².
template <class T>
Grads layer_backward(const RecurrentLayer& l, const Tensor& gy, const Tensor& out, const Tensor& h0,
                     const Tensor& w_hh, bool relu, bool need_b) {
  Tensor d_pre = make_tensor({l.steps, l.rows, l.hidden}, h0.dtype());
  Tensor dh = zeros({l.rows, l.hidden}, {.dtype = h0.dtype()});  // into the state before a step
  const T *pgy = gy.data<T>(), *pout = out.data<T>(), *ph0 = h0.data<T>();
  for (int64_t i = l.steps - 1; i >= 0; --i) {
    const int64_t t = l.time(i);
    const T* __restrict g = pgy + t * l.count();
    const T* __restrict h = pout + t * l.count();
    const T* __restrict back = dh.data<T>();
    T* __restrict d = d_pre.data<T>() + t * l.count();
    if (relu) {
      for (int64_t k = 0; k < l.count(); ++k) {
        const T total = g[k] + back[k];
        d[k] = h[k] <= 0 ? T(0) : total;
      }
    } else {
      for (int64_t k = 0; k < l.count(); ++k) d[k] = (g[k] + back[k]) * (1 - h[k] * h[k]);
    }
    gemm_into(share_storage(d_pre, {l.rows, l.hidden}, t * l.count()), false, w_hh, false, dh, 0.0);
  }
  auto [dw, db] = recurrent_weight_gradients(l, d_pre, ph0, pout, w_hh.shape(), need_b);
  return {d_pre, dh, dw, db};
}

}  // namespace

Tensor composed_rnn_layer(const Tensor& gi, const Tensor& h0, const Tensor& w_hh,
                          const Tensor& b_hh, bool relu, bool reverse) {
  const int64_t steps = gi.size(0);
  std::vector<Tensor> outputs(static_cast<size_t>(steps));
  Tensor h = h0;
  for (int64_t i = 0; i < steps; ++i) {
    const int64_t t = reverse ? steps - 1 - i : i;
    const Tensor pre = gi.select(0, t) + linear(h, w_hh, b_hh);
    h = relu ? tg::relu(pre) : tg::tanh(pre);
    outputs[static_cast<size_t>(t)] = h;
  }
  return stack(outputs, 0);
}

Tensor rnn_layer(const Tensor& gi, const Tensor& h0, const Tensor& w_hh, const Tensor& b_hh,
                 bool relu, bool reverse) {
  check_layer(gi, h0, w_hh, b_hh);
  const RecurrentLayer l{gi.size(0), h0.size(0), h0.size(1), reverse};
  if (l.steps == 0 || l.rows == 0) return composed_rnn_layer(gi, h0, w_hh, b_hh, relu, reverse);
  Tensor out = visit_floating(
      h0, "RNN layer", [&]<class T>() { return layer_forward<T>(l, gi, h0, w_hh, b_hh, relu); });
  return record(
      "rnn_layer", out, {gi, h0, w_hh, b_hh},
      [l, relu, saved_out = SavedTensor::output(out), saved_gi = SavedTensor(gi),
       saved_h0 = SavedTensor(h0), saved_w = SavedTensor(w_hh), saved_b = saved_for_backward(b_hh),
       need_b = b_hh.defined() && b_hh.requires_grad()](const Tensor& gy) -> Grads {
        if (creating_graph()) {
          return tg::detail::composed_backward(
              [relu, reverse = l.reverse](const std::vector<Tensor>& in) {
                return composed_rnn_layer(in[0], in[1], in[2], in[3], relu, reverse);
              },
              {saved_gi.get(), saved_h0.get(), saved_w.get(),
               saved_b.defined() ? saved_b.get() : Tensor()},
              gy);
        }
        return visit_floating(gy, "RNN layer backward", [&]<class T>() {
          return layer_backward<T>(l, gy, saved_out, saved_h0, saved_w, relu, need_b);
        });
      });
}

}  // namespace tg::nn::detail
