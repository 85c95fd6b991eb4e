#include "nn/gru_step.hpp"

#include <tapegrad/autograd.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/ops.hpp>

#include "autograd/composed_backward.hpp"
#include "ops/kernels.hpp"
#include "ops/vector_math.hpp"

#include <cmath>

namespace tg::nn::detail {
namespace {

// σ and tanh in place: Float32 through the vectorized kernels (the same bits on every CPU),
// Float64 through libm, σ on the side where exp cannot overflow, as tg::sigmoid does.
void sigmoid_in_place(float* p, int64_t n) { vmath::sigmoid_array(p, p, n); }
void sigmoid_in_place(double* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double v = p[i];
    const double e = std::exp(v >= 0 ? -v : v);
    p[i] = v >= 0 ? 1 / (1 + e) : e / (1 + e);
  }
}
void tanh_in_place(float* p, int64_t n) { vmath::tanh_array(p, p, n); }
void tanh_in_place(double* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i) p[i] = std::tanh(p[i]);
}

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

// The step's gates, kept for the backward: r, z, n and gh_n, each [N, H], in one [4, N, H].
// Each nonlinearity runs over a whole array, so Float32 takes the vectorized kernels.
template <class T>
Tensor forward(const Tensor& gi, const Tensor& gh, const Tensor& h, Tensor& gates) {
  const int64_t rows = h.size(0), hidden = h.size(1), count = rows * hidden;
  Tensor out = make_tensor(h.shape(), h.dtype());
  gates = make_tensor({4, rows, hidden}, h.dtype());
  const T *pi = gi.data<T>(), *ph = gh.data<T>(), *prev = h.data<T>();
  T *po = out.data<T>(), *pr = gates.data<T>(), *pz = pr + count, *pn = pz + count,
    *pgn = pn + count;
  for (int64_t i = 0; i < rows; ++i) {
    const T *xi = pi + i * 3 * hidden, *hh = ph + i * 3 * hidden;
    for (int64_t j = 0; j < hidden; ++j) {
      const int64_t k = i * hidden + j;
      pr[k] = xi[j] + hh[j];
      pz[k] = xi[hidden + j] + hh[hidden + j];
      pgn[k] = hh[2 * hidden + j];
    }
  }
  sigmoid_in_place(pr, 2 * count);  // r and z, adjacent
  for (int64_t i = 0; i < rows; ++i) {
    const T* xi = pi + i * 3 * hidden;
    for (int64_t j = 0; j < hidden; ++j) {
      const int64_t k = i * hidden + j;
      pn[k] = xi[2 * hidden + j] + pr[k] * pgn[k];
    }
  }
  tanh_in_place(pn, count);
  for (int64_t k = 0; k < count; ++k) po[k] = (1 - pz[k]) * pn[k] + pz[k] * prev[k];
  return out;
}

// {d gi, d gh, d h} from the gradient of h'.
template <class T>
Grads backward(const Tensor& gy, const Tensor& gates, const Tensor& h, bool need_gi, bool need_gh,
               bool need_h) {
  const int64_t rows = h.size(0), hidden = h.size(1), count = rows * hidden;
  Tensor dgi = make_tensor({rows, 3 * hidden}, h.dtype());
  Tensor dgh = make_tensor({rows, 3 * hidden}, h.dtype());
  Tensor dh = need_h ? make_tensor(h.shape(), h.dtype()) : Tensor();
  const T *g = gy.data<T>(), *prev = h.data<T>(), *pr = gates.data<T>(), *pz = pr + count,
          *pn = pz + count, *pgn = pn + count;
  T *di = dgi.data<T>(), *dhh = dgh.data<T>(), *dprev = need_h ? dh.data<T>() : nullptr;
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < hidden; ++j) {
      const int64_t k = i * hidden + j, at = i * 3 * hidden + j;
      const T r = pr[k], z = pz[k], n = pn[k];
      const T d_pre_n = g[k] * (1 - z) * (1 - n * n);
      const T d_pre_r = d_pre_n * pgn[k] * (1 - r) * r;
      const T d_pre_z = g[k] * (prev[k] - n) * (1 - z) * z;
      di[at] = d_pre_r;
      di[at + hidden] = d_pre_z;
      di[at + 2 * hidden] = d_pre_n;
      dhh[at] = d_pre_r;
      dhh[at + hidden] = d_pre_z;
      dhh[at + 2 * hidden] = d_pre_n * r;
      if (dprev) dprev[k] = g[k] * z;
    }
  }
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

}  // namespace tg::nn::detail
