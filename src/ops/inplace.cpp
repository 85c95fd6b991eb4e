// In-place arithmetic, copy_, zero_, fill_ and the compound assignment operators, all through
// detail::assign_in_place (src/ops/inplace.hpp).

#include <tapegrad/autograd.hpp>
#include <tapegrad/ops.hpp>

#include "ops/inplace.hpp"
#include "ops/kernels.hpp"

#include <cstring>

namespace tg {
namespace detail {

void check_in_place(const Tensor& self, const char* op) {
  const TensorImpl& impl = self.impl();
  if (impl.requires_grad && !impl.grad_fn && is_grad_enabled()) {
    fail(
        "{}: a leaf tensor that requires grad ({} {}) cannot be modified in place while grad "
        "mode is on; do hand-written updates under tg::NoGradGuard",
        op, self.dtype(), shape_str(self.shape()));
  }
  if (impl.copied_by) {
    fail(
        "{}: this tensor ({}) is a copy that '{}' made, not a view, so an in-place write would not "
        "reach the tensor it came from; write to that tensor, or take .clone() to write to a copy",
        op, shape_str(self.shape()), impl.copied_by);
  }
}

Tensor& assign_in_place(Tensor& self, const Tensor& result, const char* op) {
  if (result.shape() != self.shape()) {
    fail("{}: the result has shape {} but the tensor written in place has shape {}", op,
         shape_str(result.shape()), shape_str(self.shape()));
  }
  if (result.dtype() != self.dtype()) {
    fail("{}: the result is {} but the tensor written in place is {}", op, result.dtype(),
         self.dtype());
  }
  const bool recorded = is_grad_enabled() && result.grad_fn();
  TensorImpl& impl = self.impl();
  if (recorded && impl.viewed_by) {
    fail(
        "{}: this tensor is a view that '{}' made, and writing to it with gradients recorded "
        "would change its base's history, which tapegrad does not track; compute the new tensor "
        "out of place (tg::cat, tg::where), or write under tg::NoGradGuard",
        op, impl.viewed_by);
  }
  std::memcpy(self.raw_data(), result.raw_data(),
              static_cast<size_t>(self.numel()) * dtype_size(self.dtype()));
  impl.storage->bump_version();
  if (is_grad_enabled()) {  // (a leaf that requires grad never gets here with grad mode on)
    impl.grad_fn = recorded ? result.grad_fn() : nullptr;
    impl.requires_grad = recorded;
  }
  return self;
}

}  // namespace detail

namespace {

Tensor scaled(const Tensor& other, double alpha) { return alpha == 1 ? other : other * alpha; }

}  // namespace

Tensor& Tensor::add_(const Tensor& other, double alpha) {
  return detail::in_place(*this, "add_", [&] { return *this + scaled(other, alpha); });
}
Tensor& Tensor::sub_(const Tensor& other, double alpha) {
  return detail::in_place(*this, "sub_", [&] { return *this - scaled(other, alpha); });
}
Tensor& Tensor::mul_(const Tensor& other) {
  return detail::in_place(*this, "mul_", [&] { return *this * other; });
}
Tensor& Tensor::div_(const Tensor& other) {
  return detail::in_place(*this, "div_", [&] { return *this / other; });
}
Tensor& Tensor::add_(double other) {
  return detail::in_place(*this, "add_", [&] { return *this + other; });
}
Tensor& Tensor::sub_(double other) {
  return detail::in_place(*this, "sub_", [&] { return *this - other; });
}
Tensor& Tensor::mul_(double other) {
  return detail::in_place(*this, "mul_", [&] { return *this * other; });
}
Tensor& Tensor::div_(double other) {
  return detail::in_place(*this, "div_", [&] { return *this / other; });
}

Tensor& Tensor::copy_(const Tensor& src) {
  detail::check_in_place(*this, "copy_");
  broadcast_shapes(src.shape(), shape(), "copy_");  // names copy_ when src cannot broadcast
  Tensor value = src.to(dtype());
  if (value.shape() != shape()) value = broadcast_to(value, shape());
  // A result that shares src's storage would alias the destination's own bytes after the copy.
  if (value.impl().storage == impl().storage) value = value.clone();
  return detail::assign_in_place(*this, value, "copy_");
}

Tensor& Tensor::zero_() { return fill_(0); }

Tensor& Tensor::fill_(double value) {
  return detail::in_place(*this, "fill_", [&] { return full(shape(), value, {.dtype = dtype()}); });
}

Tensor& Tensor::operator+=(const Tensor& other) { return add_(other); }
Tensor& Tensor::operator-=(const Tensor& other) { return sub_(other); }
Tensor& Tensor::operator*=(const Tensor& other) { return mul_(other); }
Tensor& Tensor::operator/=(const Tensor& other) { return div_(other); }
Tensor& Tensor::operator+=(double other) { return add_(other); }
Tensor& Tensor::operator-=(double other) { return sub_(other); }
Tensor& Tensor::operator*=(double other) { return mul_(other); }
Tensor& Tensor::operator/=(double other) { return div_(other); }

}  // namespace tg
