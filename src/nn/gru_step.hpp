#pragma once

// One GRU time step as a fused op: its gates' elementwise forward and backward in one pass each
// (a step composed of recorded ops is about fifteen nodes: six chunks, sums, two sigmoids, a
// tanh and the products). Its composed form gives the recorded backward under create_graph.

#include <tapegrad/tensor.hpp>

namespace tg::nn::detail {

/// h' = (1 − z)·n + z·h with r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r·gh_n),
/// from the projections gi = x·W_ihᵀ + b_ih and gh = h·W_hhᵀ + b_hh, [N, 3H] each with the
/// gates in PyTorch's order (r, z, n), and h [N, H].
Tensor gru_step(const Tensor& gi, const Tensor& gh, const Tensor& h);

/// The same step from recorded ops.
Tensor composed_gru_step(const Tensor& gi, const Tensor& gh, const Tensor& h);

}  // namespace tg::nn::detail
