#pragma once

// Layers without parameters that reshape or regularize: Identity, Flatten, Dropout.

#include <tapegrad/nn/module.hpp>

namespace tg::nn {

/// Returns its input.
class Identity : public Module {
 public:
  Tensor forward(const Tensor& x) override;
};

/// Merges dimensions start_dim … end_dim (by default all but the batch dimension).
class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1)
      : start_dim_(start_dim), end_dim_(end_dim) {}
  Tensor forward(const Tensor& x) override;
  /// The constructor's start_dim, as given (what an exporter reads).
  int64_t start_dim() const { return start_dim_; }
  /// The constructor's end_dim, as given (what an exporter reads).
  int64_t end_dim() const { return end_dim_; }

 private:
  int64_t start_dim_, end_dim_;
};

/// In training mode, zeroes each element with probability p and scales the rest by 1/(1 − p);
/// in evaluation mode, the identity.
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5);
  Tensor forward(const Tensor& x) override;
  /// The constructor's p, as given (what an exporter reads).
  double p() const { return p_; }

 private:
  double p_;
};

}  // namespace tg::nn
