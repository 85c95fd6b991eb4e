#pragma once

// The GRU as fused ops: one time step (GRUCell) and the whole recurrence of one layer in one
// direction (GRU). Each computes its gates' elementwise forward and backward in one pass (a step
// composed of recorded ops is about fifteen nodes: six chunks, sums, two sigmoids, a tanh and
// the products); the layer also takes the input projection of the whole sequence at once and
// sums the recurrent weight's gradient over all steps in one GEMM. Their composed forms give the
// recorded backward under create_graph (src/autograd/composed_backward.hpp).

#include <tapegrad/tensor.hpp>

namespace tg::nn::detail {

/// h' = (1 − z)·n + z·h with r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r·gh_n),
/// from the projections gi = x·W_ihᵀ + b_ih and gh = h·W_hhᵀ + b_hh, [N, 3H] each with the
/// gates in PyTorch's order (r, z, n), and h [N, H].
Tensor gru_step(const Tensor& gi, const Tensor& gh, const Tensor& h);

/// The same step from recorded ops.
Tensor composed_gru_step(const Tensor& gi, const Tensor& gh, const Tensor& h);

/// One layer's recurrence in one direction: h_t = gru_step(gi[t], h_prev·W_hhᵀ + b_hh, h_prev)
/// for t = 0 … T−1 (T−1 … 0 when `reverse`), h_prev the state of the step before (h0 first),
/// from gi [T, N, 3H], the input projection of the whole sequence. Returns [T, N, H]: entry t
/// is the state after the step at time t. b_hh may be undefined.
Tensor gru_layer(const Tensor& gi, const Tensor& h0, const Tensor& w_hh, const Tensor& b_hh,
                 bool reverse);

/// The same recurrence from gru_step and recorded ops.
Tensor composed_gru_layer(const Tensor& gi, const Tensor& h0, const Tensor& w_hh,
                          const Tensor& b_hh, bool reverse);

}  // namespace tg::nn::detail
