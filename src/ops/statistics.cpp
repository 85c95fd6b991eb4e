// Statistics over all elements or along a dim: var, std, norm, logsumexp. Each forward is built
// from the reductions (with recording off) and records one node whose backward follows
// PyTorch 1.13's formula (tools/autograd/templates/FunctionsManual.cpp), built from
// differentiable ops.

#include <tapegrad/autograd.hpp>
#include <tapegrad/ops.hpp>

#include "ops/kernels.hpp"
#include "ops/lines.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tg {
namespace {

// A reduction's result or gradient reshaped to keep the reduced dim, so it broadcasts against x.
Tensor keep_dim(const Tensor& reduced, const Shape& kept) {
  return reduced.shape() == kept ? reduced : reduced.reshape(kept);
}

int64_t extent_along(const Tensor& x, int64_t dim) { return x.dim() == 0 ? 1 : x.size(dim); }

// +inf where t is 0, else 0: `g / (t + inf_where_zero(t))` is g / t with 0 where t = 0, the
// masked_fill(t == 0, 0) of PyTorch's std and norm backwards, written with differentiable ops
// (the offset is a constant: where it is inf, d(g / ∞)/dt is 0).
Tensor inf_where_zero(const Tensor& t) {
  return map_elements(t, "inf_where_zero", [](auto v) {
    return v == 0 ? std::numeric_limits<decltype(v)>::infinity() : decltype(v)(0);
  });
}

// (x − mean) over dim, the centred values var and its backward both need.
Tensor centred(const Tensor& x, int64_t dim) { return x - mean(x, dim, true); }

// The variance along a normalized dim and its backward; std's backward feeds it gy / 2σ.
// var = Σ(x − x̄)² / max(0, N − correction), PyTorch's forward (inf or NaN when correction ≥ N);
// dvar/dx = 2 (x − x̄) / (N − correction), PyTorch's var_backward with the unclamped divisor (at
// N − correction = 0 torch 1.13 throws instead; this gives ±inf, or NaN where x = x̄).
Tensor var_forward(const Tensor& x, int64_t dim, bool keepdim, int64_t correction) {
  const Tensor c = centred(x, dim);
  const double dof = std::max<double>(0, static_cast<double>(extent_along(x, dim) - correction));
  return sum(c * c, dim, keepdim) / dof;
}

Tensor var_backward(const Tensor& gy_kept, const Tensor& x, int64_t dim, int64_t correction) {
  const double dof = static_cast<double>(extent_along(x, dim) - correction);
  return (2.0 / dof) * gy_kept * centred(x, dim);
}

Tensor var_along(const Tensor& x, int64_t dim, bool keepdim, int64_t correction) {
  require_floating(x, "var");
  dim = normalize_dim(dim, x.dim(), "var");
  Tensor y;
  {
    NoGradGuard no_grad;
    y = var_forward(x, dim, keepdim, correction);
  }
  return record("var", y, {x},
                [x = SavedTensor(x), dim, correction,
                 kept = keepdim_shape(x.shape(), dim)](const Tensor& gy) -> Grads {
                  return {var_backward(keep_dim(gy, kept), x, dim, correction)};
                });
}

// dσ/dx = dvar/dx / 2σ, and 0 where σ = 0 (PyTorch's std_backward masks it).
Tensor std_along(const Tensor& x, int64_t dim, bool keepdim, int64_t correction) {
  require_floating(x, "std");
  dim = normalize_dim(dim, x.dim(), "std");
  Tensor y;
  {
    NoGradGuard no_grad;
    y = sqrt(var_forward(x, dim, keepdim, correction));
  }
  return record("std", y, {x},
                [x = SavedTensor(x), y = SavedTensor::output(y), dim, correction,
                 kept = keepdim_shape(x.shape(), dim)](const Tensor& gy) -> Grads {
                  const Tensor sigma = keep_dim(y, kept);
                  const Tensor g = keep_dim(gy, kept) / (2.0 * (sigma + inf_where_zero(sigma)));
                  return {var_backward(g, x, dim, correction)};
                });
}

// max |x| (p = inf) or min |x| (p = −inf) along dim; 0 over an empty dim, as torch.norm.
Tensor extreme_abs(const Tensor& x, double p, int64_t dim, bool keepdim) {
  if (extent_along(x, dim) == 0) return sum(x, dim, keepdim);
  const Tensor a = abs(x);
  return (p > 0 ? max(a, dim, keepdim) : min(a, dim, keepdim)).values;
}

// The p-norm along a normalized dim: (Σ|x|ᵖ)^(1/p), max/min |x| for ±inf, the nonzero count for 0.
Tensor norm_forward(const Tensor& x, double p, int64_t dim, bool keepdim) {
  if (std::isinf(p)) return extreme_abs(x, p, dim, keepdim);
  if (p == 0)
    return sum(map_elements(x, "norm", [](auto v) { return decltype(v)(v != 0); }), dim, keepdim);
  if (p == 1) return sum(abs(x), dim, keepdim);
  if (p == 2) return sqrt(sum(x * x, dim, keepdim));
  return pow(sum(pow(abs(x), p), dim, keepdim), 1 / p);
}

// PyTorch 1.13's norm_backward, with n the norm kept along dim and g = gy kept along dim:
// p = 1: sgn(x)·g; p = 2: x·g/n; p = ±inf: sgn(x)·g shared among the elements with |x| = n;
// p < 1: sgn(x)|x|^(p−1)·g·n^(1−p) with 0 at x = 0; 1 < p < 2: sgn(x)|x|^(p−1)·g/n^(p−1);
// p > 2: x|x|^(p−2)·g/n^(p−1); and 0 wherever n = 0 for p > 1.
Tensor norm_backward(const Tensor& g, const Tensor& x, const Tensor& n, double p, int64_t dim) {
  if (p == 1) return sign(x) * g;
  const Tensor n_safe = n + inf_where_zero(n);
  if (p == 2) return x * (g / n_safe);
  if (std::isinf(p)) {
    // The elements equal to the norm (and the NaNs when it is NaN), each with 1 / their count.
    const Tensor share = zip_elements(
        abs(x), broadcast_to(n, x.shape()), "norm_backward",
        [](auto v, auto m) { return decltype(v)(v == m || (std::isnan(v) && m != m)); });
    return sign(x) * g * (share / sum(share, dim, true));
  }
  const Tensor a = abs(x);
  if (p < 1) return sign(x) * pow(a + inf_where_zero(a), p - 1) * g * pow(n, 1 - p);
  const Tensor scaled = p < 2 ? sign(x) * pow(a, p - 1) : x * pow(a, p - 2);
  return scaled * (g / pow(n_safe, p - 1));
}

Tensor norm_along(const Tensor& x, double p, int64_t dim, bool keepdim) {
  require_floating(x, "norm");
  if (std::isnan(p)) fail("norm: p is NaN");
  dim = normalize_dim(dim, x.dim(), "norm");
  Tensor y;
  {
    NoGradGuard no_grad;
    y = norm_forward(x, p, dim, keepdim);
  }
  return record("norm", y, {x},
                [x = SavedTensor(x), y = SavedTensor::output(y), p, dim,
                 kept = keepdim_shape(x.shape(), dim)](const Tensor& gy) -> Grads {
                  if (p == 0) return {Tensor()};  // a count: no gradient, as in PyTorch
                  return {norm_backward(keep_dim(gy, kept), x, keep_dim(y, kept), p, dim)};
                });
}

// x flattened to one dim, for the reductions over all elements.
Tensor flat(const Tensor& x) { return x.reshape({-1}); }

}  // namespace

