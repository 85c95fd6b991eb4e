// Tensor methods that change layout or type: reshape (shares storage), transpose, to, clone.

#include <tapegrad/autograd.hpp>
#include <tapegrad/ops.hpp>

#include "int64_range.hpp"
#include "ops/kernels.hpp"

#include <cstring>
#include <type_traits>

namespace tg {
namespace {

// Resolves a single -1 in `requested` so the shape holds `numel` elements.
Shape infer_shape(Shape requested, const Shape& original, int64_t numel) {
  int64_t known = 1;  // product of the given extents
  bool overflow = false;
  int64_t inferred = -1;
  for (size_t i = 0; i < requested.size(); ++i) {
    if (requested[i] == -1) {
      if (inferred >= 0)
        fail("reshape: only one dimension can be -1, got {}", shape_str(requested));
      inferred = static_cast<int64_t>(i);
    } else if (requested[i] < 0) {
      fail("reshape: invalid dimension {} in {}", requested[i], shape_str(requested));
    } else {
      overflow = __builtin_mul_overflow(known, requested[i], &known) || overflow;
    }
  }
  // Extents whose product passes int64 cannot hold numel elements (even with a 0 after them).
  if (!overflow && inferred >= 0 && known != 0 && numel % known == 0) {
    requested[inferred] = numel / known;
  }
  if (overflow || (inferred >= 0 && requested[inferred] == -1) || shape_numel(requested) != numel) {
    fail("reshape: cannot reshape {} ({} elements) into {}", shape_str(original), numel,
         shape_str(requested));
  }
  return requested;
}

}  // namespace

Tensor Tensor::reshape(Shape shape) const {
  shape = infer_shape(std::move(shape), this->shape(), numel());
  Tensor y = share_storage(*this, shape);
  y.impl().viewed_by = "reshape";
  return record("reshape", y, {*this}, [original = this->shape()](const Tensor& gy) -> Grads {
    return {gy.reshape(original)};
  });
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  d0 = normalize_dim(d0, dim(), "transpose");
  d1 = normalize_dim(d1, dim(), "transpose");
  if (d0 == d1 || dim() < 2) return clone();
  Shape out_shape = shape();
  std::swap(out_shape[d0], out_shape[d1]);
  // Walk the output in order, reading the input through its strides with d0 and d1 swapped.
  std::vector<int64_t> strides = contiguous_strides(shape());
  std::swap(strides[d0], strides[d1]);
  const std::array<std::vector<int64_t>, 1> walk{strides};
  Tensor y = visit_dtype(dtype(), [&]<class T>() {
    Tensor out = make_tensor(out_shape, dtype());
    const T* in = data<T>();
    T* o = out.data<T>();
    const int64_t inner = out_shape.back();
    const int64_t step = strides.back();
    for_each_row(out_shape, walk, [&](int64_t r, const std::array<int64_t, 1>& offsets) {
      for (int64_t j = 0; j < inner; ++j) o[r * inner + j] = in[offsets[0] + j * step];
    });
    return out;
  });
  return record("transpose", y, {*this},
                [d0, d1](const Tensor& gy) -> Grads { return {gy.transpose(d0, d1)}; });
}

Tensor Tensor::to(Dtype target) const {
  if (target == dtype()) return *this;
  Tensor y = make_tensor(shape(), target);
  visit_dtype(target, [&]<class To>() {
    visit_dtype(dtype(), [&]<class From>() {
      const From* in = data<From>();
      To* out = y.data<To>();
      for (int64_t i = 0; i < numel(); ++i) {
        if constexpr (std::is_integral_v<To> && std::is_floating_point_v<From>) {
          if (!detail::in_int64_range(in[i])) {
            fail("to: element {} of {} {} is {}, which cannot be converted to Int64", i, dtype(),
                 shape_str(shape()), in[i]);
          }
        }
        out[i] = static_cast<To>(in[i]);
      }
    });
  });
  return record("to", y, {*this},
                [source = dtype()](const Tensor& gy) -> Grads { return {gy.to(source)}; });
}

Tensor Tensor::clone() const {
  Tensor y = make_tensor(shape(), dtype());
  std::memcpy(y.raw_data(), raw_data(), static_cast<size_t>(numel()) * dtype_size(dtype()));
  return record("clone", y, {*this}, [](const Tensor& gy) -> Grads { return {gy}; });
}

}  // namespace tg
