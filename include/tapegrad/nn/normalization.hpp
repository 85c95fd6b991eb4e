#pragma once

// Normalization layers, as in torch.nn: LayerNorm (over each sample's trailing dimensions),
// BatchNorm1d/2d (over the batch, per channel, with running statistics for evaluation),
// GroupNorm (over groups of channels of each sample) and InstanceNorm1d/2d (over each channel
// of each sample).

#include <tapegrad/nn/module.hpp>

#include <optional>

namespace tg::nn {

/// Options of LayerNorm; defaults are PyTorch's.
struct LayerNormOptions {
  double eps = 1e-5;
  bool elementwise_affine = true;  ///< learn weight (ones) and bias (zeros) of normalized_shape
};

/// (x − mean) / √(var + eps) · weight + bias, the statistics over the last
/// normalized_shape.size() dimensions of each sample (biased variance).
class LayerNorm : public Module {
 public:
  explicit LayerNorm(Shape normalized_shape, LayerNormOptions options = {});
  Tensor forward(const Tensor& x) override;

  Tensor weight, bias;  ///< undefined without elementwise_affine
  /// The constructor's normalized_shape, as given (what an exporter reads).
  const Shape& normalized_shape() const { return normalized_shape_; }
  /// The constructor's eps, as given (what an exporter reads).
  double eps() const { return eps_; }

 private:
  Shape normalized_shape_;
  double eps_;
};

/// Options of BatchNorm1d/2d; defaults are PyTorch's.
struct BatchNormOptions {
  double eps = 1e-5;
  /// Weight of the new batch in the running statistics; nullopt: a cumulative average
  /// (PyTorch's momentum=None).
  std::optional<double> momentum = 0.1;
  bool affine = true;               ///< learn weight (ones) and bias (zeros) per channel
  bool track_running_stats = true;  ///< keep running_mean/running_var for evaluation
};

/// Normalizes each channel (dimension 1) over the batch and the other dimensions. Training:
/// the batch's mean and biased variance, and the running statistics move towards the batch's
/// mean and unbiased variance; evaluation: the running statistics (the batch's when
/// track_running_stats is false). Buffers running_mean (zeros), running_var (ones),
/// num_batches_tracked (Int64), under PyTorch's names.
class BatchNorm : public Module {
 public:
  Tensor forward(const Tensor& x) override;

  Tensor weight, bias;                                    ///< undefined without affine
  Tensor running_mean, running_var, num_batches_tracked;  ///< undefined without tracking
  /// The constructor's options, as given (what an exporter reads).
  const BatchNormOptions& options() const { return options_; }

 protected:
  BatchNorm(int64_t num_features, BatchNormOptions options, const char* name);
  /// Throws unless x has a shape this layer accepts.
  virtual void check_input(const Tensor& x) const = 0;
  const char* name_;
  int64_t num_features_;

 private:
  BatchNormOptions options_;
};

/// BatchNorm over [N, C] or [N, C, L].
class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(int64_t num_features, BatchNormOptions options = {});

 private:
  void check_input(const Tensor& x) const override;
};

/// BatchNorm over [N, C, H, W].
class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(int64_t num_features, BatchNormOptions options = {});

 private:
  void check_input(const Tensor& x) const override;
};

/// Options of GroupNorm; defaults are PyTorch's.
struct GroupNormOptions {
  double eps = 1e-5;
  bool affine = true;  ///< learn weight (ones) and bias (zeros) per channel
};

/// Normalizes each group of num_channels / num_groups consecutive channels of each sample over
/// its channels and positions, then scales and shifts per channel: the same in training and
/// evaluation. Input [N, C, …].
class GroupNorm : public Module {
 public:
  GroupNorm(int64_t num_groups, int64_t num_channels, GroupNormOptions options = {});
  Tensor forward(const Tensor& x) override;

  Tensor weight, bias;  ///< [C], undefined without affine
  int64_t num_groups, num_channels;
  GroupNormOptions options;
};

/// Options of InstanceNorm1d/2d; defaults are PyTorch's (no parameters, no running statistics).
struct InstanceNormOptions {
  double eps = 1e-5;
  double momentum = 0.1;             ///< weight of the new batch in the running statistics
  bool affine = false;               ///< learn weight (ones) and bias (zeros) per channel
  bool track_running_stats = false;  ///< keep running_mean/running_var for evaluation
};

/// Normalizes each channel of each sample over its positions. With track_running_stats, the
/// running statistics move (in training) towards the batch's average of each sample's mean and
/// unbiased variance, and evaluation uses them; without, both modes use the sample's. Buffers
/// running_mean, running_var, num_batches_tracked under PyTorch's names (the count is saved
/// but, as in torch, not advanced).
class InstanceNorm : public Module {
 public:
  Tensor forward(const Tensor& x) override;

  Tensor weight, bias;                                    ///< undefined without affine
  Tensor running_mean, running_var, num_batches_tracked;  ///< undefined without tracking
  const InstanceNormOptions& options() const { return options_; }

 protected:
  InstanceNorm(int64_t num_features, InstanceNormOptions options, const char* name,
               int64_t spatial_dims);
  const char* name_;
  int64_t num_features_, spatial_dims_;

 private:
  InstanceNormOptions options_;
};

/// InstanceNorm over [N, C, L] (or [C, L]).
class InstanceNorm1d : public InstanceNorm {
 public:
  explicit InstanceNorm1d(int64_t num_features, InstanceNormOptions options = {});
};

/// InstanceNorm over [N, C, H, W] (or [C, H, W]).
class InstanceNorm2d : public InstanceNorm {
 public:
  explicit InstanceNorm2d(int64_t num_features, InstanceNormOptions options = {});
};

}  // namespace tg::nn
