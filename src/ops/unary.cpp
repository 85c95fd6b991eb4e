// Elementwise functions: forward kernel and backward rule side by side.

#include <tapegrad/autograd.hpp>
#include <tapegrad/ops.hpp>

#include "autograd/zero_derivative.hpp"
#include "int64_range.hpp"
#include "ops/inplace.hpp"
#include "ops/kernels.hpp"
#include "ops/vector_math.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <optional>
#include <type_traits>

namespace tg {

namespace {

// Float32 goes through whole-array kernels built for the CPU's vector width (same accuracy as
// libm's scalar functions); Float64, which exists for precise gradient checks, keeps libm.
Tensor map_float32_or(const Tensor& x, const char* op, void (*array)(const float*, float*, int64_t),
                      double (*scalar)(double)) {
  if (x.defined() && x.dtype() == Dtype::Float32) {
    Tensor y = make_tensor(x.shape(), x.dtype());
    const float* in = x.data<float>();
    float* out = y.data<float>();
    for_element_ranges(x.numel(), [&](int64_t begin, int64_t end) {
      array(in + begin, out + begin, end - begin);
    });
    return y;
  }
  return map_elements(x, op, [scalar](auto v) { return static_cast<decltype(v)>(scalar(v)); });
}

// Throws for a Bool x: sign, floor, round and clamp take Float32, Float64 and Int64 (the ops
// PyTorch also defines on integers).
void require_number(const Tensor& x, const char* op) {
  if (x.dtype() == Dtype::Bool) {
    fail("{}: expected a Float32, Float64 or Int64 tensor, got Bool of shape {}", op,
         shape_str(x.shape()));
  }
}

// y[i] = f(x[i]) for Float32, Float64 and Int64.
template <class F>
Tensor map_numbers(const Tensor& x, const char* op, F f) {
  require_number(x, op);
  return visit_dtype(x.dtype(), [&]<class T>() {
    Tensor y = make_tensor(x.shape(), x.dtype());
    if constexpr (!std::is_same_v<T, bool>) {
      const T* in = x.data<T>();
      T* out = y.data<T>();
      for (int64_t i = 0; i < x.numel(); ++i) out[i] = f(in[i]);
    }
    return y;
  });
}

// Records an op whose derivative is zero wherever it exists (sign, floor, round): the gradient
// is zeros of x's shape, as PyTorch's zeros_like(grad), so even a NaN gradient does not leak.
Tensor record_zero_gradient(const char* op, const Tensor& y, const Tensor& x) {
  return record(op, y, {x}, [shape = x.shape(), dtype = x.dtype()](const Tensor&) -> Grads {
    return {zeros(shape, {.dtype = dtype})};
  });
}

// A clamp bound as T: for Int64 it must be an integer in range (PyTorch would switch the result
// to Float32; tapegrad keeps dtypes and says so).
template <class T>
T clamp_bound(std::optional<double> bound, T fallback, const Tensor& x, const char* op) {
  if (!bound) return fallback;
  if constexpr (std::is_integral_v<T>) {
    if (*bound != std::trunc(*bound) || !detail::in_int64_range(*bound)) {
      fail("{}: the bound {} is not an Int64 value but the tensor {} is Int64", op, *bound,
           shape_str(x.shape()));
    }
  }
  return static_cast<T>(*bound);
}

// min(max(x, lo), hi) with PyTorch's CPU kernel's NaN rules: a NaN element stays NaN, and a NaN
// bound is ignored (std::max(v, NaN) is v).
Tensor clamp_values(const Tensor& x, std::optional<double> lo, std::optional<double> hi,
                    const char* op) {
  if (!lo && !hi) fail("{}: at least one of lo and hi must be given", op);
  require_number(x, op);
  Tensor y = make_tensor(x.shape(), x.dtype());
  visit_dtype(x.dtype(), [&]<class T>() {
    if constexpr (!std::is_same_v<T, bool>) {
      // A missing bound is ±∞ for floats (not ±max, which would clamp ±∞) and the range's end
      // for Int64.
      using Limits = std::numeric_limits<T>;
      const T none_below = Limits::has_infinity ? -Limits::infinity() : Limits::lowest();
      const T none_above = Limits::has_infinity ? Limits::infinity() : Limits::max();
      const T low = clamp_bound<T>(lo, none_below, x, op);
      const T high = clamp_bound<T>(hi, none_above, x, op);
      const T* in = x.data<T>();
      T* out = y.data<T>();
      for (int64_t i = 0; i < x.numel(); ++i) {
        if constexpr (std::is_floating_point_v<T>) {
          if (std::isnan(in[i])) {
            out[i] = in[i];
            continue;
          }
        }
        out[i] = std::min(std::max(in[i], low), high);
      }
    }
  });
  return y;
}

Tensor clamp_op(const Tensor& x, std::optional<double> lo, std::optional<double> hi,
                const char* op) {
  Tensor y = clamp_values(x, lo, hi, op);
  // d clamp/dx = 1 where lo ≤ x ≤ hi (bounds included, NaN excluded), else 0: PyTorch 1.13's
  // clamp_backward, where(x ≥ lo & x ≤ hi, grad, 0)
  return record("clamp", y, {x}, [x = SavedTensor(x), lo, hi](const Tensor& gy) -> Grads {
    const Tensor& input = x;
    Tensor inside;
    if (lo && hi) {
      inside = logical_and(ge(input, *lo), le(input, *hi));
    } else {
      inside = lo ? ge(input, *lo) : le(input, *hi);
    }
    return {where(inside, gy, 0.0)};
  });
}

}  // namespace

Tensor exp(const Tensor& x) {
  Tensor y = map_float32_or(x, "exp", vmath::exp_array, [](double v) { return std::exp(v); });
  // d exp(x)/dx = exp(x)
  return record("exp", y, {x},
                [y = SavedTensor::output(y)](const Tensor& gy) -> Grads { return {gy * y}; });
}

Tensor log(const Tensor& x) {
  Tensor y = map_elements(x, "log", [](auto v) { return std::log(v); });
  // d log(x)/dx = 1/x
  return record("log", y, {x},
                [x = SavedTensor(x)](const Tensor& gy) -> Grads { return {gy / x}; });
}

Tensor sqrt(const Tensor& x) {
  Tensor y = map_elements(x, "sqrt", [](auto v) { return std::sqrt(v); });
  // d √x/dx = 1/(2√x)
  return record("sqrt", y, {x}, [y = SavedTensor::output(y)](const Tensor& gy) -> Grads {
    return {gy / (2.0 * y)};
  });
}

Tensor abs(const Tensor& x) {
  Tensor y = map_elements(x, "abs", [](auto v) { return std::abs(v); });
  // d|x|/dx = sign(x), with sign(0) = 0 as in PyTorch
  return record("abs", y, {x}, [x = SavedTensor(x)](const Tensor& gy) -> Grads {
    if (creating_graph()) return {detail::tie_with_zero_derivative(gy * sign(x), x)};
    return {zip_elements(gy, x, "abs_backward",
                         [](auto g, auto v) { return v > 0 ? g : (v < 0 ? -g : decltype(g)(0)); })};
  });
}

Tensor relu(const Tensor& x) {
  // PyTorch's clamp_min(x, 0): NaN (and −0) pass through, so a diverging layer stays visible
  // to anomaly mode. `0 > v ? 0 : v` vectorizes to the same compare and mask as the NaN-hiding
  // `v > 0 ? v : 0` did.
  Tensor y =
      map_elements(x, "relu", [](auto v) { return decltype(v)(0) > v ? decltype(v)(0) : v; });
  // d relu(x)/dx = 0 where the output is ≤ 0, else 1, NaN included (PyTorch's threshold_backward)
  return record("relu", y, {x}, [y = SavedTensor::output(y)](const Tensor& gy) -> Grads {
    if (creating_graph()) {
      const Tensor& out = y;
      return {detail::tie_with_zero_derivative(masked_fill(gy, le(out, 0.0), 0.0), out)};
    }
    return {zip_elements(gy, y, "relu_backward",
                         [](auto g, auto out) { return out <= 0 ? decltype(g)(0) : g; })};
  });
}

Tensor sigmoid(const Tensor& x) {
  // Float32 through the vectorized kernel (a recurrent layer's gates spend their time here);
  // Float64 on the side where exp cannot overflow, as that kernel does.
  Tensor y = map_float32_or(x, "sigmoid", vmath::sigmoid_array, [](double v) {
    if (v >= 0) return 1 / (1 + std::exp(-v));
    const double e = std::exp(v);
    return e / (1 + e);
  });
  // d σ(x)/dx = σ(x)(1 − σ(x))
  return record("sigmoid", y, {x}, [saved = SavedTensor::output(y)](const Tensor& gy) -> Grads {
    const Tensor& y = saved;
    if (creating_graph()) return {gy * (1.0 - y) * y};
    return {zip_elements(gy, y, "sigmoid_backward",
                         [](auto g, auto out) { return g * (1 - out) * out; })};
  });
}

Tensor tanh(const Tensor& x) {
  Tensor y = map_float32_or(x, "tanh", vmath::tanh_array, [](double v) { return std::tanh(v); });
  // d tanh(x)/dx = 1 − tanh²(x)
  return record("tanh", y, {x}, [saved = SavedTensor::output(y)](const Tensor& gy) -> Grads {
    const Tensor& y = saved;
    if (creating_graph()) return {gy * (1.0 - y * y)};
    if (y.dtype() == Dtype::Float32 && gy.dtype() == Dtype::Float32 && gy.shape() == y.shape()) {
      Tensor gx = make_tensor(y.shape(), y.dtype());
      vmath::tanh_backward_array(gy.data<float>(), y.data<float>(), gx.data<float>(), y.numel());
      return {gx};
    }
    return {
        zip_elements(gy, y, "tanh_backward", [](auto g, auto out) { return g * (1 - out * out); })};
  });
}

Tensor pow(const Tensor& x, double p) {
  Tensor y = map_elements(x, "pow", [p](auto v) { return std::pow(v, decltype(v)(p)); });
  // d xᵖ/dx = p·xᵖ⁻¹ (and 0 for p = 0, as in PyTorch)
  return record("pow", y, {x}, [x = SavedTensor(x), p](const Tensor& gy) -> Grads {
    if (creating_graph()) return {p == 0 ? zeros_like(gy) : gy * (p * pow(x, p - 1))};
    return {zip_elements(gy, x, "pow_backward", [p](auto g, auto v) {
      using T = decltype(g);
      return p == 0 ? T(0) : g * (T(p) * std::pow(v, T(p - 1)));
    })};
  });
}

Tensor square(const Tensor& x) {
  Tensor y = map_elements(x, "square", [](auto v) { return v * v; });
  // d x²/dx = 2x
  return record("square", y, {x}, [x = SavedTensor(x)](const Tensor& gy) -> Grads {
    if (creating_graph()) return {gy * (2.0 * x)};
    return {zip_elements(gy, x, "square_backward", [](auto g, auto v) { return g * (2 * v); })};
  });
}

Tensor sin(const Tensor& x) {
  Tensor y = map_elements(x, "sin", [](auto v) { return std::sin(v); });
  // d sin(x)/dx = cos(x)
  return record("sin", y, {x},
                [x = SavedTensor(x)](const Tensor& gy) -> Grads { return {gy * cos(x)}; });
}

Tensor cos(const Tensor& x) {
  Tensor y = map_elements(x, "cos", [](auto v) { return std::cos(v); });
  // d cos(x)/dx = −sin(x)
  return record("cos", y, {x},
                [x = SavedTensor(x)](const Tensor& gy) -> Grads { return {gy * -sin(x)}; });
}

Tensor log1p(const Tensor& x) {
  Tensor y = map_elements(x, "log1p", [](auto v) { return std::log1p(v); });
  // d log(1 + x)/dx = 1/(1 + x), PyTorch's log1p_backward
  return record("log1p", y, {x},
                [x = SavedTensor(x)](const Tensor& gy) -> Grads { return {gy / (x + 1.0)}; });
}

Tensor expm1(const Tensor& x) {
  Tensor y = map_elements(x, "expm1", [](auto v) { return std::expm1(v); });
  // d (eˣ − 1)/dx = eˣ = y + 1, from the output as PyTorch does
  return record("expm1", y, {x}, [y = SavedTensor::output(y)](const Tensor& gy) -> Grads {
    return {gy * (y + 1.0)};
  });
}

Tensor erf(const Tensor& x) {
  Tensor y = map_elements(x, "erf", [](auto v) { return std::erf(v); });
  // d erf(x)/dx = 2/√π · exp(−x²)
  return record("erf", y, {x}, [x = SavedTensor(x)](const Tensor& gy) -> Grads {
    const Tensor& input = x;
    return {gy * (exp(-square(input)) * (2.0 / std::sqrt(std::numbers::pi)))};
  });
}

Tensor sign(const Tensor& x) {
  // (0 < v) − (v < 0), PyTorch's CPU kernel: sign(±0) = 0 and sign(NaN) = 0.
  Tensor y = map_numbers(x, "sign", [](auto v) {
    using T = decltype(v);
    return static_cast<T>(static_cast<int>(T(0) < v) - static_cast<int>(v < T(0)));
  });
  return record_zero_gradient("sign", y, x);
}

Tensor floor(const Tensor& x) {
  Tensor y = map_numbers(x, "floor", [](auto v) {
    if constexpr (std::is_floating_point_v<decltype(v)>) return std::floor(v);
    return v;  // an integer is its own floor
  });
  return record_zero_gradient("floor", y, x);
}

Tensor round(const Tensor& x) {
  // nearbyint in the default rounding mode rounds half to even, as torch.round (std::round
  // would round half away from zero).
  Tensor y = map_numbers(x, "round", [](auto v) {
    if constexpr (std::is_floating_point_v<decltype(v)>) return std::nearbyint(v);
    return v;
  });
  return record_zero_gradient("round", y, x);
}

Tensor clamp(const Tensor& x, std::optional<double> lo, std::optional<double> hi) {
  return clamp_op(x, lo, hi, "clamp");
}

Tensor& Tensor::clamp_(std::optional<double> lo, std::optional<double> hi) {
  detail::check_in_place(*this, "clamp_");
  // clamp's backward needs the values from before the write, so a recorded clamp_ clamps a copy
  // (PyTorch saves the original self likewise); the copy's node passes the gradient through.
  const Tensor source = is_grad_enabled() && requires_grad() ? clone() : *this;
  return detail::assign_in_place(*this, clamp_op(source, lo, hi, "clamp_"), "clamp_");
}

Tensor Tensor::sin() const { return tg::sin(*this); }
Tensor Tensor::cos() const { return tg::cos(*this); }
Tensor Tensor::log1p() const { return tg::log1p(*this); }
Tensor Tensor::expm1() const { return tg::expm1(*this); }
Tensor Tensor::erf() const { return tg::erf(*this); }
Tensor Tensor::sign() const { return tg::sign(*this); }
Tensor Tensor::floor() const { return tg::floor(*this); }
Tensor Tensor::round() const { return tg::round(*this); }
Tensor Tensor::clamp(std::optional<double> lo, std::optional<double> hi) const {
  return tg::clamp(*this, lo, hi);
}

}  // namespace tg