Tensor var(const Tensor& x) { return var_along(flat(x), 0, false, 1); }

Tensor var(const Tensor& x, int64_t dim, bool keepdim, int64_t correction) {
  return var_along(x, dim, keepdim, correction);
}

Tensor std(const Tensor& x) { return std_along(flat(x), 0, false, 1); }

Tensor std(const Tensor& x, int64_t dim, bool keepdim, int64_t correction) {
  return std_along(x, dim, keepdim, correction);
}

Tensor norm(const Tensor& x, double p) { return norm_along(flat(x), p, 0, false); }

Tensor norm(const Tensor& x, double p, int64_t dim, bool keepdim) {
  return norm_along(x, p, dim, keepdim);
}

// log Σ exp(x − m) + m with m the maximum along dim, or 0 where that is ±inf (so an all −inf line
// gives −inf and a line holding +inf gives +inf, as PyTorch's logsumexp). Integer inputs are
// converted to Float32, as torch does. d/dx = gy·exp(x − y).
Tensor logsumexp(const Tensor& x_in, int64_t dim, bool keepdim) {
  const Tensor x = is_floating(x_in.dtype()) ? x_in : x_in.to(Dtype::Float32);
  dim = normalize_dim(dim, x.dim(), "logsumexp");
  const Shape kept = keepdim_shape(x.shape(), dim);
  Tensor y;
  {
    NoGradGuard no_grad;
    Tensor shift = zeros(kept, {.dtype = x.dtype()});
    if (extent_along(x, dim) > 0) {
      shift = map_elements(max(x, dim, true).values, "logsumexp",
                           [](auto m) { return std::isinf(m) ? decltype(m)(0) : m; });
    }
    const Tensor total = sum(exp(x - shift), dim, keepdim);
    y = log(total) + shift.reshape(total.shape());
  }
  return record("logsumexp", y, {x},
                [x = SavedTensor(x), y = SavedTensor::output(y), kept](const Tensor& gy) -> Grads {
                  const Tensor& input = x;
                  return {keep_dim(gy, kept) * exp(input - keep_dim(y, kept))};
                });
}

Tensor Tensor::var() const { return tg::var(*this); }
Tensor Tensor::var(int64_t dim, bool keepdim, int64_t correction) const {
  return tg::var(*this, dim, keepdim, correction);
}
Tensor Tensor::std() const { return tg::std(*this); }
Tensor Tensor::std(int64_t dim, bool keepdim, int64_t correction) const {
  return tg::std(*this, dim, keepdim, correction);
}
Tensor Tensor::norm(double p) const { return tg::norm(*this, p); }
Tensor Tensor::norm(double p, int64_t dim, bool keepdim) const {
  return tg::norm(*this, p, dim, keepdim);
}
Tensor Tensor::logsumexp(int64_t dim, bool keepdim) const {
  return tg::logsumexp(*this, dim, keepdim);
}

}  // namespace tg
