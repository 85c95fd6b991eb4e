#include <tapegrad/autograd.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/nn/functional.hpp>
#include <tapegrad/nn/normalization.hpp>
#include <tapegrad/ops.hpp>

#include "nn/fused_batch_norm.hpp"
#include "nn/fused_layer_norm.hpp"

#include <cmath>

// layer_norm and batch_norm's normalization are fused ops (src/nn/fused_layer_norm.hpp,
// fused_batch_norm.hpp); this file checks their arguments and moves the running statistics.

namespace tg::nn {
namespace {

void check_vector(const Tensor& t, int64_t size, const char* what, const char* op) {
  if (t.defined() && t.shape() != Shape{size}) {
    fail("{}: expected {} of shape [{}], got {}", op, what, size, shape_str(t.shape()));
  }
}

// "3, 4" for [3, 4].
std::string inner_dims(const Shape& shape) {
  const std::string text = shape_str(shape);
  return text.substr(1, text.size() - 2);
}

}  // namespace

Tensor functional::layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight,
                              const Tensor& bias, double eps) {
  const auto k = static_cast<int64_t>(normalized_shape.size());
  const auto fits = [&] {
    if (k == 0 || x.dim() < k) return false;
    for (int64_t d = 0; d < k; ++d) {
      if (x.size(x.dim() - k + d) != normalized_shape[d]) return false;
    }
    return true;
  };
  if (!fits()) {
    fail("layer_norm: normalized_shape {} expects an input of shape [*, {}], got {}",
         shape_str(normalized_shape), inner_dims(normalized_shape), shape_str(x.shape()));
  }
  for (const Tensor* t : {&weight, &bias}) {
    if (t->defined() && t->shape() != normalized_shape) {
      fail("layer_norm: expected {} of shape {}, got {}", t == &weight ? "weight" : "bias",
           shape_str(normalized_shape), shape_str(t->shape()));
    }
  }
  const int64_t n = shape_numel(normalized_shape);
  const Tensor w = weight.defined() ? weight.reshape({n}) : Tensor();
  const Tensor b = bias.defined() ? bias.reshape({n}) : Tensor();
  return detail::layer_norm_rows(x.reshape({-1, n}), w, b, eps).reshape(x.shape());
}

Tensor functional::batch_norm(const Tensor& x, const Tensor& running_mean,
                              const Tensor& running_var, const Tensor& weight, const Tensor& bias,
                              bool training, std::optional<double> momentum, double eps) {
  if (x.dim() < 2) fail("batch_norm: expected an input [N, C, …], got {}", shape_str(x.shape()));
  const int64_t channels = x.size(1);
  check_vector(running_mean, channels, "running_mean", "batch_norm");
  check_vector(running_var, channels, "running_var", "batch_norm");
  check_vector(weight, channels, "weight", "batch_norm");
  check_vector(bias, channels, "bias", "batch_norm");
  if (running_mean.defined() != running_var.defined()) {
    fail("batch_norm: running_mean and running_var must both be given or both be omitted");
  }
  if (!(training || !running_mean.defined())) {
    return detail::batch_norm_channels(x, {running_mean, running_var}, weight, bias, eps, nullptr);
  }
  if (x.numel() == 0) {
    // torch: an empty batch gives an empty output and leaves the running statistics alone.
    const detail::ChannelStats none{zeros({channels}, {.dtype = x.dtype()}),
                                    ones({channels}, {.dtype = x.dtype()})};
    return detail::batch_norm_channels(x, none, weight, bias, eps, nullptr);
  }
  const int64_t count = x.numel() / std::max<int64_t>(channels, 1);
  if (count <= 1) {
    fail("batch_norm: expected more than 1 value per channel when training, got input {}",
         shape_str(x.shape()));
  }
  detail::ChannelStats batch;
  Tensor y = detail::batch_norm_channels(x, {}, weight, bias, eps, &batch);
  if (training && running_mean.defined()) {
    // ATen's update: new = momentum·batch + (1 − momentum)·old, with the unbiased variance.
    NoGradGuard no_grad;
    const double m = momentum.value_or(1.0);
    const Tensor unbiased =
        batch.variance * (static_cast<double>(count) / static_cast<double>(count - 1));
    Tensor mean_out = running_mean, var_out = running_var;
    mean_out.copy_(m * batch.mean + (1 - m) * running_mean);
    var_out.copy_(m * unbiased + (1 - m) * running_var);
  }
  return y;
}

