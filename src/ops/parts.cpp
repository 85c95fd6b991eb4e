// Parts of a tensor along one dimension (narrow, select, chunk, split) and their inverse, joining
// (cat, stack). A part shares its input's storage when it is contiguous in it (every dimension
// before `dim` has extent 1, or the part is all of `dim`), and is otherwise a copy that refuses
// in-place writes. Each one's gradient is built from the other, so both are twice differentiable.

#include <tapegrad/autograd.hpp>
#include <tapegrad/ops.hpp>

#include "ops/kernels.hpp"

#include <cstring>

namespace tg {
namespace {

// A gradient computed with a part op aliases no tensor the user wrote through, so it may be
// written in place (see layout.cpp).
Tensor as_gradient(Tensor g) {
  g.impl().copied_by = nullptr;
  return g;
}

// Product of the extents of dims [begin, end) of shape.
int64_t extent_product(const Shape& shape, int64_t begin, int64_t end) {
  int64_t product = 1;
  for (int64_t d = begin; d < end; ++d) product *= shape[d];
  return product;
}

// Elements start … start+length−1 of x along dim (already checked), made by `op`, with dim kept or
// removed (select). Storage is shared when the part is one contiguous block of x's.
Tensor part_of(const Tensor& x, int64_t dim, int64_t start, int64_t length, bool keep_dim,
               const char* op) {
  Shape out_shape = x.shape();
  out_shape[dim] = length;
  const int64_t count = shape_numel(out_shape);  // x holds these elements: no overflow below
  if (!keep_dim) out_shape.erase(out_shape.begin() + dim);
  const int64_t outer = count == 0 ? 0 : extent_product(x.shape(), 0, dim);
  const int64_t inner = count == 0 ? 0 : extent_product(x.shape(), dim + 1, x.dim());
  if (outer <= 1 || length == x.size(dim)) {
    Tensor y = share_storage(x, std::move(out_shape), start * inner);
    y.impl().viewed_by = op;
    y.impl().copied_by = x.impl().copied_by;  // a view of a copy: writes would still be lost
    return y;
  }
  Tensor y = make_tensor(std::move(out_shape), x.dtype());
  const size_t item = dtype_size(x.dtype());
  const size_t block = static_cast<size_t>(length * inner) * item;
  const size_t row = static_cast<size_t>(x.size(dim) * inner) * item;
  const char* in =
      static_cast<const char*>(x.raw_data()) + static_cast<size_t>(start * inner) * item;
  char* out = static_cast<char*>(y.raw_data());
  for (int64_t o = 0; o < outer; ++o) std::memcpy(out + o * block, in + o * row, block);
  y.impl().copied_by = op;  // a copy: an in-place write would not reach x
  return y;
}

// gy put at start … start+size−1 of dim in zeros of `shape`: the gradient of a part. Built with
// cat, so it is differentiable again (its gradient is the part of the incoming gradient).
Tensor embed(const Tensor& gy, const Shape& shape, int64_t dim, int64_t start) {
  Shape before = shape, after = shape;
  before[dim] = start;
  after[dim] = shape[dim] - start - gy.size(dim);
  if (before[dim] == 0 && after[dim] == 0) return gy;
  std::vector<Tensor> pieces;
  if (before[dim] > 0) pieces.push_back(zeros(before, {.dtype = gy.dtype()}));
  pieces.push_back(gy);
  if (after[dim] > 0) pieces.push_back(zeros(after, {.dtype = gy.dtype()}));
  return cat(pieces, dim);
}

// part_of recorded as `op`, with embed as its backward.
Tensor recorded_part(const Tensor& x, int64_t dim, int64_t start, int64_t length, bool keep_dim,
                     const char* op) {
  return record(op, part_of(x, dim, start, length, keep_dim, op), {x},
                [shape = x.shape(), dim, start, keep_dim](const Tensor& gy) -> Grads {
                  return {embed(keep_dim ? gy : gy.unsqueeze(dim), shape, dim, start)};
                });
}

// Throws unless x has a dimension to take parts of; returns dim normalized.
int64_t part_dim(const Tensor& x, int64_t dim, const char* op) {
  if (x.dim() == 0) fail("{}: cannot be applied to a 0-d tensor", op);
  return normalize_dim(dim, x.dim(), op);
}

// x cut along dim into parts of `size` (the last one smaller), as torch.split: a dimension of
// extent 0 gives one empty part.
std::vector<Tensor> split_parts(const Tensor& x, int64_t dim, int64_t size, const char* op) {
  const int64_t extent = x.size(dim);
  const int64_t count = size == 0 ? 1 : std::max<int64_t>(extent / size + (extent % size != 0), 1);
  std::vector<Tensor> parts;
  parts.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    const int64_t start = i * size;
    parts.push_back(recorded_part(x, dim, start, std::min(size, extent - start), true, op));
  }
  return parts;
}

}  // namespace

