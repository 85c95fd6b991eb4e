// Indexing by Int64 tensors: index_select, gather and index_copy_. Every index is checked before
// any element is read. The backward of index_select and gather adds the gradient into zeros at the
// indexed places (repeated indices accumulate) with one loop, recorded so that it is
// differentiable again: its own gradient is index_select or gather of the incoming one.

#include <tapegrad/autograd.hpp>
#include <tapegrad/ops.hpp>

#include "ops/inplace.hpp"
#include "ops/kernels.hpp"
#include "ops/lines.hpp"

#include <cstring>

namespace tg {
namespace {

// Throws unless index is an Int64 tensor (of at most one dimension when `vector`).
void require_index(const Tensor& index, bool vector, const char* op) {
  if (index.dtype() != Dtype::Int64) {
    fail("{}: expected an Int64 index, got {} of shape {}", op, index.dtype(),
         shape_str(index.shape()));
  }
  if (vector && index.dim() > 1) {
    fail("{}: expected a 1-D or 0-d index, got shape {}", op, shape_str(index.shape()));
  }
}

// Throws unless every index is in [0, extent), naming the first that is not.
void check_in_range(const Tensor& index, int64_t extent, int64_t dim, const char* op) {
  const int64_t* values = index.data<int64_t>();
  for (int64_t i = 0; i < index.numel(); ++i) {
    if (values[i] < 0 || values[i] >= extent) {
      fail("{}: index {} (at position {} of the index) is out of range for dimension {} of size {}",
           op, values[i], i, dim, extent);
    }
  }
}

// lines_along for the indexing ops, whose outputs are empty whenever their inputs are: an empty
// shape walks no lines (and the product of its other extents may pass int64).
Lines lines_of(const Shape& shape, int64_t dim) {
  if (!shape.empty() && shape_numel(shape) == 0)
    return {.outer = 0, .extent = shape[dim], .inner = 0};
  return lines_along(shape, dim);
}

// Shape with dim's extent replaced by n (a 0-d shape stays 0-d: n is 1 there).
Shape with_extent(Shape shape, int64_t dim, int64_t n) {
  if (!shape.empty()) shape[dim] = n;
  return shape;
}

// out[r, i, :] = in[r, at[i], :] over the lines `from`. Single elements (inner 1, as in im2col's
// gather) are copied as typed words: a memcpy call per 4 bytes cost more than the copy.
template <class Word>
void copy_selected_words(const Word* in, Word* out, const Lines& from, const int64_t* at,
                         int64_t n) {
  for (int64_t r = 0; r < from.outer; ++r) {
    for (int64_t i = 0; i < n; ++i) out[r * n + i] = in[r * from.extent + at[i]];
  }
}

void copy_selected(const void* in, void* out, size_t element_size, const Lines& from,
                   const int64_t* at, int64_t n) {
  if (from.inner == 1 && element_size == 4) {
    return copy_selected_words(static_cast<const uint32_t*>(in), static_cast<uint32_t*>(out), from,
                               at, n);
  }
  if (from.inner == 1 && element_size == 8) {
    return copy_selected_words(static_cast<const uint64_t*>(in), static_cast<uint64_t*>(out), from,
                               at, n);
  }
  const size_t slice = static_cast<size_t>(from.inner) * element_size;
  const char* source = static_cast<const char*>(in);
  char* target = static_cast<char*>(out);
  for (int64_t r = 0; r < from.outer; ++r) {
    for (int64_t i = 0; i < n; ++i) {
      std::memcpy(target + (r * n + i) * slice, source + (r * from.extent + at[i]) * slice, slice);
    }
  }
}

// out = zeros(shape); out[o, index[i], :] += source[o, i, :] — the gradient of index_select.
Tensor index_add_into_zeros(const Tensor& source, int64_t dim, const Tensor& index,
                            const Shape& shape) {
  Tensor y = visit_floating(source, "index_select", [&]<class T>() {
    Tensor out = zeros(shape, {.dtype = source.dtype()});
    const Lines to = lines_of(shape, dim);
    const int64_t n = index.numel();
    const int64_t* at = index.data<int64_t>();
    const T* in = source.data<T>();
    T* o = out.data<T>();
    for (int64_t r = 0; r < to.outer; ++r) {
      if (to.inner == 1) {  // single elements (im2col's col2im): no inner loop to set up
        T* __restrict line = o + r * to.extent;
        const T* __restrict from = in + r * n;
        for (int64_t i = 0; i < n; ++i) line[at[i]] += from[i];
        continue;
      }
      for (int64_t i = 0; i < n; ++i) {
        T* line = o + (r * to.extent + at[i]) * to.inner;
        const T* from = in + (r * n + i) * to.inner;
        for (int64_t j = 0; j < to.inner; ++j) line[j] += from[j];
      }
    }
    return out;
  });
  return record("index_select_backward", y, {source},
                [dim, index = SavedTensor(index)](const Tensor& gy) -> Grads {
                  return {gy.index_select(dim, index)};
                });
}

// Calls f(i, offset) for every element i of an index of shape `index_shape` (row-major), with
// offset the element of a tensor with `strides` that gather reads: index[i] along dim, i's own
// coordinates along the others.
template <class F>
void for_each_gathered(const Shape& index_shape, std::vector<int64_t> strides, int64_t dim,
                       const int64_t* index, F f) {
  const int64_t dim_stride = strides[dim];
  strides[dim] = 0;
  const int64_t inner = index_shape.back();
  const int64_t step = strides.back();
  const std::array<std::vector<int64_t>, 1> walk{strides};
  for_each_row(index_shape, walk, [&](int64_t r, const std::array<int64_t, 1>& offsets) {
    for (int64_t j = 0; j < inner; ++j) {
      const int64_t i = r * inner + j;
      f(i, offsets[0] + j * step + index[i] * dim_stride);
    }
  });
}

// A 0-d shape as [1], the way gather treats it.
Shape at_least_1d(const Shape& shape) { return shape.empty() ? Shape{1} : shape; }

// out = zeros(shape); out at gather's places += source — the gradient of gather.
Tensor scatter_add_into_zeros(const Tensor& source, int64_t dim, const Tensor& index,
                              const Shape& shape) {
  Tensor y = visit_floating(source, "gather", [&]<class T>() {
    Tensor out = zeros(shape, {.dtype = source.dtype()});
    const T* in = source.data<T>();
    T* o = out.data<T>();
    for_each_gathered(at_least_1d(index.shape()), contiguous_strides(at_least_1d(shape)), dim,
                      index.data<int64_t>(), [&](int64_t i, int64_t at) { o[at] += in[i]; });
    return out;
  });
  return record("gather_backward", y, {source},
                [dim, index = SavedTensor(index)](const Tensor& gy) -> Grads {
                  return {gy.gather(dim, index)};
                });
}

// Throws unless gather(self, dim, index) is defined: same rank, index no larger than self
// outside dim, every index within dim's extent.
void check_gather(const Tensor& self, int64_t dim, const Tensor& index) {
  require_index(index, false, "gather");
  if (index.dim() != self.dim()) {
    fail("gather: the index has {} dimensions but the tensor has {} (index {}, tensor {})",
         index.dim(), self.dim(), shape_str(index.shape()), shape_str(self.shape()));
  }
  for (int64_t d = 0; d < self.dim(); ++d) {
    if (d != dim && index.size(d) > self.size(d)) {
      fail(
          "gather: the index's extent {} exceeds the tensor's {} at dimension {} (index {}, "
          "tensor {}); only dimension {} may be larger",
          index.size(d), self.size(d), d, shape_str(index.shape()), shape_str(self.shape()), dim);
    }
  }
  check_in_range(index, at_least_1d(self.shape())[dim], dim, "gather");
}

// Ones shaped to broadcast against `shape` along dim ([1, …, extent, …, 1]), with 0 at the
// positions in index: which slices an index_copy_ left as they were.
Tensor kept_mask(const Shape& shape, int64_t dim, const Tensor& index, Dtype dtype) {
  Tensor mask =
      ones(with_extent(Shape(shape.size(), 1), dim, lines_of(shape, dim).extent), {.dtype = dtype});
  visit_floating(mask, "index_copy_", [&]<class T>() {
    T* m = mask.data<T>();
    const int64_t* at = index.data<int64_t>();
    for (int64_t i = 0; i < index.numel(); ++i) m[at[i]] = 0;
  });
  return mask;
}

// self with the slices of src written at positions index along dim (the last write wins on a
// repeated index, as PyTorch on the CPU), recorded for index_copy_.
Tensor index_copied(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  Tensor y = make_tensor(self.shape(), self.dtype());
  const size_t item = dtype_size(self.dtype());
  std::memcpy(y.raw_data(), self.raw_data(), static_cast<size_t>(self.numel()) * item);
  const Lines to = lines_of(self.shape(), dim);
  const int64_t n = index.numel();
  const int64_t* at = index.data<int64_t>();
  const size_t slice = static_cast<size_t>(to.inner) * item;
  const char* in = static_cast<const char*>(src.raw_data());
  char* out = static_cast<char*>(y.raw_data());
  for (int64_t r = 0; r < to.outer; ++r) {
    for (int64_t i = 0; i < n; ++i) {
      std::memcpy(out + (r * to.extent + at[i]) * slice, in + (r * n + i) * slice, slice);
    }
  }
  return record(
      "index_copy_", y, {self, src},
      [dim, index = SavedTensor(index), shape = self.shape()](const Tensor& gy) -> Grads {
        // self's elements survive where no slice was written; src's slice i went to
        // position index[i].
        return {gy * kept_mask(shape, dim, index, gy.dtype()), gy.index_select(dim, index)};
      });
}

}  // namespace

Tensor Tensor::index_select(int64_t dim, const Tensor& index) const {
  require_index(index, true, "index_select");
  dim = normalize_dim(dim, this->dim(), "index_select");
  const Lines from = lines_of(shape(), dim);
  check_in_range(index, from.extent, dim, "index_select");
  const int64_t n = index.numel();
  if (this->dim() == 0 && n != 1) {
    fail("index_select: a 0-d tensor takes exactly one index, got {}", n);
  }
  Tensor y = make_tensor(with_extent(shape(), dim, n), dtype());
  copy_selected(raw_data(), y.raw_data(), dtype_size(dtype()), from, index.data<int64_t>(), n);
  return record(
      "index_select", y, {*this},
      [dim, index = SavedTensor(index), shape = this->shape()](const Tensor& gy) -> Grads {
        return {index_add_into_zeros(gy, dim, index, shape)};
      });
}

Tensor Tensor::gather(int64_t dim, const Tensor& index) const {
  dim = normalize_dim(dim, this->dim(), "gather");
  check_gather(*this, dim, index);
  Tensor y = visit_dtype(dtype(), [&]<class T>() {
    Tensor out = make_tensor(index.shape(), dtype());
    const T* in = data<T>();
    T* o = out.data<T>();
    for_each_gathered(at_least_1d(index.shape()), contiguous_strides(at_least_1d(shape())), dim,
                      index.data<int64_t>(), [&](int64_t i, int64_t at) { o[i] = in[at]; });
    return out;
  });
  return record(
      "gather", y, {*this},
      [dim, index = SavedTensor(index), shape = this->shape()](const Tensor& gy) -> Grads {
        return {scatter_add_into_zeros(gy, dim, index, shape)};
      });
}

Tensor& Tensor::index_copy_(int64_t dim, const Tensor& index, const Tensor& src) {
  detail::check_in_place(*this, "index_copy_");
  require_index(index, true, "index_copy_");
  require_same_dtype(*this, src, "index_copy_");
  dim = normalize_dim(dim, this->dim(), "index_copy_");
  const Shape expected = with_extent(shape(), dim, index.numel());
  if (src.shape() != expected || (this->dim() == 0 && index.numel() != 1)) {
    fail("index_copy_: the source has shape {} but {} indices along dimension {} of {} need {}",
         shape_str(src.shape()), index.numel(), dim, shape_str(shape()), shape_str(expected));
  }
  check_in_range(index, lines_of(shape(), dim).extent, dim, "index_copy_");
  return detail::assign_in_place(*this, index_copied(*this, dim, index, src), "index_copy_");
}

}  // namespace tg
