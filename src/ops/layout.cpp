// Tensor methods that change layout or type: the views of shape (reshape, flatten, unsqueeze,
// squeeze: they share storage), expand, permute and transpose (copies unless the result keeps the
// input's row-major layout), contiguous, to and clone.

#include <tapegrad/autograd.hpp>
#include <tapegrad/ops.hpp>

#include "int64_range.hpp"
#include "ops/kernels.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>
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

// A gradient a backward computed with a view op: it aliases no tensor the user wrote through, so
// it may be written in place (a .grad() that refused zero_() because permute copied it would be
// wrong).
Tensor as_gradient(Tensor g) {
  g.impl().copied_by = nullptr;
  return g;
}

// x's storage seen with another shape of the same elements, made by `op`. A view of a copy that
// a view op made keeps its copied_by: a write through it would still land in that copy.
Tensor shared_view(const Tensor& x, Shape shape, const char* op) {
  Tensor y = share_storage(x, std::move(shape));
  y.impl().viewed_by = op;
  y.impl().copied_by = x.impl().copied_by;
  return y;
}

// shared_view recorded as `op`; the gradient is gy with x's shape again.
Tensor reshaped_view(const Tensor& x, Shape shape, const char* op) {
  return record(op, shared_view(x, std::move(shape), op), {x},
                [original = x.shape()](const Tensor& gy) -> Grads {
                  return {as_gradient(gy.reshape(original))};
                });
}

// out[i][j] = in[i·row_step + j·col_step] for a [rows, cols] block, in 32 × 32 tiles: a transpose
// read row by row would touch a new cache line (and, 1024 floats apart, a new page) per element.
template <class T>
void copy_plane(const T* in, T* out, int64_t rows, int64_t cols, int64_t row_step,
                int64_t col_step) {
  // Rows read in order (col_step 0 or 1: expand, or a permute keeping the last dimension) are
  // copied whole.
  const int64_t tile = col_step == 0 || col_step == 1 ? std::max<int64_t>(cols, 1) : 32;
  for (int64_t i0 = 0; i0 < rows; i0 += tile) {
    for (int64_t j0 = 0; j0 < cols; j0 += tile) {
      const int64_t i1 = std::min(rows, i0 + tile), j1 = std::min(cols, j0 + tile);
      for (int64_t i = i0; i < i1; ++i) {
        for (int64_t j = j0; j < j1; ++j) out[i * cols + j] = in[i * row_step + j * col_step];
      }
    }
  }
}

// A fresh tensor of `out_shape` whose element at multi-index i is x's element at Σ i_k·strides[k]
// (the strides, in elements, walk x): the one loop behind permute, transpose and expand copies.
// It walks the planes of the last two output dimensions and copies each with copy_plane.
Tensor strided_copy(const Tensor& x, Shape out_shape, std::vector<int64_t> strides,
                    const char* op) {
  const Shape requested = out_shape;
  if (out_shape.size() < 2) {  // as one plane of one row
    out_shape.insert(out_shape.begin(), 2 - out_shape.size(), 1);
    strides.insert(strides.begin(), 2 - strides.size(), 0);
  }
  const int64_t rows = out_shape[out_shape.size() - 2], cols = out_shape.back();
  const int64_t row_step = strides[strides.size() - 2], col_step = strides.back();
  out_shape.pop_back();  // the planes are the "rows" of the shape without its last dimension
  strides.pop_back();
  const std::array<std::vector<int64_t>, 1> walk{strides};
  Tensor y = visit_dtype(x.dtype(), [&]<class T>() {
    Tensor out = make_tensor(requested, x.dtype());
    const T* in = x.data<T>();
    T* o = out.data<T>();
    for_each_row(out_shape, walk, [&](int64_t plane, const std::array<int64_t, 1>& offsets) {
      copy_plane(in + offsets[0], o + plane * rows * cols, rows, cols, row_step, col_step);
    });
    return out;
  });
  y.impl().copied_by = op;  // without strides this is a copy: in-place writes must not land here
  return y;
}

// dims normalized, checked to be a permutation of 0 … rank−1.
std::vector<int64_t> checked_permutation(std::vector<int64_t> dims, int64_t rank) {
  const std::vector<int64_t> given = dims;
  if (static_cast<int64_t>(dims.size()) != rank) {
    fail("permute: {} dims given for a {}-d tensor: [{}]", dims.size(), rank,
         fmt::join(given, ", "));
  }
  std::vector<bool> used(static_cast<size_t>(rank), false);
  for (int64_t& d : dims) {
    d = normalize_dim(d, rank, "permute");
    if (used[d]) fail("permute: dimension {} appears twice in [{}]", d, fmt::join(given, ", "));
    used[d] = true;
  }
  return dims;
}

// True when x permuted by dims has x's row-major layout: the dimensions of extent > 1 keep their
// order (or there are no elements), so the permuted tensor can share x's storage.
bool keeps_layout(const Tensor& x, const std::vector<int64_t>& dims) {
  if (x.numel() == 0) return true;
  int64_t last = -1;
  for (int64_t d : dims) {
    if (x.size(d) == 1) continue;
    if (d < last) return false;
    last = d;
  }
  return true;
}

// x with output dimension i taken from input dimension dims[i], made (and named) by `op`.
Tensor permuted(const Tensor& x, const std::vector<int64_t>& dims, const char* op) {
  Shape out_shape(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) out_shape[i] = x.size(dims[i]);
  if (keeps_layout(x, dims)) return shared_view(x, std::move(out_shape), op);
  const std::vector<int64_t> own = contiguous_strides(x.shape());
  std::vector<int64_t> strides(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) strides[i] = own[dims[i]];
  return strided_copy(x, out_shape, strides, op);
}

