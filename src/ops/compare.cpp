// Comparisons, logical ops and masks (Bool results, never recorded), and the ops that select
// elementwise by a condition: where, masked_fill, minimum, maximum (differentiable).

#include <tapegrad/autograd.hpp>
#include <tapegrad/ops.hpp>

#include "int64_range.hpp"
#include "ops/inplace.hpp"
#include "ops/kernels.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <tuple>
#include <type_traits>

namespace tg {
namespace {

// Calls body(i, j_0, …, j_{K−1}) for every element i of the broadcast shape `out`, where j_k is
// the element of input k (of shape in[k]) that NumPy broadcasting pairs with it.
template <size_t K, class F>
void for_each_broadcast(const Shape& out, const std::array<Shape, K>& in, F body) {
  std::array<std::vector<int64_t>, K> strides;
  std::array<int64_t, K> step{};
  for (size_t k = 0; k < K; ++k) {
    strides[k] = broadcast_strides(in[k], out);
    step[k] = out.empty() ? 0 : strides[k].back();
  }
  const int64_t inner = out.empty() ? 1 : out.back();
  for_each_row(out, strides, [&](int64_t r, const std::array<int64_t, K>& start) {
    std::array<int64_t, K> at = start;
    for (int64_t j = 0; j < inner; ++j) {
      std::apply([&](auto... element) { body(r * inner + j, element...); }, at);
      for (size_t k = 0; k < K; ++k) at[k] += step[k];
    }
  });
}

// Bool < Int64 < Float32 < Float64, the order in which PyTorch promotes.
int promotion_rank(Dtype dtype) {
  switch (dtype) {
    case Dtype::Bool:
      return 0;
    case Dtype::Int64:
      return 1;
    case Dtype::Float32:
      return 2;
    case Dtype::Float64:
      return 3;
  }
  return 3;
}

int category(Dtype dtype) { return is_floating(dtype) ? 2 : promotion_rank(dtype); }

// torch.result_type of two tensors: the wider dtype, except that a 0-d operand beside a
// dimensioned one only counts when its category (bool, integer, floating) is higher.
Dtype result_dtype(const Tensor& a, const Tensor& b) {
  if (a.dtype() == b.dtype()) return a.dtype();
  if ((a.dim() == 0) != (b.dim() == 0)) {
    const Tensor& dimensioned = a.dim() == 0 ? b : a;
    const Tensor& zero_d = a.dim() == 0 ? a : b;
    return category(zero_d.dtype()) > category(dimensioned.dtype()) ? zero_d.dtype()
                                                                    : dimensioned.dtype();
  }
  return promotion_rank(a.dtype()) > promotion_rank(b.dtype()) ? a.dtype() : b.dtype();
}

// A number compared with x, as PyTorch wraps a Python scalar: x's dtype unless the number's
// category is higher (an integer beside Bool becomes Int64, a fraction beside Bool or Int64
// becomes Float32, torch's default dtype).
Tensor scalar_operand(double value, const Tensor& x) {
  if (is_floating(x.dtype())) return scalar_tensor(value, x.dtype());
  if (value == std::trunc(value) && detail::in_int64_range(value)) {
    return scalar_tensor(value, Dtype::Int64);
  }
  return scalar_tensor(value, Dtype::Float32);
}

// out[i] = f(a[i], b[i]) as Bool, with a and b broadcast and promoted to a common dtype.
template <class F>
Tensor compare(const Tensor& a, const Tensor& b, const char* op, F f) {
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), op);
  const Dtype common = result_dtype(a, b);
  const Tensor x = a.detach().to(common);
  const Tensor y = b.detach().to(common);
  Tensor out = make_tensor(shape, Dtype::Bool);
  bool* o = out.data<bool>();
  visit_dtype(common, [&]<class T>() {
    const T* px = x.data<T>();
    const T* py = y.data<T>();
    for_each_broadcast<2>(shape, {x.shape(), y.shape()},
                          [&](int64_t i, int64_t ix, int64_t iy) { o[i] = f(px[ix], py[iy]); });
  });
  return out;
}

// x as Bool: nonzero is true (NaN too, as in PyTorch).
Tensor truth(const Tensor& x) {
  if (x.dtype() == Dtype::Bool) return x;
  Tensor out = make_tensor(x.shape(), Dtype::Bool);
  bool* o = out.data<bool>();
  visit_dtype(x.dtype(), [&]<class T>() {
    const T* in = x.data<T>();
    for (int64_t i = 0; i < x.numel(); ++i) o[i] = in[i] != T(0);
  });
  return out;
}

void require_bool(const Tensor& t, const char* op, const char* what) {
  if (t.dtype() != Dtype::Bool) {
    fail("{}: expected a Bool {}, got {} of shape {}", op, what, t.dtype(), shape_str(t.shape()));
  }
}

}  // namespace

