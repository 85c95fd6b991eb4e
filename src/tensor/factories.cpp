// Factories: tensor, from_vector, empty, zeros, ones, full, randn, rand, arange.

#include <tapegrad/error.hpp>
#include <tapegrad/random.hpp>
#include <tapegrad/tensor.hpp>

#include "int64_range.hpp"
#include "ops/kernels.hpp"

#include <cmath>

namespace tg {
namespace {

// Fills a new tensor with value_at(i) converted to the requested dtype.
template <class F>
Tensor generate(Shape shape, const TensorOptions& options, F value_at) {
  Tensor t = make_tensor(std::move(shape), options.dtype);
  visit_dtype(options.dtype, [&]<class T>() {
    T* out = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) out[i] = static_cast<T>(value_at(i));
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

void require_random_dtype(const TensorOptions& options, const char* op) {
  if (!is_floating(options.dtype)) fail("{}: expected a floating dtype, got {}", op, options.dtype);
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
  if (options.dtype == Dtype::Int64) require_int64_value(value, "full");
  return generate(std::move(shape), options, [value](int64_t) { return value; });
}

Tensor randn(Shape shape, TensorOptions options) {
  require_random_dtype(options, "randn");
  Generator& generator = default_generator();
  return generate(std::move(shape), options, [&](int64_t) { return generator.normal(); });
}

Tensor rand(Shape shape, TensorOptions options) {
  require_random_dtype(options, "rand");
  Generator& generator = default_generator();
  return generate(std::move(shape), options, [&](int64_t) {
    // Rounding a double just below 1 to Float32 can give 1.0f; keep the interval half-open.
    const double u = generator.uniform();
    return options.dtype == Dtype::Float32 && static_cast<float>(u) >= 1.0f ? 0x1.fffffep-1 : u;
  });
}

Tensor arange(int64_t n, TensorOptions options) {
  if (n < 0) fail("arange: expected a non-negative length, got {}", n);
  return generate({n}, options, [](int64_t i) { return static_cast<double>(i); });
}

}  // namespace tg