// The shape x.expand(sizes) has, by torch's rules: new dimensions lead (and cannot be -1), -1
// keeps an extent, and only extents of 1 change.
Shape expanded_shape(const Shape& from, const Shape& sizes) {
  if (sizes.size() < from.size()) {
    fail("expand: {} sizes {} given for a {}-d tensor of shape {}; expected at least {}",
         sizes.size(), shape_str(sizes), from.size(), shape_str(from), from.size());
  }
  const size_t lead = sizes.size() - from.size();
  Shape out(sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) {
    const int64_t extent = i < lead ? -1 : from[i - lead];
    if (sizes[i] == -1 && extent >= 0) {
      out[i] = extent;
    } else if (sizes[i] < 0) {
      fail("expand: invalid size {} at dimension {} of {} (-1 keeps an existing extent only)",
           sizes[i], i, shape_str(sizes));
    } else if (extent >= 0 && extent != 1 && sizes[i] != extent) {
      fail(
          "expand: size {} does not match the extent {} of dimension {} ({} to {}); only extents "
          "of 1 can be expanded",
          sizes[i], extent, i - lead, shape_str(from), shape_str(sizes));
    } else {
      out[i] = sizes[i];
    }
  }
  return out;
}

}  // namespace

Tensor Tensor::reshape(Shape shape) const {
  return reshaped_view(*this, infer_shape(std::move(shape), this->shape(), numel()), "reshape");
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  const int64_t start = normalize_dim(start_dim, dim(), "flatten");
  const int64_t end = normalize_dim(end_dim, dim(), "flatten");
  if (start > end) {
    fail("flatten: start_dim {} comes after end_dim {} for a {}-d tensor", start_dim, end_dim,
         dim());
  }
  if (dim() == 0) return reshaped_view(*this, {1}, "flatten");  // as torch: a 0-d tensor gives [1]
  Shape out(shape().begin(), shape().begin() + start);
  int64_t merged = 1;
  for (int64_t d = start; d <= end; ++d) {
    // Only a zero-size tensor can have extents whose product passes int64.
    if (__builtin_mul_overflow(merged, size(d), &merged)) {
      fail("flatten: dimensions {} to {} of {} hold more elements than an int64 counts", start, end,
           shape_str(shape()));
    }
  }
  out.push_back(merged);
  out.insert(out.end(), shape().begin() + end + 1, shape().end());
  return reshaped_view(*this, std::move(out), "flatten");
}

Tensor Tensor::unsqueeze(int64_t d) const {
  const int64_t rank = dim();
  if (d < -(rank + 1) || d > rank) {
    fail("unsqueeze: dimension {} out of range for a {}-d tensor (expected {} to {})", d, rank,
         -(rank + 1), rank);
  }
  Shape out = shape();
  out.insert(out.begin() + (d < 0 ? d + rank + 1 : d), 1);
  return reshaped_view(*this, std::move(out), "unsqueeze");
}

Tensor Tensor::squeeze() const {
  Shape out;
  for (int64_t extent : shape()) {
    if (extent != 1) out.push_back(extent);
  }
  return reshaped_view(*this, std::move(out), "squeeze");
}

Tensor Tensor::squeeze(int64_t d) const {
  d = normalize_dim(d, dim(), "squeeze");
  Shape out = shape();
  if (dim() > 0 && out[d] == 1) out.erase(out.begin() + d);  // any other extent: a no-op, as torch
  return reshaped_view(*this, std::move(out), "squeeze");
}

Tensor Tensor::expand(Shape sizes) const {
  const Shape target = expanded_shape(shape(), sizes);
  const int64_t count = shape_numel(target);
  // No extent grows (only leading 1s are added) or no elements: the same storage, as a view.
  Tensor y = count == numel() || count == 0
                 ? shared_view(*this, target, "expand")
                 : strided_copy(*this, target, broadcast_strides(shape(), target), "expand");
  return record("expand", y, {*this},
                [original = shape()](const Tensor& gy) -> Grads { return {sum_to(gy, original)}; });
}

Tensor Tensor::permute(std::vector<int64_t> dims) const {
  dims = checked_permutation(std::move(dims), dim());
  std::vector<int64_t> inverse(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) inverse[dims[i]] = static_cast<int64_t>(i);
  return record(
      "permute", permuted(*this, dims, "permute"), {*this},
      [inverse](const Tensor& gy) -> Grads { return {as_gradient(gy.permute(inverse))}; });
}

Tensor Tensor::contiguous() const {
  // PyTorch's contiguous() of a non-contiguous tensor is a copy that aliases nothing, so it may be
  // written; our permute/expand/transpose results are such copies already, refusing writes.
  return impl().copied_by ? clone() : *this;
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  d0 = normalize_dim(d0, dim(), "transpose");
  d1 = normalize_dim(d1, dim(), "transpose");
  std::vector<int64_t> dims(static_cast<size_t>(dim()));
  std::iota(dims.begin(), dims.end(), int64_t{0});
  if (dim() >= 2) std::swap(dims[d0], dims[d1]);
  return record(
      "transpose", permuted(*this, dims, "transpose"), {*this},
      [d0, d1](const Tensor& gy) -> Grads { return {as_gradient(gy.transpose(d0, d1))}; });
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