Tensor eq(const Tensor& a, const Tensor& b) { return compare(a, b, "eq", std::equal_to<>()); }
Tensor ne(const Tensor& a, const Tensor& b) { return compare(a, b, "ne", std::not_equal_to<>()); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare(a, b, "lt", std::less<>()); }
Tensor le(const Tensor& a, const Tensor& b) { return compare(a, b, "le", std::less_equal<>()); }
Tensor gt(const Tensor& a, const Tensor& b) { return compare(a, b, "gt", std::greater<>()); }
Tensor ge(const Tensor& a, const Tensor& b) { return compare(a, b, "ge", std::greater_equal<>()); }
Tensor eq(const Tensor& a, double b) { return eq(a, scalar_operand(b, a)); }
Tensor ne(const Tensor& a, double b) { return ne(a, scalar_operand(b, a)); }
Tensor lt(const Tensor& a, double b) { return lt(a, scalar_operand(b, a)); }
Tensor le(const Tensor& a, double b) { return le(a, scalar_operand(b, a)); }
Tensor gt(const Tensor& a, double b) { return gt(a, scalar_operand(b, a)); }
Tensor ge(const Tensor& a, double b) { return ge(a, scalar_operand(b, a)); }

Tensor logical_and(const Tensor& a, const Tensor& b) {
  return compare(truth(a), truth(b), "logical_and", std::logical_and<>());
}
Tensor logical_or(const Tensor& a, const Tensor& b) {
  return compare(truth(a), truth(b), "logical_or", std::logical_or<>());
}
Tensor logical_not(const Tensor& x) {
  Tensor out = truth(x).clone();  // a copy even for Bool x, which truth returns as it is
  bool* o = out.data<bool>();
  for (int64_t i = 0; i < out.numel(); ++i) o[i] = !o[i];
  return out;
}

Tensor any(const Tensor& x) {
  const Tensor t = truth(x);
  const bool* p = t.data<bool>();
  return scalar_tensor(std::any_of(p, p + t.numel(), std::identity()), Dtype::Bool);
}

Tensor all(const Tensor& x) {
  const Tensor t = truth(x);
  const bool* p = t.data<bool>();
  return scalar_tensor(std::all_of(p, p + t.numel(), std::identity()), Dtype::Bool);
}

namespace {

// The shape where() gives: condition, a and b broadcast together.
Shape where_shape(const Tensor& condition, const Tensor& a, const Tensor& b) {
  try {
    return broadcast_shapes(broadcast_shapes(condition.shape(), a.shape(), "where"), b.shape(),
                            "where");
  } catch (const Error&) {
    fail("where: shapes cannot be broadcast together: condition {}, a {}, b {}",
         shape_str(condition.shape()), shape_str(a.shape()), shape_str(b.shape()));
  }
}

Tensor select_elements(const Tensor& condition, const Tensor& a, const Tensor& b,
                       const Shape& shape) {
  Tensor out = make_tensor(shape, a.dtype());
  const bool* c = condition.data<bool>();
  visit_dtype(a.dtype(), [&]<class T>() {
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* o = out.data<T>();
    for_each_broadcast<3>(
        shape, {condition.shape(), a.shape(), b.shape()},
        [&](int64_t i, int64_t ic, int64_t ia, int64_t ib) { o[i] = c[ic] ? pa[ia] : pb[ib]; });
  });
  return out;
}

}  // namespace

Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b) {
  require_bool(condition, "where", "condition");
  require_same_dtype(a, b, "where");
  Tensor y = select_elements(condition, a, b, where_shape(condition, a, b));
  // The gradient goes to a where the condition holds and to b elsewhere (zeros in between);
  // the engine's sum_to reduces each to its input's shape.
  return record(
      "where", y, {a, b},
      [condition = SavedTensor(condition), need_a = a.requires_grad(),
       need_b = b.requires_grad()](const Tensor& gy) -> Grads {
        const Tensor& c = condition;
        const Tensor zero = scalar_tensor(0, gy.dtype());
        return {need_a ? where(c, gy, zero) : Tensor(), need_b ? where(c, zero, gy) : Tensor()};
      });
}

Tensor where(const Tensor& condition, const Tensor& a, double b) {
  // b takes a's dtype (PyTorch would promote an Int64 a to Float32 for a fraction).
  if (!is_floating(a.dtype()) && (b != std::trunc(b) || !detail::in_int64_range(b) ||
                                  (a.dtype() == Dtype::Bool && b != 0 && b != 1))) {
    fail("where: the scalar {} cannot be represented in a's dtype {} (a is {})", b, a.dtype(),
         shape_str(a.shape()));
  }
  return where(condition, a, scalar_tensor(b, a.dtype()));
}

