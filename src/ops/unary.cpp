// Elementwise functions: forward kernel and backward rule side by side.

#include <tapegrad/autograd.hpp>
#include <tapegrad/ops.hpp>

#include "ops/kernels.hpp"
#include "ops/vector_math.hpp"

#include <cmath>

namespace tg {

namespace {

// Float32 goes through whole-array kernels built for the CPU's vector width (same accuracy as
// libm's scalar functions); Float64, which exists for precise gradient checks, keeps libm.
Tensor map_float32_or(const Tensor& x, const char* op, void (*array)(const float*, float*, int64_t),
                      double (*scalar)(double)) {
  if (x.defined() && x.dtype() == Dtype::Float32) {
    Tensor y = make_tensor(x.shape(), x.dtype());
    array(x.data<float>(), y.data<float>(), x.numel());
    return y;
  }
  return map_elements(x, op, [scalar](auto v) { return static_cast<decltype(v)>(scalar(v)); });
}

}  // namespace

Tensor exp(const Tensor& x) {
  Tensor y = map_float32_or(x, "exp", vmath::exp_array, [](double v) { return std::exp(v); });
  // d exp(x)/dx = exp(x)
  return record("exp", y, {x}, [y = SavedTensor(y)](const Tensor& gy) -> Grads { return {gy * y}; });
}

Tensor log(const Tensor& x) {
  Tensor y = map_elements(x, "log", [](auto v) { return std::log(v); });
  // d log(x)/dx = 1/x
  return record("log", y, {x}, [x = SavedTensor(x)](const Tensor& gy) -> Grads { return {gy / x}; });
}

Tensor sqrt(const Tensor& x) {
  Tensor y = map_elements(x, "sqrt", [](auto v) { return std::sqrt(v); });
  // d √x/dx = 1/(2√x)
  return record("sqrt", y, {x},
                [y = SavedTensor(y)](const Tensor& gy) -> Grads { return {gy / (2.0 * y)}; });
}

Tensor abs(const Tensor& x) {
  Tensor y = map_elements(x, "abs", [](auto v) { return std::abs(v); });
  // d|x|/dx = sign(x), with sign(0) = 0 as in PyTorch
  return record("abs", y, {x}, [x = SavedTensor(x)](const Tensor& gy) -> Grads {
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
  return record("relu", y, {x}, [y = SavedTensor(y)](const Tensor& gy) -> Grads {
    return {zip_elements(gy, y, "relu_backward",
                         [](auto g, auto out) { return out <= 0 ? decltype(g)(0) : g; })};
  });
}

Tensor sigmoid(const Tensor& x) {
  Tensor y = map_elements(x, "sigmoid", [](auto v) {
    using T = decltype(v);
    // Evaluate on the side where exp cannot overflow.
    if (v >= 0) return T(1) / (T(1) + std::exp(-v));
    const T e = std::exp(v);
    return e / (T(1) + e);
  });
  // d σ(x)/dx = σ(x)(1 − σ(x))
  return record("sigmoid", y, {x}, [y = SavedTensor(y)](const Tensor& gy) -> Grads {
    return {zip_elements(gy, y, "sigmoid_backward",
                         [](auto g, auto out) { return g * (1 - out) * out; })};
  });
}

Tensor tanh(const Tensor& x) {
  Tensor y = map_float32_or(x, "tanh", vmath::tanh_array, [](double v) { return std::tanh(v); });
  // d tanh(x)/dx = 1 − tanh²(x)
  return record("tanh", y, {x}, [saved = SavedTensor(y)](const Tensor& gy) -> Grads {
    const Tensor& y = saved;
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
    return {zip_elements(gy, x, "square_backward", [](auto g, auto v) { return g * (2 * v); })};
  });
}

}  // namespace tg
