#pragma once

// The plain RNN (tanh or relu) as a fused op: the whole recurrence of one layer in one direction,
// one GEMM per step for the hidden projection and the elementwise forward and backward in one
// pass, with the recurrent weight's gradient summed over all steps in one GEMM. Its composed form
// gives the recorded backward under create_graph (src/autograd/composed_backward.hpp).

#include <tapegrad/tensor.hpp>

namespace tg::nn::detail {

/// h_t = act(gi[t] + h_prev·W_hhᵀ + b_hh), act = relu when `relu` else tanh, for t = 0 … T−1
/// (T−1 … 0 when `reverse`), h_prev the state of the step before (h0 first), from gi [T, N, H],
/// the input projection of the whole sequence. Returns [T, N, H]: entry t is the state after
/// the step at time t. b_hh may be undefined.
Tensor rnn_layer(const Tensor& gi, const Tensor& h0, const Tensor& w_hh, const Tensor& b_hh,
                 bool relu, bool reverse);

/// The same recurrence from recorded ops.
Tensor composed_rnn_layer(const Tensor& gi, const Tensor& h0, const Tensor& w_hh,
                          const Tensor& b_hh, bool relu, bool reverse);

}  // namespace tg::nn::detail