Tensor Tensor::narrow(int64_t dim, int64_t start, int64_t length) const {
  dim = part_dim(*this, dim, "narrow");
  const int64_t extent = size(dim);
  if (start < -extent || start > extent) {
    fail("narrow: start {} out of range for dimension {} of size {} (expected {} to {})", start,
         dim, extent, -extent, extent);
  }
  if (start < 0) start += extent;
  if (length < 0 || start > extent - length) {
    fail("narrow: start {} + length {} exceeds the size {} of dimension {} of {}", start, length,
         extent, dim, shape_str(shape()));
  }
  return recorded_part(*this, dim, start, length, true, "narrow");
}

Tensor Tensor::select(int64_t dim, int64_t index) const {
  dim = part_dim(*this, dim, "select");
  const int64_t extent = size(dim);
  if (index < -extent || index >= extent) {
    fail("select: index {} out of range for dimension {} of size {} of {}", index, dim, extent,
         shape_str(shape()));
  }
  return recorded_part(*this, dim, index < 0 ? index + extent : index, 1, false, "select");
}

std::vector<Tensor> Tensor::chunk(int64_t n, int64_t dim) const {
  dim = part_dim(*this, dim, "chunk");
  if (n <= 0) fail("chunk: the number of chunks must be positive, got {}", n);
  const int64_t extent = size(dim);
  if (extent > 0) return split_parts(*this, dim, extent / n + (extent % n != 0), "chunk");
  // torch.chunk of an empty dimension gives n empty parts, not split's one.
  std::vector<Tensor> parts;
  for (int64_t i = 0; i < n; ++i) parts.push_back(recorded_part(*this, dim, 0, 0, true, "chunk"));
  return parts;
}

std::vector<Tensor> Tensor::split(int64_t size, int64_t dim) const {
  dim = part_dim(*this, dim, "split");
  if (size < 0 || (size == 0 && this->size(dim) != 0)) {
    fail(
        "split: split_size {} is invalid for dimension {} of size {} (positive, or 0 when the "
        "size is 0)",
        size, dim, this->size(dim));
  }
  return split_parts(*this, dim, size, "split");
}

