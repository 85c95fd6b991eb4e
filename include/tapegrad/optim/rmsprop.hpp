#pragma once

#include <tapegrad/optim/optimizer.hpp>

#include <vector>

namespace tg::optim {

/// Options of RMSProp. The first six are torch.optim.RMSprop's, with its defaults; the rest
/// select other frameworks' flavours (all off by default, i.e. PyTorch's behaviour).
struct RMSPropOptions {
  double lr = 0.01;
  double alpha = 0.99;  // decay of the moving average of g² (Keras/TF call it rho)
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum = 0;
  bool centered = false;
  bool eps_inside_sqrt = false;   // g/√(v+ε) (TensorFlow, Keras) instead of g/(√v+ε)
  double initial_square_avg = 0;  // v₀; TF1 and timm's RMSpropTF start at 1
  bool lr_in_momentum = false;    // buf ← μ·buf + lr·g/d, p ← p − buf (TensorFlow, Keras)
  bool clamp_variance = false;  // centered: √max(v − ḡ², 0) instead of NaN for tiny negatives

  /// PyTorch's torch.optim.RMSprop (the defaults).
  static RMSPropOptions pytorch(double lr = 0.01);
  /// Keras 3 keras.optimizers.RMSprop: rho 0.9, eps 1e-7 inside the root, lr in the momentum.
  static RMSPropOptions keras(double lr = 1e-3);
  /// TensorFlow 1 tf.train.RMSPropOptimizer (and timm's RMSpropTF): decay 0.9, eps 1e-10
  /// inside the root, v₀ = 1, lr in the momentum.
  static RMSPropOptions tf1(double lr = 0.01);
  /// Hinton's lecture 6e: MeanSquare ← 0.9·MeanSquare + 0.1·g², divide g by its root.
  static RMSPropOptions hinton(double lr = 0.01);

  static constexpr const char* kName = "RMSProp";
  void validate() const;
  bool operator==(const RMSPropOptions&) const = default;
  template <class F>
  void for_each_field(F&& f) {
    f("lr", lr);
    f("alpha", alpha);
    f("eps", eps);
    f("weight_decay", weight_decay);
    f("momentum", momentum);
    f("centered", centered);
    f("eps_inside_sqrt", eps_inside_sqrt);
    f("initial_square_avg", initial_square_avg);
    f("lr_in_momentum", lr_in_momentum);
    f("clamp_variance", clamp_variance);
  }
};

/// Per-parameter state of RMSProp.
struct RMSPropState : ParamState {
  Tensor square_avg;       // v: moving average of g²
  Tensor grad_avg;         // ḡ: moving average of g (centered only)
  Tensor momentum_buffer;  // (momentum > 0 only)
  void init(const Tensor& param, const RMSPropOptions& options);
  template <class F>
  void for_each_buffer(F&& f) {
    f("square_avg", square_avg);
    if (grad_avg.defined()) f("grad_avg", grad_avg);
    if (momentum_buffer.defined()) f("momentum_buffer", momentum_buffer);
  }
};

/// Percentiles of one parameter's effective per-element step size lr/(√v+ε).
struct StepSizeStats {
  size_t parameter;  // index in parameters()
  double min, p10, median, p90, max;
};

/// RMSProp: divides each gradient element by the root of a moving average of its squares.
class RMSProp : public OptimizerBase<RMSPropOptions, RMSPropState> {
 public:
  using OptimizerBase::OptimizerBase;
  /// Effective step sizes of every parameter that has been updated, for teaching and debugging.
  std::vector<StepSizeStats> stats() const;

 private:
  void update(const RMSPropOptions& o, RMSPropState& s, Tensor& param,
              const Tensor& grad) const override;
};

}  // namespace tg::optim