LayerNorm::LayerNorm(Shape normalized_shape, LayerNormOptions options)
    : normalized_shape_(std::move(normalized_shape)), eps_(options.eps) {
  for (int64_t size : normalized_shape_) {
    if (size <= 0)
      fail("LayerNorm: normalized_shape must be positive, got {}", shape_str(normalized_shape_));
  }
  if (normalized_shape_.empty()) fail("LayerNorm: normalized_shape must not be empty");
  if (!(options.eps > 0)) fail("LayerNorm: eps must be positive, got {}", options.eps);
  if (options.elementwise_affine) {
    weight = ones(normalized_shape_);
    bias = zeros(normalized_shape_);
  }
  register_parameter("weight", &LayerNorm::weight);
  register_parameter("bias", &LayerNorm::bias);
}

Tensor LayerNorm::forward(const Tensor& x) {
  require_input_dtype(x, "LayerNorm");
  try {
    return F::layer_norm(x, normalized_shape_, weight, bias, eps_);
  } catch (const Error& error) {
    fail("LayerNorm({}): {}", shape_str(normalized_shape_), error.what());
  }
}

BatchNorm::BatchNorm(int64_t num_features, BatchNormOptions options, const char* name)
    : name_(name), num_features_(num_features), options_(options) {
  if (num_features <= 0) fail("{}: num_features must be positive, got {}", name, num_features);
  if (!(options.eps > 0)) fail("{}: eps must be positive, got {}", name, options.eps);
  if (options.momentum && !(*options.momentum >= 0 && *options.momentum <= 1)) {
    fail("{}: momentum must be in [0, 1], got {}", name, *options.momentum);
  }
  if (options.affine) {
    weight = ones({num_features});
    bias = zeros({num_features});
  }
  register_parameter("weight", &BatchNorm::weight);
  register_parameter("bias", &BatchNorm::bias);
  if (options.track_running_stats) {
    running_mean = zeros({num_features});
    running_var = ones({num_features});
    num_batches_tracked = zeros({}, {.dtype = Dtype::Int64});
  }
  register_buffer("running_mean", &BatchNorm::running_mean);
  register_buffer("running_var", &BatchNorm::running_var);
  register_buffer("num_batches_tracked", &BatchNorm::num_batches_tracked);
}

Tensor BatchNorm::forward(const Tensor& x) {
  check_input(x);
  require_input_dtype(x, name_);
  if (x.size(1) != num_features_) {
    fail("{}: expected {} channels (dimension 1), got input {}", name_, num_features_,
         shape_str(x.shape()));
  }
  std::optional<double> momentum = options_.momentum;
  if (is_training() && num_batches_tracked.defined()) {
    NoGradGuard no_grad;
    num_batches_tracked.add_(1);
    // momentum=None: the cumulative average, 1/n for the n-th batch.
    if (!momentum) momentum = 1.0 / static_cast<double>(num_batches_tracked.item<int64_t>());
  }
  try {
    return F::batch_norm(x, running_mean, running_var, weight, bias, is_training(), momentum,
                         options_.eps);
  } catch (const Error& error) {
    fail("{}({}): {}", name_, num_features_, error.what());
  }
}

BatchNorm1d::BatchNorm1d(int64_t num_features, BatchNormOptions options)
    : BatchNorm(num_features, options, "BatchNorm1d") {}

void BatchNorm1d::check_input(const Tensor& x) const {
  if (x.dim() != 2 && x.dim() != 3) {
    fail("BatchNorm1d: expected input [N, {}] or [N, {}, L], got {}", num_features_, num_features_,
         shape_str(x.shape()));
  }
}

BatchNorm2d::BatchNorm2d(int64_t num_features, BatchNormOptions options)
    : BatchNorm(num_features, options, "BatchNorm2d") {}

void BatchNorm2d::check_input(const Tensor& x) const {
  if (x.dim() != 4) {
    fail("BatchNorm2d: expected input [N, {}, H, W], got {}", num_features_, shape_str(x.shape()));
  }
}

}  // namespace tg::nn
