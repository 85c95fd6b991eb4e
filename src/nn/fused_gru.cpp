#include "nn/fused_gru.hpp"

#include <tapegrad/autograd.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/ops.hpp>

#include "autograd/composed_backward.hpp"
#include "nn/fused_recurrence.hpp"
#include "ops/gemm.hpp"
#include "ops/kernels.hpp"

#include <cmath>
#include <vector>

namespace tg::nn::detail {
namespace {

void check_step(const Tensor& gi, const Tensor& gh, const Tensor& h) {
  const bool fits = gi.dim() == 2 && h.dim() == 2 && gi.shape() == gh.shape() &&
                    gi.size(0) == h.size(0) && gi.size(1) == 3 * h.size(1);
  if (!fits || gi.dtype() != gh.dtype() || gi.dtype() != h.dtype()) {
    fail(
        "GRU step: expected projections [N, 3H] and a state [N, H] of one dtype, got {} {}, {} {}, "
        "{} {}",
        gi.dtype(), shape_str(gi.shape()), gh.dtype(), shape_str(gh.shape()), h.dtype(),
        shape_str(h.shape()));
  }
}

// One step's forward on raw [rows, ·] arrays: h' into out, and the gates kept for the backward
// (r, z, n and gh_n, each [rows, H], one after the other in `gates`). Each nonlinearity runs
// over a whole array, so Float32 takes the vectorized kernels.
template <class T>
void step_forward(const T* __restrict gi, const T* __restrict gh, const T* __restrict prev,
                  int64_t rows, int64_t hidden, T* __restrict out, T* __restrict gates) {
  const int64_t count = rows * hidden;
  T *pr = gates, *pz = pr + count, *pn = pz + count, *pgn = pn + count;
  for (int64_t i = 0; i < rows; ++i) {
    const T *xi = gi + i * 3 * hidden, *hh = gh + i * 3 * hidden;
    for (int64_t j = 0; j < hidden; ++j) {
      const int64_t k = i * hidden + j;
      pr[k] = xi[j] + hh[j];
      pz[k] = xi[hidden + j] + hh[hidden + j];
      pgn[k] = hh[2 * hidden + j];
    }
  }
  sigmoid_in_place(pr, 2 * count);  // r and z, adjacent
  for (int64_t i = 0; i < rows; ++i) {
    const T* xi = gi + i * 3 * hidden;
    for (int64_t j = 0; j < hidden; ++j) {
      const int64_t k = i * hidden + j;
      pn[k] = xi[2 * hidden + j] + pr[k] * pgn[k];
    }
  }
  tanh_in_place(pn, count);
  for (int64_t k = 0; k < count; ++k) out[k] = (1 - pz[k]) * pn[k] + pz[k] * prev[k];
}

// One step's backward from g, the gradient of h': d gi and d gh [rows, 3H], and, unless dprev
// is null, the direct part of d h (g·z; the part through gh is the caller's GEMM).
// The arrays never overlap (__restrict), so the loops vectorize.
template <class T>
void step_backward(const T* __restrict g, const T* __restrict gates, const T* __restrict prev,
                   int64_t rows, int64_t hidden, T* __restrict dgi, T* __restrict dgh,
                   T* __restrict dprev) {
  const int64_t count = rows * hidden;
  const T *pr = gates, *pz = pr + count, *pn = pz + count, *pgn = pn + count;
  for (int64_t i = 0; i < rows; ++i) {
    const T *gi = g + i * hidden, *ri = pr + i * hidden, *zi = pz + i * hidden;
    const T *ni = pn + i * hidden, *gni = pgn + i * hidden, *hi = prev + i * hidden;
    T* __restrict xi = dgi + i * 3 * hidden;
    T* __restrict hh = dgh + i * 3 * hidden;
    for (int64_t j = 0; j < hidden; ++j) {
      const T r = ri[j], z = zi[j], n = ni[j];
      const T d_pre_n = gi[j] * (1 - z) * (1 - n * n);
      const T d_pre_r = d_pre_n * gni[j] * (1 - r) * r;
      const T d_pre_z = gi[j] * (hi[j] - n) * (1 - z) * z;
      xi[j] = d_pre_r;
      xi[j + hidden] = d_pre_z;
      xi[j + 2 * hidden] = d_pre_n;
      hh[j] = d_pre_r;
      hh[j + hidden] = d_pre_z;
      hh[j + 2 * hidden] = d_pre_n * r;
    }
  }
  if (dprev) {
    for (int64_t k = 0; k < count; ++k) dprev[k] = g[k] * pz[k];
  }
}

template <class T>
Tensor forward(const Tensor& gi, const Tensor& gh, const Tensor& h, Tensor& gates) {
  Tensor out = make_tensor(h.shape(), h.dtype());
  gates = make_tensor({4, h.size(0), h.size(1)}, h.dtype());
  step_forward(gi.data<T>(), gh.data<T>(), h.data<T>(), h.size(0), h.size(1), out.data<T>(),
               gates.data<T>());
  return out;
}

// {d gi, d gh, d h} from the gradient of h'.
template <class T>
Grads backward(const Tensor& gy, const Tensor& gates, const Tensor& h, bool need_gi, bool need_gh,
               bool need_h) {
  const int64_t rows = h.size(0), hidden = h.size(1);
  Tensor dgi = make_tensor({rows, 3 * hidden}, h.dtype());
  Tensor dgh = make_tensor({rows, 3 * hidden}, h.dtype());
  Tensor dh = need_h ? make_tensor(h.shape(), h.dtype()) : Tensor();
  step_backward(gy.data<T>(), gates.data<T>(), h.data<T>(), rows, hidden, dgi.data<T>(),
                dgh.data<T>(), need_h ? dh.data<T>() : static_cast<T*>(nullptr));
  return {need_gi ? dgi : Tensor(), need_gh ? dgh : Tensor(), dh};
}

}  // namespace

Tensor composed_gru_step(const Tensor& gi, const Tensor& gh, const Tensor& h) {
  // The reset gate multiplies the hidden projection of n including b_hn (PyTorch's form).
  const std::vector<Tensor> i = gi.chunk(3, -1), hh = gh.chunk(3, -1);
  const Tensor r = sigmoid(i[0] + hh[0]);
  const Tensor z = sigmoid(i[1] + hh[1]);
  const Tensor n = tanh(i[2] + r * hh[2]);
  return (1.0 - z) * n + z * h;
}

Tensor gru_step(const Tensor& gi, const Tensor& gh, const Tensor& h) {
  check_step(gi, gh, h);
  Tensor gates;
  Tensor y = visit_floating(h, "GRU step", [&]<class T>() { return forward<T>(gi, gh, h, gates); });
  return record(
      "gru_step", y, {gi, gh, h},
      [gates, saved_gi = SavedTensor(gi), saved_gh = SavedTensor(gh), saved_h = SavedTensor(h),
       need_gi = gi.requires_grad(), need_gh = gh.requires_grad(),
       need_h = h.requires_grad()](const Tensor& gy) {
        if (creating_graph()) {
          return tg::detail::composed_backward(
              [](const std::vector<Tensor>& in) { return composed_gru_step(in[0], in[1], in[2]); },
              {saved_gi.get(), saved_gh.get(), saved_h.get()}, gy);
        }
        return visit_floating(gy, "GRU step backward", [&]<class T>() {
          return backward<T>(gy, gates, saved_h, need_gi, need_gh, need_h);
        });
      });
}

namespace {

// Rows [at, at + rows) × all columns of a contiguous tensor seen as [·, cols], as a matrix.
Tensor rows_of(const Tensor& t, int64_t at, int64_t rows, int64_t cols) {
  return share_storage(t, {rows, cols}, at * cols);
}

void check_layer(const Tensor& gi, const Tensor& h0, const Tensor& w_hh, const Tensor& b_hh) {
  const int64_t hidden = h0.dim() == 2 ? h0.size(1) : -1;
  const bool fits = gi.dim() == 3 && h0.dim() == 2 && gi.size(1) == h0.size(0) &&
                    gi.size(2) == 3 * hidden && w_hh.shape() == Shape{3 * hidden, hidden} &&
                    (!b_hh.defined() || b_hh.shape() == Shape{3 * hidden});
  if (!fits) {
    fail(
        "GRU layer: expected gi [T, N, 3H], h0 [N, H], weight_hh [3H, H] and bias_hh [3H], got "
        "{}, {}, {} and {}",
        shape_str(gi.shape()), shape_str(h0.shape()), shape_str(w_hh.shape()),
        b_hh.defined() ? shape_str(b_hh.shape()) : std::string("none"));
  }
}

template <class T>
Tensor layer_forward(const RecurrentLayer& l, const Tensor& gi, const Tensor& h0,
                     const Tensor& w_hh, const Tensor& b_hh, Tensor& gates) {
  Tensor out = make_tensor({l.steps, l.rows, l.hidden}, h0.dtype());
  gates = make_tensor({l.steps, 4, l.rows, l.hidden}, h0.dtype());
  Tensor gh = make_tensor({l.rows, 3 * l.hidden}, h0.dtype());
  const Tensor w_hh_t = steps_weight(w_hh);
  for (int64_t i = 0; i < l.steps; ++i) {
    const int64_t t = l.time(i);
    const Tensor prev = i == 0 ? h0 : rows_of(out, l.time(i - 1) * l.rows, l.rows, l.hidden);
    hidden_projection<T>(prev, w_hh_t, b_hh, gh);
    step_forward(gi.data<T>() + t * l.rows * 3 * l.hidden, gh.data<T>(), prev.data<T>(), l.rows,
                 l.hidden, out.data<T>() + t * l.count(), gates.data<T>() + t * 4 * l.count());
  }
  return out;
}

// {d gi, d h0, d weight_hh, d bias_hh} from the gradient of every step's output.
template <class T>
Grads layer_backward(const RecurrentLayer& l, const Tensor& gy, const Tensor& out,
                     const Tensor& gates, const Tensor& h0, const Tensor& w_hh, bool need_b) {
  const int64_t wide = 3 * l.hidden;
  Tensor dgi = make_tensor({l.steps, l.rows, wide}, h0.dtype());
  Tensor dgh = make_tensor({l.steps, l.rows, wide}, h0.dtype());
  Tensor dh = zeros({l.rows, l.hidden}, {.dtype = h0.dtype()});  // into the state before a step
  std::vector<T> g(static_cast<size_t>(l.count()));
  const T *pgy = gy.data<T>(), *pout = out.data<T>(), *ph0 = h0.data<T>();
  for (int64_t i = l.steps - 1; i >= 0; --i) {
    const int64_t t = l.time(i);
    T* pdh = dh.data<T>();
    for (int64_t k = 0; k < l.count(); ++k) g[k] = pgy[t * l.count() + k] + pdh[k];
    step_backward(g.data(), gates.data<T>() + t * 4 * l.count(), previous_state(l, i, ph0, pout),
                  l.rows, l.hidden, dgi.data<T>() + t * l.rows * wide,
                  dgh.data<T>() + t * l.rows * wide, pdh);
    gemm_into(rows_of(dgh, t * l.rows, l.rows, wide), false, w_hh, false, dh, 1.0);
  }
  auto [dw, db] = recurrent_weight_gradients(l, dgh, ph0, pout, w_hh.shape(), need_b);
  return {dgi, dh, dw, db};
}

}  // namespace

Tensor composed_gru_layer(const Tensor& gi, const Tensor& h0, const Tensor& w_hh,
                          const Tensor& b_hh, bool reverse) {
  const int64_t steps = gi.size(0);
  std::vector<Tensor> outputs(static_cast<size_t>(steps));
  Tensor h = h0;
  for (int64_t i = 0; i < steps; ++i) {
    const int64_t t = reverse ? steps - 1 - i : i;
    h = gru_step(gi.select(0, t), linear(h, w_hh, b_hh), h);
    outputs[static_cast<size_t>(t)] = h;
  }
  return stack(outputs, 0);
}

Tensor gru_layer(const Tensor& gi, const Tensor& h0, const Tensor& w_hh, const Tensor& b_hh,
                 bool reverse) {
  check_layer(gi, h0, w_hh, b_hh);
  require_same_dtype(gi, h0, "GRU layer");
  require_same_dtype(gi, w_hh, "GRU layer");
  const RecurrentLayer l{gi.size(0), h0.size(0), h0.size(1), reverse};
  if (l.steps == 0 || l.rows == 0) return composed_gru_layer(gi, h0, w_hh, b_hh, reverse);
  Tensor gates;
  Tensor out = visit_floating(
      h0, "GRU layer", [&]<class T>() { return layer_forward<T>(l, gi, h0, w_hh, b_hh, gates); });
  return record(
      "gru_layer", out, {gi, h0, w_hh, b_hh},
      [l, gates, saved_out = SavedTensor::output(out), saved_gi = SavedTensor(gi),
       saved_h0 = SavedTensor(h0), saved_w = SavedTensor(w_hh), saved_b = saved_for_backward(b_hh),
       need_b = b_hh.defined() && b_hh.requires_grad()](const Tensor& gy) -> Grads {
        if (creating_graph()) {
          return tg::detail::composed_backward(
              [reverse = l.reverse](const std::vector<Tensor>& in) {
                return composed_gru_layer(in[0], in[1], in[2], in[3], reverse);
              },
              {saved_gi.get(), saved_h0.get(), saved_w.get(),
               saved_b.defined() ? saved_b.get() : Tensor()},
              gy);
        }
        return visit_floating(gy, "GRU layer backward", [&]<class T>() {
          return layer_backward<T>(l, gy, saved_out, gates, saved_h0, saved_w, need_b);
        });
      });
}

}  // namespace tg::nn::detail
