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

 private:
  double negative_slope_;
};

/// x where x > 0, else alpha·(eˣ − 1).
class ELU : public Module {
 public:
  explicit ELU(double alpha = 1) : alpha_(alpha) {}
  Tensor forward(const Tensor& x) override;

 private:
  double alpha_;
};

/// x·Φ(x), exact ("none") or with the tanh approximation ("tanh").
class GELU : public Module {
 public:
  explicit GELU(std::string approximate = "none");
  Tensor forward(const Tensor& x) override;

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

 private:
  double beta_, threshold_;
};

/// x limited to [min_val, max_val].
class Hardtanh : public Module {
 public:
  explicit Hardtanh(double min_val = -1, double max_val = 1);
  Tensor forward(const Tensor& x) override;

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

 private:
  int64_t dim_;
};

/// Log-softmax along dim.
class LogSoftmax : public Module {
 public:
  explicit LogSoftmax(int64_t dim) : dim_(dim) {}
  Tensor forward(const Tensor& x) override;

 private:
  int64_t dim_;
};

}  // namespace tg::nn
