#include <tapegrad/autograd.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/tensor.hpp>

#include "tensor/object_pool.hpp"
#include "tensor/tensor_impl.hpp"

#include <new>
#include <type_traits>
#include <utility>

namespace tg {

Tensor make_tensor(Shape shape, Dtype dtype) {
  for (int64_t extent : shape) {
    if (extent < 0) fail("tensor: negative dimension in shape {}", shape_str(shape));
  }
  auto impl = std::allocate_shared<TensorImpl>(detail::PoolAllocator<TensorImpl>());
  impl->numel = shape_numel(shape);
  // One tensor above 1 TiB is a mistake on any machine this library is for; refusing it here
  // also keeps sanitizer builds (whose allocator aborts above 1 TiB) on the tg::Error path.
  constexpr size_t kMaxTensorBytes = size_t{1} << 40;
  size_t bytes = 0;
  if (__builtin_mul_overflow(static_cast<size_t>(impl->numel), dtype_size(dtype), &bytes) ||
      bytes > kMaxTensorBytes) {
    fail("tensor: cannot allocate {} {}: more than the 1 TiB tapegrad allows for one tensor", dtype,
         shape_str(shape));
  }
  try {
    impl->storage = std::allocate_shared<Storage>(detail::PoolAllocator<Storage>(), bytes);
  } catch (const std::bad_alloc&) {
    fail("tensor: cannot allocate {} {} ({} bytes): out of memory", dtype, shape_str(shape), bytes);
  }
  impl->shape = std::move(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor share_storage(const Tensor& source, Shape shape, int64_t offset) {
  auto impl = std::allocate_shared<TensorImpl>(detail::PoolAllocator<TensorImpl>());
  impl->storage = source.impl().storage;
  impl->offset = source.impl().offset + offset;
  impl->copied_by = source.impl().copied_by;  // a view of a hidden copy is still not the base
  impl->numel = shape_numel(shape);
  impl->shape = std::move(shape);
  impl->dtype = source.dtype();
  return Tensor(std::move(impl));
}

Tensor::Tensor() = default;

Tensor::Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

bool Tensor::defined() const { return impl_ != nullptr; }

void Tensor::throw_undefined() { fail("tensor: operation on an undefined tensor"); }

const Shape& Tensor::shape() const { return impl().shape; }

int64_t Tensor::dim() const { return static_cast<int64_t>(impl().shape.size()); }

int64_t Tensor::numel() const { return impl().numel; }

int64_t Tensor::size(int64_t d) const {
  const Shape& extents = impl().shape;
  const auto rank = static_cast<int64_t>(extents.size());
  if (d >= 0 && d < rank) return extents[d];  // the ops' common case, without normalize_dim
  return extents[normalize_dim(d, rank, "size")];
}

Dtype Tensor::dtype() const { return impl().dtype; }

void* Tensor::raw_data() const {
  const TensorImpl& self = impl();
  return static_cast<char*>(self.storage->data()) +
         self.offset * static_cast<int64_t>(dtype_size(self.dtype));
}

// A mutable pointer may be written through, so handing one out counts as a write: a backward
// that saved this storage then refuses to run on changed values (API.md, in-place ops).
template <class T>
T* Tensor::data() {
  const T* pointer = std::as_const(*this).data<T>();
  impl().storage->bump_version();
  return const_cast<T*>(pointer);
}

template <class T>
const T* Tensor::data() const {
  if (dtype() != dtype_of<T>()) {
    fail("data: requested {} but the tensor is {}", dtype_of<T>(), dtype());
  }
  return static_cast<const T*>(raw_data());
}

int64_t Tensor::version() const { return static_cast<int64_t>(impl().storage->version()); }

template <class T>
T Tensor::item() const {
  if (numel() != 1) {
    fail("item: expected a tensor with one element, got shape {} ({} elements)", shape_str(shape()),
         numel());
  }
  return to_vector<T>()[0];
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  // Floats to Int64 through to(), which refuses values int64 cannot hold (NaN, ±1e300).
  if constexpr (std::is_integral_v<T>) {
    if (is_floating(dtype())) return detach().to(Dtype::Int64).to_vector<T>();
  }
  std::vector<T> out(static_cast<size_t>(numel()));
  const auto copy = [&](const auto* source) {
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<T>(source[i]);
  };
  switch (dtype()) {
    case Dtype::Float32:
      copy(static_cast<const float*>(raw_data()));
      break;
    case Dtype::Float64:
      copy(static_cast<const double*>(raw_data()));
      break;
    case Dtype::Int64:
      copy(static_cast<const int64_t*>(raw_data()));
      break;
    case Dtype::Bool:
      copy(static_cast<const bool*>(raw_data()));
      break;
  }
  return out;
}

template float* Tensor::data<float>();
template double* Tensor::data<double>();
template int64_t* Tensor::data<int64_t>();
template const float* Tensor::data<float>() const;
template const double* Tensor::data<double>() const;
template const int64_t* Tensor::data<int64_t>() const;
template bool* Tensor::data<bool>();
template const bool* Tensor::data<bool>() const;
template bool Tensor::item<bool>() const;
template float Tensor::item<float>() const;
template double Tensor::item<double>() const;
template int64_t Tensor::item<int64_t>() const;
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;

bool Tensor::requires_grad() const { return impl().requires_grad; }

Tensor& Tensor::set_requires_grad(bool on) {
  if (!is_leaf()) {
    fail(
        "set_requires_grad: only leaf tensors can change requires_grad; this one was made by '{}'"
        " (use detach() to get a leaf)",
        impl().grad_fn->name());
  }
  if (on && !is_floating(dtype())) {
    fail("set_requires_grad: only Float32 and Float64 tensors can require grad, got {}", dtype());
  }
  impl().requires_grad = on;
  return *this;
}

bool Tensor::is_leaf() const { return impl().grad_fn == nullptr; }

Tensor Tensor::grad() const { return Tensor(impl().grad); }

void Tensor::zero_grad() { impl().grad.reset(); }

void Tensor::backward(const Tensor& gradient, bool retain_graph, bool create_graph) const {
  run_backward(*this, gradient, retain_graph, create_graph);
}

Tensor Tensor::detach() const { return share_storage(*this, shape()); }

Tensor Tensor::t() const {
  if (dim() != 2) fail("t: expected a 2-d tensor, got shape {}", shape_str(shape()));
  return transpose(0, 1);
}

const std::shared_ptr<Node>& Tensor::grad_fn() const { return impl().grad_fn; }

}  // namespace tg
