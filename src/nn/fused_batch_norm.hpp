#pragma once

// batch_norm's normalization as a fused op: each channel's statistics over the batch in two
// passes, the normalized, scaled and shifted values in one, and the backward in one pass per
// channel plus its weight and bias sums (composed, a training-mode batch norm is a transpose,
// a copy and about ten more nodes). Its composed form gives the recorded backward under
// create_graph (src/autograd/composed_backward.hpp).

#include <tapegrad/tensor.hpp>

namespace tg::nn::detail {

/// A channel's statistics: its mean and biased variance, [C] each.
struct ChannelStats {
  Tensor mean, variance;
};

/// y = (x − mean_c)/√(var_c + eps)·weight_c + bias_c for x [N, C, …]. With `given` undefined,
/// mean and var are the batch's (over the N·… values of each channel; returned in `batch`);
/// otherwise they are given.mean and given.variance, constants of the tape (running
/// statistics get no gradient, as in torch). weight and bias [C], either may be undefined.
Tensor batch_norm_channels(const Tensor& x, const ChannelStats& given, const Tensor& weight,
                           const Tensor& bias, double eps, ChannelStats* batch);

/// The same from recorded ops.
Tensor composed_batch_norm_channels(const Tensor& x, const ChannelStats& given,
                                    const Tensor& weight, const Tensor& bias, double eps);

}  // namespace tg::nn::detail
