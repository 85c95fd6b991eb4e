#pragma once

// What the fused recurrent layers (fused_gru.cpp, fused_lstm.cpp) share: σ and tanh over whole
// arrays in place, a layer's sizes and step order, and the recurrent weight's and bias's
// gradients summed over all steps.

#include <tapegrad/autograd.hpp>
#include <tapegrad/tensor.hpp>

#include "ops/gemm.hpp"
#include "ops/vector_math.hpp"
#include "tensor/tensor_impl.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace tg::nn::detail {

// Float32 through the vectorized kernels (the same bits on every CPU, and those of tg::sigmoid /
// tg::tanh), Float64 through libm, σ on the side where exp cannot overflow, as tg::sigmoid does.
inline void sigmoid_in_place(float* p, int64_t n) { vmath::sigmoid_array(p, p, n); }
inline void sigmoid_in_place(double* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double v = p[i];
    const double e = std::exp(v >= 0 ? -v : v);
    p[i] = v >= 0 ? 1 / (1 + e) : e / (1 + e);
  }
}
inline void tanh_in_place(float* p, int64_t n) { vmath::tanh_array(p, p, n); }
inline void tanh_in_place(double* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i) p[i] = std::tanh(p[i]);
}

/// A layer's sizes, and where step i (in the order the steps run) reads and writes.
struct RecurrentLayer {
  int64_t steps, rows, hidden;
  bool reverse;
  int64_t time(int64_t i) const { return reverse ? steps - 1 - i : i; }
  int64_t count() const { return rows * hidden; }
};

/// The hidden state before step i: h0 for the first, else the state the step before wrote into
/// hs [T, N, H].
template <class T>
const T* previous_state(const RecurrentLayer& l, int64_t i, const T* h0, const T* hs) {
  return i == 0 ? h0 : hs + l.time(i - 1) * l.count();
}

/// W_hhᵀ [H, G·H], contiguous, made once per layer and direction: every step's product then reads
/// the weight as it is stored instead of having a GEMM copy it transposed each step (for the
/// Float32 kernel of src/ops/small_gemm.cpp, which takes such a b as it is).
inline Tensor steps_weight(const Tensor& w_hh) {
  NoGradGuard no_tape;
  return w_hh.t().contiguous();
}

/// gh = prev·W_hhᵀ + b_hh for one step, into gh [N, G·H] (b_hh may be undefined), from
/// w_hh_t = steps_weight(W_hh): the GEMM, then the bias added to each row, as linear() rounds it.
template <class T>
void hidden_projection(const Tensor& prev, const Tensor& w_hh_t, const Tensor& b_hh, Tensor& gh) {
  gemm_into(prev, false, w_hh_t, false, gh, 0.0);
  if (!b_hh.defined()) return;
  const int64_t rows = gh.size(0), wide = gh.size(1);
  T* p = gh.data<T>();
  const T* b = b_hh.data<T>();
  for (int64_t r = 0; r < rows; ++r, p += wide) {
    for (int64_t j = 0; j < wide; ++j) p[j] = p[j] + b[j];
  }
}

/// {d weight_hh, d bias_hh (undefined unless need_b)} from the gradients of every step's
/// pre-activations d_pre [T, N, G·H]: Σ_t d_preₜᵀ · h_prevₜ as one GEMM over all steps (the
/// states before each step gathered in time order), and the column sums of d_pre.
template <class T>
std::pair<Tensor, Tensor> recurrent_weight_gradients(const RecurrentLayer& l, const Tensor& d_pre,
                                                     const T* h0, const T* hs,
                                                     const Shape& weight_shape, bool need_b) {
  const int64_t wide = d_pre.size(2), all_rows = l.steps * l.rows;
  Tensor prev_all = make_tensor({all_rows, l.hidden}, d_pre.dtype());
  for (int64_t i = 0; i < l.steps; ++i) {
    const T* from = previous_state(l, i, h0, hs);
    std::copy(from, from + l.count(), prev_all.data<T>() + l.time(i) * l.count());
  }
  Tensor dw = make_tensor(weight_shape, d_pre.dtype());
  gemm_into(share_storage(d_pre, {all_rows, wide}), true, prev_all, false, dw, 0.0);
  Tensor db;
  if (need_b) {
    std::vector<double> sums(static_cast<size_t>(wide), 0.0);
    const T* p = d_pre.data<T>();
    for (int64_t r = 0; r < all_rows; ++r, p += wide) {
      for (int64_t j = 0; j < wide; ++j) sums[j] += p[j];
    }
    db = make_tensor({wide}, d_pre.dtype());
    for (int64_t j = 0; j < wide; ++j) db.data<T>()[j] = static_cast<T>(sums[j]);
  }
  return {dw, db};
}

}  // namespace tg::nn::detail
