// group_norm and instance_norm, and their modules (torch.nn.functional and torch.nn, 1.13).
// Both normalize each sample on its own, so both run on the fused normalizations of whole rows:
// group_norm is layer_norm over each [C/G · L] group (src/nn/fused_layer_norm.hpp), and
// instance_norm is, as in ATen, batch_norm over x seen as one sample of N·C channels
// (src/nn/fused_batch_norm.hpp), whose running statistics, repeated per sample, are averaged
// back over the batch.

#include <tapegrad/autograd.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/nn/functional.hpp>
#include <tapegrad/nn/normalization.hpp>
#include <tapegrad/ops.hpp>

#include "nn/fused_layer_norm.hpp"

namespace tg::nn {
namespace {

void check_channel_vector(const Tensor& t, int64_t channels, const char* what, const char* op) {
  if (t.defined() && t.shape() != Shape{channels}) {
    fail("{}: expected {} of shape [{}], got {}", op, what, channels, shape_str(t.shape()));
  }
}

// x·weight + bias per channel (dim 1), either undefined.
Tensor scale_and_shift(Tensor y, const Tensor& weight, const Tensor& bias) {
  Shape per_channel(static_cast<size_t>(y.dim()), 1);
  per_channel[1] = y.size(1);
  if (weight.defined()) y = y * weight.reshape(per_channel);
  if (bias.defined()) y = y + bias.reshape(per_channel);
  return y;
}

// [C] → [N·C], the vector once per sample.
Tensor per_sample(const Tensor& t, int64_t n) {
  return t.defined() ? t.unsqueeze(0).expand({n, t.size(0)}).reshape({-1}) : Tensor();
}

}  // namespace

Tensor functional::group_norm(const Tensor& x, int64_t num_groups, const Tensor& weight,
                              const Tensor& bias, double eps) {
  if (x.dim() < 2) fail("group_norm: expected an input [N, C, *], got {}", shape_str(x.shape()));
  if (num_groups <= 0) fail("group_norm: num_groups must be positive, got {}", num_groups);
  const int64_t n = x.size(0), channels = x.size(1);
  if (channels % num_groups != 0) {
    fail(
        "group_norm: Expected number of channels in input to be divisible by num_groups, but got "
        "input of shape {} and num_groups={}",
        shape_str(x.shape()), num_groups);
  }
  check_channel_vector(weight, channels, "weight", "group_norm");
  check_channel_vector(bias, channels, "bias", "group_norm");
  // Each group's C/G channels and positions as one row, its length given (with N = 0 a −1 would
  // be ambiguous).
  const int64_t row = channels / num_groups * (x.numel() / std::max<int64_t>(n * channels, 1));
  const Tensor rows = x.reshape({n * num_groups, row});
  return scale_and_shift(detail::layer_norm_rows(rows, {}, {}, eps).reshape(x.shape()), weight,
                         bias);
}

Tensor functional::instance_norm(const Tensor& x, const Tensor& running_mean,
                                 const Tensor& running_var, const Tensor& weight,
                                 const Tensor& bias, bool use_input_stats, double momentum,
                                 double eps) {
  if (x.dim() < 3) {
    fail("instance_norm: expected an input [N, C, *] with positions after C, got {}",
         shape_str(x.shape()));
  }
  const int64_t n = x.size(0), channels = x.size(1);
  check_channel_vector(weight, channels, "weight", "instance_norm");
  check_channel_vector(bias, channels, "bias", "instance_norm");
  check_channel_vector(running_mean, channels, "running_mean", "instance_norm");
  check_channel_vector(running_var, channels, "running_var", "instance_norm");
  if (running_mean.defined() != running_var.defined()) {
    fail("instance_norm: running_mean and running_var must both be given or both be omitted");
  }
  if (!use_input_stats && !running_mean.defined()) {
    fail("instance_norm: expected running_mean and running_var when use_input_stats is false");
  }
  if (use_input_stats && x.numel() / std::max<int64_t>(n * channels, 1) <= 1 && x.numel() > 0) {
    fail("instance_norm: Expected more than 1 spatial element when training, got input size {}",
         shape_str(x.shape()));
  }
  Shape folded = x.shape();
  folded[0] = 1;
  folded[1] = n * channels;
  Tensor mean_per_sample, var_per_sample;
  if (running_mean.defined()) {
    NoGradGuard constants;
    // Copies (clone), which batch_norm updates in place.
    mean_per_sample = per_sample(running_mean, n).clone();
    var_per_sample = per_sample(running_var, n).clone();
  }
  const Tensor y =
      batch_norm(x.reshape(folded), mean_per_sample, var_per_sample, per_sample(weight, n),
                 per_sample(bias, n), use_input_stats, momentum, eps)
          .reshape(x.shape());
  if (use_input_stats && running_mean.defined()) {
    NoGradGuard no_grad;  // ATen's update: each sample's running statistics, averaged
    Tensor mean_out = running_mean, var_out = running_var;
    mean_out.copy_(mean_per_sample.reshape({n, channels}).mean(0));
    var_out.copy_(var_per_sample.reshape({n, channels}).mean(0));
  }
  return y;
}

GroupNorm::GroupNorm(int64_t groups, int64_t channels, GroupNormOptions o)
    : num_groups(groups), num_channels(channels), options(o) {
  if (groups <= 0 || channels <= 0) {
    fail("GroupNorm: num_groups and num_channels must be positive, got {} and {}", groups,
         channels);
  }
  if (channels % groups != 0) {
    fail("GroupNorm: num_channels must be divisible by num_groups, got {} and {}", channels,
         groups);
  }
  if (!(o.eps > 0)) fail("GroupNorm: eps must be positive, got {}", o.eps);
  if (o.affine) {
    weight = ones({channels});
    bias = zeros({channels});
  }
  register_parameter("weight", &GroupNorm::weight);
  register_parameter("bias", &GroupNorm::bias);
}

Tensor GroupNorm::forward(const Tensor& x) {
  if (x.dim() < 2 || x.size(1) != num_channels) {
    fail("GroupNorm({}, {}): expected input [N, {}, *], got {}", num_groups, num_channels,
         num_channels, shape_str(x.shape()));
  }
  require_input_dtype(x, "GroupNorm");
  return F::group_norm(x, num_groups, weight, bias, options.eps);
}

InstanceNorm::InstanceNorm(int64_t num_features, InstanceNormOptions options, const char* name,
                           int64_t spatial_dims)
    : name_(name), num_features_(num_features), spatial_dims_(spatial_dims), options_(options) {
  if (num_features <= 0) fail("{}: num_features must be positive, got {}", name, num_features);
  if (!(options.eps > 0)) fail("{}: eps must be positive, got {}", name, options.eps);
  if (!(options.momentum >= 0 && options.momentum <= 1)) {
    fail("{}: momentum must be in [0, 1], got {}", name, options.momentum);
  }
  if (options.affine) {
    weight = ones({num_features});
    bias = zeros({num_features});
  }
  register_parameter("weight", &InstanceNorm::weight);
  register_parameter("bias", &InstanceNorm::bias);
  if (options.track_running_stats) {
    running_mean = zeros({num_features});
    running_var = ones({num_features});
    num_batches_tracked = zeros({}, {.dtype = Dtype::Int64});
  }
  register_buffer("running_mean", &InstanceNorm::running_mean);
  register_buffer("running_var", &InstanceNorm::running_var);
  register_buffer("num_batches_tracked", &InstanceNorm::num_batches_tracked);
}

Tensor InstanceNorm::forward(const Tensor& x) {
  const int64_t unbatched = spatial_dims_ + 1;
  const char* positions = spatial_dims_ == 1 ? "L" : "H, W";
  // As torch, another channel count is an error only where parameters or statistics need C.
  const bool needs_channels = options_.affine || options_.track_running_stats;
  const int64_t channel_dim = x.dim() == unbatched ? 0 : 1;
  if ((x.dim() != unbatched && x.dim() != unbatched + 1) ||
      (needs_channels && x.size(channel_dim) != num_features_)) {
    fail("{}: expected input [N, {}, {}] or [{}, {}], got {}", name_, num_features_, positions,
         num_features_, positions, shape_str(x.shape()));
  }
  require_input_dtype(x, name_);
  const Tensor batched = x.dim() == unbatched ? x.unsqueeze(0) : x;
  const bool use_input_stats = is_training() || !options_.track_running_stats;
  try {
    const Tensor y = F::instance_norm(batched, running_mean, running_var, weight, bias,
                                      use_input_stats, options_.momentum, options_.eps);
    return x.dim() == unbatched ? y.squeeze(0) : y;
  } catch (const Error& error) {
    fail("{}({}): {}", name_, num_features_, error.what());
  }
}

InstanceNorm1d::InstanceNorm1d(int64_t num_features, InstanceNormOptions options)
    : InstanceNorm(num_features, options, "InstanceNorm1d", 1) {}

InstanceNorm2d::InstanceNorm2d(int64_t num_features, InstanceNormOptions options)
    : InstanceNorm(num_features, options, "InstanceNorm2d", 2) {}

}  // namespace tg::nn
