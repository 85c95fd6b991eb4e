// + − × ÷ with NumPy broadcasting. Backward rules return full-shape gradients; the engine's
// sum_to reduces them to each input's shape.

#include <tapegrad/autograd.hpp>
#include <tapegrad/ops.hpp>

#include "int64_range.hpp"
#include "ops/kernels.hpp"

#include <cmath>
#include <cstdint>
#include <functional>
#include <type_traits>

namespace tg {
namespace {

template <class F>
Tensor elementwise(const Tensor& a, const Tensor& b, const char* op, bool integers_allowed, F f) {
  require_same_dtype(a, b, op);
  if (!integers_allowed) require_floating(a, op);
  const Shape out_shape = broadcast_shapes(a.shape(), b.shape(), op);
  return visit_dtype(a.dtype(),
                     [&]<class T>() { return broadcast_elements<T>(a, b, out_shape, f); });
}

// Int64 + − × wrap modulo 2⁶⁴, as PyTorch's do (torch.tensor([2**63 - 1]) + 1 is −2⁶³). They
// are computed in uint64_t, whose arithmetic is modular, because signed overflow is undefined
// behaviour; the conversion back is modular too (C++20). Floats use `op` as it is.
template <class Op>
auto wrapping(Op op) {
  return [op](auto x, auto z) {
    using T = decltype(x);
    if constexpr (std::is_integral_v<T>) {
      return static_cast<T>(op(static_cast<uint64_t>(x), static_cast<uint64_t>(z)));
    } else {
      return op(x, z);
    }
  };
}

// A scalar operand becomes a 0-d tensor of the other operand's dtype (PyTorch's rule).
Tensor scalar_like(double value, const Tensor& other, const char* op) {
  if (other.dtype() == Dtype::Int64 && value != std::trunc(value)) {
    fail("{}: the scalar {} is not an integer but the tensor {} is Int64", op, value,
         shape_str(other.shape()));
  }
  if (other.dtype() == Dtype::Int64 && !detail::in_int64_range(value)) {
    fail("{}: the scalar {} cannot be converted to Int64 without overflow (tensor {})", op, value,
         shape_str(other.shape()));
  }
  return scalar_tensor(value, other.dtype());
}

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor y = elementwise(a, b, "add", true, wrapping(std::plus<>()));
  return record("add", y, {a, b}, [](const Tensor& gy) -> Grads { return {gy, gy}; });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor y = elementwise(a, b, "sub", true, wrapping(std::minus<>()));
  return record("sub", y, {a, b}, [](const Tensor& gy) -> Grads { return {gy, -gy}; });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor y = elementwise(a, b, "mul", true, wrapping(std::multiplies<>()));
  return record(
      "mul", y, {a, b},
      [a = saved_for_backward(a, b.requires_grad()), b = saved_for_backward(b, a.requires_grad()),
       need_a = a.requires_grad(), need_b = b.requires_grad()](const Tensor& gy) -> Grads {
        return {need_a ? gy * b : Tensor(), need_b ? gy * a : Tensor()};
      });
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor y = elementwise(a, b, "div", false, [](auto x, auto z) { return x / z; });
  // d(a/b)/da = 1/b, d(a/b)/db = −a/b²
  return record(
      "div", y, {a, b},
      [a = saved_for_backward(a, b.requires_grad()), b = saved_for_backward(b),
       need_a = a.requires_grad(), need_b = b.requires_grad()](const Tensor& gy) -> Grads {
        return {need_a ? gy / b : Tensor(), need_b ? -gy * a / (b * b) : Tensor()};
      });
}

}  // namespace

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, double b) { return add(a, scalar_like(b, a, "add")); }
Tensor operator-(const Tensor& a, double b) { return sub(a, scalar_like(b, a, "sub")); }
Tensor operator*(const Tensor& a, double b) { return mul(a, scalar_like(b, a, "mul")); }
Tensor operator/(const Tensor& a, double b) { return div(a, scalar_like(b, a, "div")); }
Tensor operator+(double a, const Tensor& b) { return add(scalar_like(a, b, "add"), b); }
Tensor operator-(double a, const Tensor& b) { return sub(scalar_like(a, b, "sub"), b); }
Tensor operator*(double a, const Tensor& b) { return mul(scalar_like(a, b, "mul"), b); }
Tensor operator/(double a, const Tensor& b) { return div(scalar_like(a, b, "div"), b); }

Tensor operator-(const Tensor& x) {
  Tensor y = visit_dtype(x.dtype(), [&]<class T>() {
    Tensor out = make_tensor(x.shape(), x.dtype());
    const T* in = x.data<T>();
    T* o = out.data<T>();
    for (int64_t i = 0; i < x.numel(); ++i) {
      // −INT64_MIN wraps to itself, as in PyTorch (see wrapping); floats keep −0.
      if constexpr (std::is_integral_v<T>) {
        o[i] = static_cast<T>(-static_cast<uint64_t>(in[i]));
      } else {
        o[i] = -in[i];
      }
    }
    return out;
  });
  return record("neg", y, {x}, [](const Tensor& gy) -> Grads { return {-gy}; });
}

}  // namespace tg
