#pragma once

#include <tapegrad/nn/module.hpp>

#include <string>

namespace tg::nn {

/// max(x, 0) elementwise.
class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
};

/// tanh(x) elementwise.
class Tanh : public Module {
 public:
  Tensor forward(const Tensor& x) override;
};

/// 1 / (1 + e⁻ˣ) elementwise.
class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor& x) override;
};

/// x where x > 0, else negative_slope·x.
class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double negative_slope = 0.01) : negative_slope_(negative_slope) {}
  Tensor forward(const Tensor& x) override;
  /// The constructor's negative_slope, as given (what an exporter reads).
  double negative_slope() const { return negative_slope_; }

 private:
  double negative_slope_;
};

/// x where x > 0, else alpha·(eˣ − 1).
class ELU : public Module {
 public:
  explicit ELU(double alpha = 1) : alpha_(alpha) {}
  Tensor forward(const Tensor& x) override;
  /// The constructor's alpha, as given (what an exporter reads).
  double alpha() const { return alpha_; }

 private:
  double alpha_;
};

/// x·Φ(x), exact ("none") or with the tanh approximation ("tanh").
class GELU : public Module {
 public:
  explicit GELU(std::string approximate = "none");
  Tensor forward(const Tensor& x) override;
  /// The constructor's approximate, as given (what an exporter reads).
  const std::string& approximate() const { return approximate_; }

 private:
  std::string approximate_;
};

/// x·σ(x).
class SiLU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
};

/// log(1 + e^(βx))/β, linear above the threshold.
class Softplus : public Module {
 public:
  explicit Softplus(double beta = 1, double threshold = 20) : beta_(beta), threshold_(threshold) {}
  Tensor forward(const Tensor& x) override;
  /// The constructor's beta, as given (what an exporter reads).
  double beta() const { return beta_; }
  /// The constructor's threshold, as given (what an exporter reads).
  double threshold() const { return threshold_; }

 private:
  double beta_, threshold_;
};

/// x limited to [min_val, max_val].
class Hardtanh : public Module {
 public:
  explicit Hardtanh(double min_val = -1, double max_val = 1);
  Tensor forward(const Tensor& x) override;
  /// The constructor's min_val, as given (what an exporter reads).
  double min_val() const { return min_val_; }
  /// The constructor's max_val, as given (what an exporter reads).
  double max_val() const { return max_val_; }

 private:
  double min_val_, max_val_;
};

/// x·tanh(softplus(x)).
class Mish : public Module {
 public:
  Tensor forward(const Tensor& x) override;
};

/// Softmax along dim.
class Softmax : public Module {
 public:
  explicit Softmax(int64_t dim) : dim_(dim) {}
  Tensor forward(const Tensor& x) override;
  /// The constructor's dim, as given (what an exporter reads).
  int64_t dim() const { return dim_; }

 private:
  int64_t dim_;
};

/// Log-softmax along dim.
class LogSoftmax : public Module {
 public:
  explicit LogSoftmax(int64_t dim) : dim_(dim) {}
  Tensor forward(const Tensor& x) override;
  /// The constructor's dim, as given (what an exporter reads).
  int64_t dim() const { return dim_; }

 private:
  int64_t dim_;
};

}  // namespace tg::nn