namespace {

// value in x's dtype the way masked_fill converts it in PyTorch: an Int64 keeps the integer part
// (−1.7 → −1), a Bool is value ≠ 0; a value outside Int64's range (or NaN) is an error.
template <class T>
T fill_value(double value, const Tensor& x, const char* op) {
  if constexpr (std::is_same_v<T, int64_t>) {
    if (!detail::in_int64_range(value)) {
      fail("{}: the value {} cannot be converted to Int64 (x is Int64 {})", op, value,
           shape_str(x.shape()));
    }
  }
  if constexpr (std::is_same_v<T, bool>) return value != 0;
  return static_cast<T>(value);
}

Tensor masked_fill_op(const Tensor& x, const Tensor& mask, double value, const char* op) {
  require_bool(mask, op, "mask");
  const Shape shape = broadcast_shapes(x.shape(), mask.shape(), op);
  if (shape != x.shape()) {
    fail("{}: the mask {} would broadcast x {} to {}; it must broadcast to x's shape", op,
         shape_str(mask.shape()), shape_str(x.shape()), shape_str(shape));
  }
  Tensor y = make_tensor(shape, x.dtype());
  const bool* m = mask.data<bool>();
  visit_dtype(x.dtype(), [&]<class T>() {
    const T fill = fill_value<T>(value, x, op);
    const T* in = x.data<T>();
    T* o = y.data<T>();
    for_each_broadcast<2>(shape, {shape, mask.shape()},
                          [&](int64_t i, int64_t, int64_t im) { o[i] = m[im] ? fill : in[i]; });
  });
  // The gradient passes where the mask is false: masked_fill(gy, mask, 0).
  return record("masked_fill", y, {x}, [mask = SavedTensor(mask)](const Tensor& gy) -> Grads {
    return {masked_fill(gy, mask, 0.0)};
  });
}

// The larger (or smaller) of a and b with broadcasting; a NaN on either side gives NaN, as
// torch.maximum and torch.minimum.
template <bool kLarger>
Tensor extremum_values(const Tensor& a, const Tensor& b, const char* op) {
  require_same_dtype(a, b, op);
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), op);
  return visit_dtype(a.dtype(), [&]<class T>() {
    return broadcast_elements<T>(a, b, shape, [](T p, T q) {
      if constexpr (std::is_floating_point_v<T>) {
        if (std::isnan(p)) return p;
        if (std::isnan(q)) return q;
      }
      return (kLarger ? p < q : q < p) ? q : p;
    });
  });
}

// PyTorch 1.13's maximum backward (derivatives.yaml): where(a == b, g/2, g), then zeroed where
// the other operand won — ties split the gradient evenly and a NaN sends it to both sides.
template <bool kLarger>
Tensor extremum(const Tensor& a, const Tensor& b, const char* op) {
  Tensor y = extremum_values<kLarger>(a, b, op);
  return record(op, y, {a, b},
                [a = SavedTensor(a), b = SavedTensor(b), need_a = a.requires_grad(),
                 need_b = b.requires_grad()](const Tensor& gy) -> Grads {
                  const Tensor& p = a;
                  const Tensor& q = b;
                  const Tensor split = where(eq(p, q), gy * 0.5, gy);
                  const Tensor a_lost = kLarger ? lt(p, q) : gt(p, q);
                  const Tensor b_lost = kLarger ? gt(p, q) : lt(p, q);
                  return {need_a ? masked_fill(split, a_lost, 0.0) : Tensor(),
                          need_b ? masked_fill(split, b_lost, 0.0) : Tensor()};
                });
}

}  // namespace

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  return masked_fill_op(x, mask, value, "masked_fill");
}

Tensor& Tensor::masked_fill_(const Tensor& mask, double value) {
  return detail::in_place(*this, "masked_fill_",
                          [&] { return masked_fill_op(*this, mask, value, "masked_fill_"); });
}

Tensor minimum(const Tensor& a, const Tensor& b) { return extremum<false>(a, b, "minimum"); }
Tensor maximum(const Tensor& a, const Tensor& b) { return extremum<true>(a, b, "maximum"); }

Tensor Tensor::eq(const Tensor& other) const { return tg::eq(*this, other); }
Tensor Tensor::ne(const Tensor& other) const { return tg::ne(*this, other); }
Tensor Tensor::lt(const Tensor& other) const { return tg::lt(*this, other); }
Tensor Tensor::le(const Tensor& other) const { return tg::le(*this, other); }
Tensor Tensor::gt(const Tensor& other) const { return tg::gt(*this, other); }
Tensor Tensor::ge(const Tensor& other) const { return tg::ge(*this, other); }
Tensor Tensor::eq(double other) const { return tg::eq(*this, other); }
Tensor Tensor::ne(double other) const { return tg::ne(*this, other); }
Tensor Tensor::lt(double other) const { return tg::lt(*this, other); }
Tensor Tensor::le(double other) const { return tg::le(*this, other); }
Tensor Tensor::gt(double other) const { return tg::gt(*this, other); }
Tensor Tensor::ge(double other) const { return tg::ge(*this, other); }
Tensor Tensor::logical_and(const Tensor& other) const { return tg::logical_and(*this, other); }
Tensor Tensor::logical_or(const Tensor& other) const { return tg::logical_or(*this, other); }
Tensor Tensor::logical_not() const { return tg::logical_not(*this); }
Tensor Tensor::any() const { return tg::any(*this); }
Tensor Tensor::all() const { return tg::all(*this); }
Tensor Tensor::masked_fill(const Tensor& mask, double value) const {
  return tg::masked_fill(*this, mask, value);
}
Tensor Tensor::minimum(const Tensor& other) const { return tg::minimum(*this, other); }
Tensor Tensor::maximum(const Tensor& other) const { return tg::maximum(*this, other); }

}  // namespace tg
