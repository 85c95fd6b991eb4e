#pragma once

// An LSTM layer's recurrence in one direction as one fused op, as the GRU's (fused_gru.hpp):
// the whole sequence's input projection comes in at once, each step is one GEMM of h forward
// and one backward, the gates' elementwise forward and backward run in one pass each, and the
// recurrent weight's gradient is one GEMM over all steps. Its composed form gives the recorded
// backward under create_graph.

#include <tapegrad/tensor.hpp>

namespace tg::nn::detail {

/// c_t = f·c_prev + i·g and h_t = o·tanh(c_t), with (i, f, g, o) = (σ, σ, tanh, σ) of
/// gi[t] + h_prev·W_hhᵀ + b_hh (PyTorch's gate order), for t = 0 … T−1 (T−1 … 0 when
/// `reverse`), from gi [T, N, 4H] (the input projection of the whole sequence), h0 and c0
/// [N, H]. Returns [2, T, N, H]: entry [0, t] is h_t, entry [1, t] is c_t. b_hh may be undefined.
Tensor lstm_layer(const Tensor& gi, const Tensor& h0, const Tensor& c0, const Tensor& w_hh,
                  const Tensor& b_hh, bool reverse);

/// The same recurrence from recorded ops.
Tensor composed_lstm_layer(const Tensor& gi, const Tensor& h0, const Tensor& c0, const Tensor& w_hh,
                           const Tensor& b_hh, bool reverse);

}  // namespace tg::nn::detail
