// The activations of tg::nn::functional: forward kernel and backward rule side by side. The
// backward rules are fused elementwise loops over the saved input, one pass each; under
// create_graph the same slope is built from recorded ops instead. Formulas and conventions are
// ATen's (aten/src/ATen/native/cpu/Activation.cpp, 1.13).

#include <tapegrad/autograd.hpp>
#include <tapegrad/nn/functional.hpp>
#include <tapegrad/ops.hpp>
#include <tapegrad/random.hpp>

#include "autograd/zero_derivative.hpp"
#include "ops/kernels.hpp"

#include <cmath>
#include <numbers>

namespace tg::nn::functional {
namespace {

// An elementwise activation: y = value(x), dy/dx = slope(x), both computed in x's dtype;
// recorded_slope(x) is the same slope as a tensor of recorded ops, for create_graph.
template <class Value, class Slope, class RecordedSlope>
Tensor activation(const Tensor& x, const char* op, Value value, Slope slope,
                  RecordedSlope recorded_slope) {
  Tensor y = map_elements(x, op, value);
  return record(
      op, y, {x}, [x = SavedTensor(x), slope, recorded_slope, op](const Tensor& gy) -> Grads {
        if (creating_graph()) {
          const Tensor& input = x.get();
          const Tensor slope = recorded_slope(input);
          // A slope constant piecewise (leaky_relu, hardtanh) is off the tape: tied to x.
          if (slope.requires_grad()) return {gy * slope};
          return {tg::detail::tie_with_zero_derivative(gy * slope, input)};
        }
        return {zip_elements(gy, x, op, [slope](auto g, auto v) { return g * slope(v); })};
      });
}

// 1 where `condition`, else `otherwise`: a slope that is constant piecewise.
Tensor one_where(const Tensor& condition, const Tensor& otherwise) {
  return where(condition, ones_like(otherwise), otherwise);
}

constexpr double kBeta = std::numbers::sqrt2 * std::numbers::inv_sqrtpi;  // √(2/π)
constexpr double kKappa = 0.044715;  // GELU's tanh approximation (Hendrycks and Gimpel, 2016)

template <class T>
T normal_cdf(T v) {
  return T(0.5) * (T(1) + std::erf(v * T(std::numbers::sqrt2 / 2)));
}

}  // namespace

Tensor leaky_relu(const Tensor& x, double negative_slope) {
  return activation(
      x, "leaky_relu",
      [negative_slope](auto v) { return v > 0 ? v : v * decltype(v)(negative_slope); },
      [negative_slope](auto v) { return v > 0 ? decltype(v)(1) : decltype(v)(negative_slope); },
      [negative_slope](const Tensor& v) {
        return one_where(gt(v, 0.0), full_like(v, negative_slope));
      });
}

Tensor elu(const Tensor& x, double alpha) {
  // d/dx α(eˣ − 1) = αeˣ, used at x ≤ 0 (ATen's elu_backward on the input)
  return activation(
      x, "elu", [alpha](auto v) { return v > 0 ? v : decltype(v)(alpha) * std::expm1(v); },
      [alpha](auto v) { return v > 0 ? decltype(v)(1) : decltype(v)(alpha) * std::exp(v); },
      [alpha](const Tensor& v) { return one_where(gt(v, 0.0), alpha * exp(v)); });
}

Tensor gelu(const Tensor& x, std::string_view approximate) {
  if (approximate == "none") {
    // d/dx xΦ(x) = Φ(x) + x·φ(x), φ(x) = e^(−x²/2)/√(2π)
    return activation(
        x, "gelu", [](auto v) { return v * normal_cdf(v); },
        [](auto v) {
          using T = decltype(v);
          const T density =
              std::exp(T(-0.5) * v * v) * T(0.5 * std::numbers::inv_sqrtpi * std::numbers::sqrt2);
          return normal_cdf(v) + v * density;
        },
        [](const Tensor& v) {
          const Tensor cdf = 0.5 * (1.0 + erf(v * (std::numbers::sqrt2 / 2)));
          const Tensor density =
              exp(-0.5 * v * v) * (0.5 * std::numbers::inv_sqrtpi * std::numbers::sqrt2);
          return cdf + v * density;
        });
  }
  if (approximate == "tanh") {
    // u = √(2/π)(x + 0.044715x³): y = ½x(1 + tanh u),
    // dy/dx = ½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²)
    return activation(
        x, "gelu",
        [](auto v) {
          using T = decltype(v);
          return T(0.5) * v * (T(1) + std::tanh(T(kBeta) * (v + T(kKappa) * v * v * v)));
        },
        [](auto v) {
          using T = decltype(v);
          const T t = std::tanh(T(kBeta) * (v + T(kKappa) * v * v * v));
          const T du = T(kBeta) * (T(1) + T(3 * kKappa) * v * v);
          return T(0.5) * (T(1) + t) + T(0.5) * v * (T(1) - t * t) * du;
        },
        [](const Tensor& v) {
          const Tensor t = tg::tanh(kBeta * (v + kKappa * v * v * v));
          const Tensor du = kBeta * (1.0 + (3 * kKappa) * v * v);
          return 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * du;
        });
  }
  fail("gelu: approximate must be \"none\" or \"tanh\", got \"{}\"", approximate);
}

Tensor silu(const Tensor& x) {
  // d/dx xσ(x) = σ(x)(1 + x(1 − σ(x)))
  const auto logistic = [](auto v) { return decltype(v)(1) / (decltype(v)(1) + std::exp(-v)); };
  return activation(
      x, "silu", [logistic](auto v) { return v * logistic(v); },
      [logistic](auto v) {
        const auto s = logistic(v);
        return s * (decltype(v)(1) + v * (decltype(v)(1) - s));
      },
      [](const Tensor& v) {
        const Tensor s = tg::sigmoid(v);
        return s * (1.0 + v * (1.0 - s));
      });
}

Tensor softplus(const Tensor& x, double beta, double threshold) {
  // Above the threshold softplus is x (to rounding) and its slope 1; below, the slope is σ(βx).
  return activation(
      x, "softplus",
      [beta, threshold](auto v) {
        using T = decltype(v);
        return v * T(beta) > T(threshold) ? v : std::log1p(std::exp(v * T(beta))) / T(beta);
      },
      [beta, threshold](auto v) {
        using T = decltype(v);
        if (v * T(beta) > T(threshold)) return T(1);
        const T z = std::exp(v * T(beta));
        return z / (z + T(1));
      },
      [beta, threshold](const Tensor& v) {
        return one_where(gt(v * beta, threshold), tg::sigmoid(v * beta));
      });
}

Tensor hardtanh(const Tensor& x, double min_val, double max_val) {
  if (min_val > max_val) {
    fail("hardtanh: min_val {} is greater than max_val {}", min_val, max_val);
  }
  // The gradient is 0 at the bounds themselves (ATen's hardtanh_backward: x <= min || x >= max).
  return activation(
      x, "hardtanh",
      [min_val, max_val](auto v) {
        using T = decltype(v);
        return v < T(min_val) ? T(min_val) : (v > T(max_val) ? T(max_val) : v);
      },
      [min_val, max_val](auto v) {
        using T = decltype(v);
        return v <= T(min_val) || v >= T(max_val) ? T(0) : T(1);
      },
      [min_val, max_val](const Tensor& v) {
        return where(logical_or(le(v, min_val), ge(v, max_val)), zeros_like(v), ones_like(v));
      });
}

Tensor mish(const Tensor& x) {
  // d/dx x·tanh(sp(x)) = tanh(sp(x)) + x·σ(x)·(1 − tanh²(sp(x))), sp(x) = log(1 + eˣ)
  return activation(
      x, "mish", [](auto v) { return v * std::tanh(std::log1p(std::exp(v))); },
      [](auto v) {
        using T = decltype(v);
        const T t = std::tanh(std::log1p(std::exp(v)));
        const T s = T(1) / (T(1) + std::exp(-v));
        return t + v * s * (T(1) - t * t);
      },
      [](const Tensor& v) {
        const Tensor t = tg::tanh(log1p(exp(v)));
        return t + v * tg::sigmoid(v) * (1.0 - t * t);
      });
}

Tensor relu(const Tensor& x) { return tg::relu(x); }
Tensor tanh(const Tensor& x) { return tg::tanh(x); }
Tensor sigmoid(const Tensor& x) { return tg::sigmoid(x); }
Tensor softmax(const Tensor& x, int64_t dim) { return tg::softmax(x, dim); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return tg::log_softmax(x, dim); }

Tensor dropout(const Tensor& x, double p, bool training) {
  if (!(p >= 0 && p <= 1)) fail("dropout: p must be in [0, 1], got {}", p);
  if (!training || p == 0) return x;
  require_floating(x, "dropout");
  if (p == 1) return x * 0.0;  // PyTorch: all zeros, gradient zero
  // y = x·m/(1 − p) with m ~ Bernoulli(1 − p); the scaled mask is a constant of the tape.
  Tensor mask = make_tensor(x.shape(), x.dtype());
  visit_floating(x, "dropout", [&]<class T>() {
    T* m = mask.data<T>();
    Generator& generator = default_generator();
    const T keep = static_cast<T>(1 / (1 - p));
    for (int64_t i = 0; i < mask.numel(); ++i) m[i] = generator.uniform() >= p ? keep : T(0);
  });
  return x * mask;
}

Tensor one_hot(const Tensor& index, int64_t num_classes) {
  if (index.dtype() != Dtype::Int64) {
    fail("one_hot: expected an Int64 index tensor, got {} {}", index.dtype(),
         shape_str(index.shape()));
  }
  const int64_t* in = index.data<int64_t>();
  int64_t largest = -1;
  for (int64_t i = 0; i < index.numel(); ++i) {
    if (in[i] < 0) fail("one_hot: index {} at position {} is negative", in[i], i);
    largest = std::max(largest, in[i]);
  }
  if (num_classes == -1) {
    if (index.numel() == 0) fail("one_hot: cannot infer num_classes from an empty tensor");
    num_classes = largest + 1;
  }
  if (num_classes < 0 || largest >= num_classes) {
    fail("one_hot: index {} is out of range for num_classes {}", largest, num_classes);
  }
  Shape shape = index.shape();
  shape.push_back(num_classes);
  Tensor out = zeros(shape, {.dtype = Dtype::Int64});
  int64_t* o = out.data<int64_t>();
  for (int64_t i = 0; i < index.numel(); ++i) o[i * num_classes + in[i]] = 1;
  return out;
}

}  // namespace tg::nn::functional
