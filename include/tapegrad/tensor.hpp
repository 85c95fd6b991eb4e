#pragma once

#include <tapegrad/dtype.hpp>
#include <tapegrad/shape.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace tg {

struct TensorImpl;
class Node;
class Generator;
class Tensor;

/// What max(x, dim) and min(x, dim) return: the extreme values and their Int64 positions.
struct ValuesIndices;

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
  /// With `create_graph` the gradients are recorded (differentiable again) and the graph kept.
  void backward(const Tensor& gradient = {}, bool retain_graph = false,
                bool create_graph = false) const;
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

  // Views of shape (docs/architecture.md, "Views"): these share storage whenever the result is
  // contiguous in the input's storage, and otherwise return a copy that refuses in-place writes.
  /// reshape() under PyTorch's other name.
  Tensor view(Shape shape) const;
  /// Dimensions start_dim … end_dim merged into one.
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  /// A new dimension of extent 1 at position d (d may be dim(), or negative).
  Tensor unsqueeze(int64_t d) const;
  /// Every dimension of extent 1 removed.
  Tensor squeeze() const;
  /// Dimension d removed if its extent is 1 (else the same shape).
  Tensor squeeze(int64_t d) const;
  /// Extents of 1 repeated to `shape` (−1 keeps an extent), as torch.Tensor.expand.
  Tensor expand(Shape shape) const;
  /// Dimensions reordered: output dimension i is input dimension dims[i].
  Tensor permute(std::vector<int64_t> dims) const;
  /// This tensor if it may be written in place, else an ordinary copy (after permute, expand).
  Tensor contiguous() const;

  // Parts.
  /// Elements start … start+length−1 along dim.
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  /// The slice at `index` along dim, which is removed.
  Tensor select(int64_t dim, int64_t index) const;
  /// n nearly equal parts along dim (the last may be smaller), as torch.chunk.
  std::vector<Tensor> chunk(int64_t n, int64_t dim = 0) const;
  /// Parts of `size` along dim (the last may be smaller), as torch.split.
  std::vector<Tensor> split(int64_t size, int64_t dim = 0) const;
  /// The slices along dim at the Int64 positions in the 1-D `index`.
  Tensor index_select(int64_t dim, const Tensor& index) const;
  /// out[i][j] = self[index[i][j]][j] for dim 0 (and likewise for other dims), as torch.gather.
  Tensor gather(int64_t dim, const Tensor& index) const;

  // Method forms of the free functions in ops.hpp (same semantics, same gradients).
  Tensor add(const Tensor& other) const;
  Tensor sub(const Tensor& other) const;
  Tensor mul(const Tensor& other) const;
  Tensor div(const Tensor& other) const;
  Tensor matmul(const Tensor& other) const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor abs() const;
  Tensor relu() const;
  Tensor sigmoid() const;
  Tensor tanh() const;
  Tensor sin() const;
  Tensor cos() const;
  Tensor log1p() const;
  Tensor expm1() const;
  Tensor erf() const;
  Tensor sign() const;
  Tensor floor() const;
  Tensor round() const;
  Tensor square() const;
  Tensor neg() const;
  Tensor pow(double p) const;
  Tensor clamp(std::optional<double> lo, std::optional<double> hi = std::nullopt) const;
  Tensor minimum(const Tensor& other) const;
  Tensor maximum(const Tensor& other) const;
  Tensor sum() const;
  Tensor sum(int64_t dim, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(int64_t dim, bool keepdim = false) const;
  Tensor max() const;
  Tensor min() const;
  ValuesIndices max(int64_t dim, bool keepdim = false) const;
  ValuesIndices min(int64_t dim, bool keepdim = false) const;
  Tensor argmax(int64_t dim) const;
  Tensor var() const;
  Tensor var(int64_t dim, bool keepdim = false, int64_t correction = 1) const;
  Tensor std() const;
  Tensor std(int64_t dim, bool keepdim = false, int64_t correction = 1) const;
  Tensor norm(double p = 2) const;
  Tensor norm(double p, int64_t dim, bool keepdim = false) const;
  Tensor logsumexp(int64_t dim, bool keepdim = false) const;
  Tensor cumsum(int64_t dim) const;
  Tensor prod() const;
  Tensor prod(int64_t dim, bool keepdim = false) const;
  Tensor softmax(int64_t dim) const;
  Tensor log_softmax(int64_t dim) const;
  Tensor outer(const Tensor& other) const;
  Tensor dot(const Tensor& other) const;

  // Comparisons and masks: Bool results, never recorded.
  Tensor eq(const Tensor& other) const;
  Tensor ne(const Tensor& other) const;
  Tensor lt(const Tensor& other) const;
  Tensor le(const Tensor& other) const;
  Tensor gt(const Tensor& other) const;
  Tensor ge(const Tensor& other) const;
  Tensor eq(double other) const;
  Tensor ne(double other) const;
  Tensor lt(double other) const;
  Tensor le(double other) const;
  Tensor gt(double other) const;
  Tensor ge(double other) const;
  Tensor logical_and(const Tensor& other) const;
  Tensor logical_or(const Tensor& other) const;
  Tensor logical_not() const;
  /// True if any element is nonzero (a 0-d Bool tensor).
  Tensor any() const;
  /// True if every element is nonzero (a 0-d Bool tensor).
  Tensor all() const;
  /// Elements where the Bool `mask` (broadcast to this shape) is true replaced by `value`.
  Tensor masked_fill(const Tensor& mask, double value) const;

  // In-place ops (PyTorch's `_` suffix): they write into this tensor's storage, so every view
  // sharing it sees the change, bump its version (a backward that saved it then throws), and
  // return *this. On a leaf that requires grad they are an error unless grad mode is off.
  Tensor& add_(const Tensor& other, double alpha = 1);
  Tensor& sub_(const Tensor& other, double alpha = 1);
  Tensor& mul_(const Tensor& other);
  Tensor& div_(const Tensor& other);
  Tensor& add_(double other);
  Tensor& sub_(double other);
  Tensor& mul_(double other);
  Tensor& div_(double other);
  /// Copies src (broadcast to this shape, converted to this dtype) into this tensor.
  Tensor& copy_(const Tensor& src);
  Tensor& zero_();
  Tensor& fill_(double value);
  Tensor& clamp_(std::optional<double> lo, std::optional<double> hi = std::nullopt);
  Tensor& masked_fill_(const Tensor& mask, double value);
  /// Writes the slices of src into this tensor at the Int64 positions `index` along dim.
  Tensor& index_copy_(int64_t dim, const Tensor& index, const Tensor& src);
  /// Fills with uniform draws in [lo, hi) from `generator` (the default one if null).
  Tensor& uniform_(double lo = 0, double hi = 1, Generator* generator = nullptr);
  /// Fills with normal draws N(mean, std²) from `generator` (the default one if null).
  Tensor& normal_(double mean = 0, double std = 1, Generator* generator = nullptr);
  Tensor& operator+=(const Tensor& other);
  Tensor& operator-=(const Tensor& other);
  Tensor& operator*=(const Tensor& other);
  Tensor& operator/=(const Tensor& other);
  Tensor& operator+=(double other);
  Tensor& operator-=(double other);
  Tensor& operator*=(double other);
  Tensor& operator/=(double other);
  /// How many times this tensor's storage has been written in place (PyTorch's _version).
  int64_t version() const;

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
extern template bool* Tensor::data<bool>();
extern template const bool* Tensor::data<bool>() const;
extern template bool Tensor::item<bool>() const;
extern template float Tensor::item<float>() const;
extern template double Tensor::item<double>() const;
extern template int64_t Tensor::item<int64_t>() const;
extern template std::vector<float> Tensor::to_vector<float>() const;
extern template std::vector<double> Tensor::to_vector<double>() const;
extern template std::vector<int64_t> Tensor::to_vector<int64_t>() const;

struct ValuesIndices {
  Tensor values;
  Tensor indices;
};

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
/// Standard normal draws from `generator`.
Tensor randn(Shape shape, TensorOptions options, Generator& generator);
/// Uniform draws in [0, 1) from `generator`.
Tensor rand(Shape shape, TensorOptions options, Generator& generator);
/// `steps` evenly spaced values from start to end inclusive (torch.linspace).
Tensor linspace(double start, double end, int64_t steps, TensorOptions options = {});
/// The n × n identity matrix.
Tensor eye(int64_t n, TensorOptions options = {});
/// Uniform integers in [low, high), Int64 unless options say otherwise.
Tensor randint(int64_t low, int64_t high, Shape shape,
               TensorOptions options = {.dtype = Dtype::Int64});
/// randint drawing from `generator`.
Tensor randint(int64_t low, int64_t high, Shape shape, Generator& generator);
/// A random order of 0 … n−1 (Int64).
Tensor randperm(int64_t n);
/// randperm drawing from `generator`.
Tensor randperm(int64_t n, Generator& generator);
/// 1 with probability p[i], else 0, in p's dtype.
Tensor bernoulli(const Tensor& p);
/// bernoulli drawing from `generator`.
Tensor bernoulli(const Tensor& p, Generator& generator);
/// n category indices per row of `probs` (1-D or 2-D, nonnegative weights), as torch.multinomial.
Tensor multinomial(const Tensor& probs, int64_t n, bool replacement = false);
/// multinomial drawing from `generator`.
Tensor multinomial(const Tensor& probs, int64_t n, bool replacement, Generator& generator);
/// Factories shaped like x, with x's dtype unless options say otherwise.
Tensor zeros_like(const Tensor& x);
Tensor zeros_like(const Tensor& x, TensorOptions options);
Tensor ones_like(const Tensor& x);
Tensor ones_like(const Tensor& x, TensorOptions options);
Tensor full_like(const Tensor& x, double value);
Tensor full_like(const Tensor& x, double value, TensorOptions options);
Tensor empty_like(const Tensor& x);
Tensor empty_like(const Tensor& x, TensorOptions options);
Tensor rand_like(const Tensor& x);
Tensor rand_like(const Tensor& x, Generator& generator);
Tensor randn_like(const Tensor& x);
Tensor randn_like(const Tensor& x, Generator& generator);
/// 0, 1, …, n−1 in options.dtype (Float32 by default, as API.md's `TensorOptions = {}` says;
/// pass {.dtype = Dtype::Int64} for indices).
Tensor arange(int64_t n, TensorOptions options = {});

namespace debug {
/// Number of tensor storages currently alive (for leak tests).
int64_t live_storages();
}  // namespace debug

}  // namespace tg