namespace {

// PyTorch 1.13 leaves 1-D tensors of shape [0] out of cat whatever their dtype and dim (a rule
// kept for old code that starts from an empty tensor).
bool skipped_by_cat(const Tensor& t) { return t.dim() == 1 && t.size(0) == 0; }

// Throws unless t can join `first` along dim: same dtype, same extents elsewhere.
void check_joinable(const Tensor& first, const Tensor& t, size_t k, int64_t dim) {
  if (t.dtype() != first.dtype()) {
    fail("cat: dtypes differ: {} {} and {} {} (tensor {})", first.dtype(), shape_str(first.shape()),
         t.dtype(), shape_str(t.shape()), k);
  }
  bool same = t.dim() == first.dim();
  for (int64_t d = 0; same && d < t.dim(); ++d) same = d == dim || t.size(d) == first.size(d);
  if (!same) {
    fail("cat: shapes differ outside dimension {}: {} and {} (tensor {})", dim,
         shape_str(first.shape()), shape_str(t.shape()), k);
  }
}

// The joined tensor: for each index of the dims before dim, every input's block in turn.
Tensor joined(const std::vector<Tensor>& kept, int64_t dim, Shape out_shape) {
  Tensor y = make_tensor(out_shape, kept[0].dtype());
  if (y.numel() == 0) return y;
  const size_t item = dtype_size(y.dtype());
  const int64_t outer = extent_product(out_shape, 0, dim);
  const int64_t inner = extent_product(out_shape, dim + 1, y.dim());
  const size_t row = static_cast<size_t>(out_shape[dim] * inner) * item;
  char* out = static_cast<char*>(y.raw_data());
  size_t column = 0;  // bytes from a row's start to the current input's block
  for (const Tensor& t : kept) {
    const size_t block = static_cast<size_t>(t.size(dim) * inner) * item;
    const char* in = static_cast<const char*>(t.raw_data());
    for (int64_t o = 0; o < outer; ++o) std::memcpy(out + o * row + column, in + o * block, block);
    column += block;
  }
  return y;
}

// Where cat puts each input along dim (start −1 for one it leaves out), and the joined shape.
struct Placement {
  Shape out_shape;
  std::vector<int64_t> starts, lengths;
};
Placement place(const std::vector<Tensor>& tensors, const Tensor& first, int64_t dim) {
  Placement placement{first.shape(), {}, {}};
  int64_t& total = placement.out_shape[dim];
  total = 0;
  for (size_t k = 0; k < tensors.size(); ++k) {
    const Tensor& t = tensors[k];
    if (skipped_by_cat(t)) {
      placement.starts.push_back(-1);
      placement.lengths.push_back(0);
      continue;
    }
    check_joinable(first, t, k, dim);
    placement.starts.push_back(total);
    placement.lengths.push_back(t.size(dim));
    if (__builtin_add_overflow(total, t.size(dim), &total)) {
      fail("cat: the extents along dimension {} add up to more than an int64 holds", dim);
    }
  }
  return placement;
}

}  // namespace

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  if (tensors.empty()) fail("cat: expected a non-empty list of tensors");
  std::vector<Tensor> kept;
  for (const Tensor& t : tensors) {
    if (!skipped_by_cat(t)) kept.push_back(t);
  }
  if (kept.empty()) {  // all [0]: torch gives [0]
    return record("cat", zeros({0}, {.dtype = tensors[0].dtype()}), tensors,
                  [n = tensors.size()](const Tensor& gy) -> Grads { return Grads(n, gy); });
  }
  if (kept[0].dim() == 0) fail("cat: a 0-d tensor cannot be concatenated");
  dim = normalize_dim(dim, kept[0].dim(), "cat");
  const Placement placement = place(tensors, kept[0], dim);
  return record("cat", joined(kept, dim, placement.out_shape), tensors,
                [dim, placement, dtype = kept[0].dtype()](const Tensor& gy) -> Grads {
                  Grads grads;
                  for (size_t k = 0; k < placement.starts.size(); ++k) {
                    const int64_t start = placement.starts[k], length = placement.lengths[k];
                    grads.push_back(start < 0 ? zeros({0}, {.dtype = dtype})
                                              : as_gradient(gy.narrow(dim, start, length)));
                  }
                  return grads;
                });
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  if (tensors.empty()) fail("stack: expected a non-empty list of tensors");
  const Tensor& first = tensors[0];
  for (size_t k = 1; k < tensors.size(); ++k) {
    if (tensors[k].shape() != first.shape() || tensors[k].dtype() != first.dtype()) {
      fail(
          "stack: every tensor must have the same shape and dtype, but tensor 0 is {} {} and "
          "tensor {} is {} {}",
          first.dtype(), shape_str(first.shape()), k, tensors[k].dtype(),
          shape_str(tensors[k].shape()));
    }
  }
  const int64_t rank = first.dim();
  if (dim < -(rank + 1) || dim > rank) {
    fail("stack: dimension {} out of range for {}-d tensors (expected {} to {})", dim, rank,
         -(rank + 1), rank);
  }
  std::vector<Tensor> parts;
  parts.reserve(tensors.size());
  for (const Tensor& t : tensors) parts.push_back(t.unsqueeze(dim));
  return cat(parts, dim);
}

}  // namespace tg
