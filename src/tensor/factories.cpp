// Factories that draw nothing: tensor, from_vector, empty, zeros, ones, full, arange, linspace,
// eye and the *_like forms (the random ones live in draws.cpp).

#include <tapegrad/error.hpp>
#include <tapegrad/tensor.hpp>

#include "int64_range.hpp"
#include "ops/kernels.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>

namespace tg {
namespace {

// Fills a new tensor with value_at(i) converted to the requested dtype.
template <class F>
Tensor generate(Shape shape, const TensorOptions& options, F value_at) {
  Tensor t = make_tensor(std::move(shape), options.dtype);
  visit_dtype(options.dtype, [&]<class T>() {
    T* out = t.data<T>();
    const int64_t n = t.numel();  // once: the stores through out could alias a call's result
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(value_at(i));
  });
  if (options.requires_grad) t.set_requires_grad(true);
  return t;
}

void require_count(size_t values, const Shape& shape, const char* op) {
  if (static_cast<int64_t>(values) != shape_numel(shape)) {
    fail("{}: {} values do not fill shape {} ({} elements)", op, values, shape_str(shape),
         shape_numel(shape));
  }
}

// Throws unless `value` converts to Int64 exactly: a whole number in [−2⁶³, 2⁶³). Converting any
// other double is undefined behaviour (PyTorch: "value cannot be converted to type int64_t
// without overflow"); NaN is not a whole number.
void require_int64_value(double value, const char* op) {
  if (value != std::trunc(value)) {
    fail("{}: value {} is not an integer but the dtype is Int64", op, value);
  }
  if (!detail::in_int64_range(value)) {
    fail("{}: value {} cannot be converted to Int64 without overflow", op, value);
  }
}

// Marks a factory's result as requiring grad, naming the factory when its dtype cannot.
Tensor with_requires_grad(Tensor t, const TensorOptions& options, const char* op) {
  if (options.requires_grad && !is_floating(options.dtype)) {
    fail("{}: only Float32 and Float64 tensors can require grad, got {}", op, options.dtype);
  }
  if (options.requires_grad) t.set_requires_grad(true);
  return t;
}

Tensor full_named(Shape shape, double value, const TensorOptions& options, const char* op) {
  if (options.dtype == Dtype::Int64) require_int64_value(value, op);
  Tensor t = make_tensor(std::move(shape), options.dtype);
  visit_dtype(options.dtype, [&]<class T>() {
    std::fill_n(t.data<T>(), t.numel(), static_cast<T>(value));  // memset for zeros
  });
  if (options.requires_grad) t.set_requires_grad(true);
  return t;
}

// torch.linspace converts start and end to the dtype first; to Int64 by truncation.
template <class T>
T linspace_bound(double value, const char* name) {
  if constexpr (std::is_integral_v<T>) {
    if (!detail::in_int64_range(std::trunc(value))) {
      fail("linspace: {} {} cannot be converted to Int64 without overflow", name, value);
    }
  }
  return static_cast<T>(value);
}

// An interpolated value in T; an Int64 one that the rounding carried past 2⁶³ is an error, not UB.
template <class T, class Step>
T linspace_value(Step value) {
  if constexpr (std::is_integral_v<T>) {
    if (!detail::in_int64_range(value)) {
      fail("linspace: value {} cannot be converted to Int64 without overflow", value);
    }
  }
  return static_cast<T>(value);
}

// torch 1.13's linspace_kernel (aten/src/ATen/native/cpu/RangeFactoriesKernel.cpp) as its AVX2
// build runs it, so the values match bit for bit: step = (end − start) / (steps − 1); element i of
// the first half is start + step·i, of the second half end − step·(steps − 1 − i), each one fused
// multiply-add (GCC contracts them there). The vector loop fills pairs of 32-byte vectors (8
// floats, 4 doubles or int64s): lane k of the vector starting at b is value(b) + k·step, rounded
// twice, and the elements after the last whole pair come from the scalar formula. Integer dtypes
// step in double and truncate.
template <class T>
void fill_linspace(T* out, T start, T end, int64_t steps) {
  using Step = std::conditional_t<std::is_integral_v<T>, double, T>;
  constexpr int64_t lanes = 32 / sizeof(T);
  const Step step =
      (static_cast<Step>(end) - static_cast<Step>(start)) / static_cast<Step>(steps - 1);
  const int64_t halfway = steps / 2;
  const auto at = [&](int64_t i) {
    return linspace_value<T>(i < halfway ? std::fma(step, Step(i), Step(start))
                                         : std::fma(-step, Step(steps - 1 - i), Step(end)));
  };
  const int64_t vector_end = steps / (2 * lanes) * (2 * lanes);
  for (int64_t base = 0; base < vector_end; base += lanes) {
    const T first = at(base);
    for (int64_t k = 0; k < lanes; ++k) {
      out[base + k] = linspace_value<T>(static_cast<Step>(first) + static_cast<Step>(k) * step);
    }
  }
  for (int64_t i = vector_end; i < steps; ++i) out[i] = at(i);
}

}  // namespace

Tensor tensor(std::vector<double> values, Shape shape, TensorOptions options) {
  require_count(values.size(), shape, "tensor");
  if (options.dtype == Dtype::Int64) {
    for (double v : values) require_int64_value(v, "tensor");
  }
  return generate(std::move(shape), options, [&](int64_t i) { return values[i]; });
}

template <class T>
Tensor from_vector(std::vector<T> values, Shape shape) {
  require_count(values.size(), shape, "from_vector");
  Tensor t = make_tensor(std::move(shape), dtype_of<T>());
  std::copy(values.begin(), values.end(), t.data<T>());
  return t;
}

template Tensor from_vector<float>(std::vector<float>, Shape);
template Tensor from_vector<double>(std::vector<double>, Shape);
template Tensor from_vector<int64_t>(std::vector<int64_t>, Shape);

Tensor empty(Shape shape, TensorOptions options) {
  Tensor t = make_tensor(std::move(shape), options.dtype);
  if (options.requires_grad) t.set_requires_grad(true);
  return t;
}

Tensor zeros(Shape shape, TensorOptions options) { return full(std::move(shape), 0.0, options); }

Tensor ones(Shape shape, TensorOptions options) { return full(std::move(shape), 1.0, options); }

Tensor full(Shape shape, double value, TensorOptions options) {
  return full_named(std::move(shape), value, options, "full");
}

Tensor arange(int64_t n, TensorOptions options) {
  if (n < 0) fail("arange: expected a non-negative length, got {}", n);
  return generate({n}, options, [](int64_t i) { return static_cast<double>(i); });
}

Tensor linspace(double start, double end, int64_t steps, TensorOptions options) {
  if (steps < 0) fail("linspace: number of steps must be non-negative, got {}", steps);
  if (options.dtype == Dtype::Bool) fail("linspace: Bool tensors are not supported");
  Tensor t = make_tensor({steps}, options.dtype);
  visit_dtype(options.dtype, [&]<class T>() {
    if constexpr (!std::is_same_v<T, bool>) {
      const T first = linspace_bound<T>(start, "start");
      const T last = linspace_bound<T>(end, "end");
      if (steps == 1) t.data<T>()[0] = first;  // torch: result.fill_(start)
      if (steps > 1) fill_linspace(t.data<T>(), first, last, steps);
    }
  });
  return with_requires_grad(t, options, "linspace");
}

Tensor eye(int64_t n, TensorOptions options) {
  if (n < 0) fail("eye: n must be non-negative, got {}", n);
  // Element i of the flattened n × n matrix is on the diagonal when i is a multiple of n + 1.
  TensorOptions values = {.dtype = options.dtype};
  Tensor t = generate({n, n}, values, [n](int64_t i) { return i % (n + 1) == 0 ? 1.0 : 0.0; });
  return with_requires_grad(t, options, "eye");
}

// The *_like factories: x's shape, and x's dtype unless options are given; requires_grad comes
// from the options only (never from x), as in PyTorch.
namespace {

Tensor filled_like(const Tensor& x, double value, const TensorOptions& options, const char* op) {
  Tensor t = full_named(x.shape(), value, {.dtype = options.dtype}, op);
  return with_requires_grad(t, options, op);
}

}  // namespace

Tensor zeros_like(const Tensor& x) { return zeros_like(x, {.dtype = x.dtype()}); }
Tensor zeros_like(const Tensor& x, TensorOptions options) {
  return filled_like(x, 0.0, options, "zeros_like");
}
Tensor ones_like(const Tensor& x) { return ones_like(x, {.dtype = x.dtype()}); }
Tensor ones_like(const Tensor& x, TensorOptions options) {
  return filled_like(x, 1.0, options, "ones_like");
}
Tensor full_like(const Tensor& x, double value) {
  return full_like(x, value, {.dtype = x.dtype()});
}
Tensor full_like(const Tensor& x, double value, TensorOptions options) {
  return filled_like(x, value, options, "full_like");
}
Tensor empty_like(const Tensor& x) { return empty_like(x, {.dtype = x.dtype()}); }
Tensor empty_like(const Tensor& x, TensorOptions options) {
  return with_requires_grad(make_tensor(x.shape(), options.dtype), options, "empty_like");
}

}  // namespace tg
