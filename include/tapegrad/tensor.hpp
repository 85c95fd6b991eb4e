#pragma once

#include <tapegrad/dtype.hpp>
#include <tapegrad/shape.hpp>

#include <cstdint>
#include <memory>
#include <vector>

namespace tg {

struct TensorImpl;
class Node;

/// How a factory creates a tensor.
struct TensorOptions {
  Dtype dtype = Dtype::Float32;
  bool requires_grad = false;
};

/// A cheap handle to contiguous row-major storage plus autograd metadata; copies share storage.
class Tensor {
 public:
  /// An undefined tensor: defined() is false and every other member throws.
  Tensor();
  /// Wraps an existing implementation (used by the library's ops).
  explicit Tensor(std::shared_ptr<TensorImpl> impl);

  /// False for a default-constructed tensor or a grad() that no backward has written.
  bool defined() const;
  /// Extent of each dimension.
  const Shape& shape() const;
  /// Number of dimensions.
  int64_t dim() const;
  /// Number of elements.
  int64_t numel() const;
  /// Extent of dimension d; negative d counts from the end.
  int64_t size(int64_t d) const;
  /// Element type.
  Dtype dtype() const;

  /// Pointer to the first element; T must match dtype().
  template <class T>
  T* data();
  /// Read-only pointer to the first element; T must match dtype().
  template <class T>
  const T* data() const;
  /// The single element, converted to T.
  template <class T>
  T item() const;
  /// A copy of all elements in row-major order, converted to T.
  template <class T>
  std::vector<T> to_vector() const;

  /// True when operations on this tensor are recorded on the tape.
  bool requires_grad() const;
  /// Marks a leaf as a tensor whose gradient backward() should compute.
  Tensor& set_requires_grad(bool on = true);
  /// True unless the tensor was produced by a recorded op.
  bool is_leaf() const;
  /// The accumulated gradient; undefined until a backward writes it.
  Tensor grad() const;
  /// Drops the gradient (PyTorch's set_to_none behaviour).
  void zero_grad();
  /// Backpropagates from this tensor; `gradient` may be omitted only for one-element tensors.
  void backward(const Tensor& gradient = {}, bool retain_graph = false) const;
  /// The same storage, cut off from the tape.
  Tensor detach() const;

  /// The same elements with another shape (sharing storage); one dimension may be -1.
  Tensor reshape(Shape shape) const;
  /// A copy with dimensions d0 and d1 swapped.
  Tensor transpose(int64_t d0, int64_t d1) const;
  /// Transpose of a 2-D tensor.
  Tensor t() const;
  /// A copy converted to `dtype` (the same tensor when it already has it).
  Tensor to(Dtype dtype) const;
  /// A copy with its own storage, recorded on the tape.
  Tensor clone() const;

  /// The node that produced this tensor, or null for a leaf.
  const std::shared_ptr<Node>& grad_fn() const;
  /// The implementation, for the library's ops (inline: every accessor goes through it).
  TensorImpl& impl() const {
    if (!impl_) [[unlikely]]
      throw_undefined();
    return *impl_;
  }
  /// The shared implementation, for the library's ops.
  const std::shared_ptr<TensorImpl>& shared_impl() const { return impl_; }
  /// Untyped pointer to the first element.
  void* raw_data() const;

 private:
  [[noreturn]] static void throw_undefined();

  std::shared_ptr<TensorImpl> impl_;
};

extern template float* Tensor::data<float>();
extern template double* Tensor::data<double>();
extern template int64_t* Tensor::data<int64_t>();
extern template const float* Tensor::data<float>() const;
extern template const double* Tensor::data<double>() const;
extern template const int64_t* Tensor::data<int64_t>() const;
extern template float Tensor::item<float>() const;
extern template double Tensor::item<double>() const;
extern template int64_t Tensor::item<int64_t>() const;
extern template std::vector<float> Tensor::to_vector<float>() const;
extern template std::vector<double> Tensor::to_vector<double>() const;
extern template std::vector<int64_t> Tensor::to_vector<int64_t>() const;

/// A tensor holding `values` (converted to options.dtype) with the given shape.
Tensor tensor(std::vector<double> values, Shape shape, TensorOptions options = {});
/// A tensor taking its dtype from T (float, double or int64_t).
template <class T>
Tensor from_vector(std::vector<T> values, Shape shape);
extern template Tensor from_vector<float>(std::vector<float>, Shape);
extern template Tensor from_vector<double>(std::vector<double>, Shape);
extern template Tensor from_vector<int64_t>(std::vector<int64_t>, Shape);

/// A tensor whose storage is allocated but not initialized.
Tensor empty(Shape shape, TensorOptions options = {});
/// All zeros.
Tensor zeros(Shape shape, TensorOptions options = {});
/// All ones.
Tensor ones(Shape shape, TensorOptions options = {});
/// Every element equal to `value`.
Tensor full(Shape shape, double value, TensorOptions options = {});
/// Standard normal draws from the default generator.
Tensor randn(Shape shape, TensorOptions options = {});
/// Uniform draws in [0, 1) from the default generator.
Tensor rand(Shape shape, TensorOptions options = {});
/// 0, 1, …, n−1 in options.dtype (Float32 by default, as API.md's `TensorOptions = {}` says;
/// pass {.dtype = Dtype::Int64} for indices).
Tensor arange(int64_t n, TensorOptions options = {});

namespace debug {
/// Number of tensor storages currently alive (for leak tests).
int64_t live_storages();
}  // namespace debug

}  // namespace tg
