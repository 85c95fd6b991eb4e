#include <tapegrad/error.hpp>
#include <tapegrad/shape.hpp>

#include <algorithm>

namespace tg {

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t extent : shape) {
    if (__builtin_mul_overflow(n, extent, &n))
      fail("shape {} has more elements than an int64 can count", shape_str(shape));
  }
  return n;
}

std::vector<int64_t> contiguous_strides(const Shape& shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    // Only a zero-size tensor's strides can pass int64 ([0, 2^40, 2^40]); they address no
    // element, so the product may wrap (as PyTorch's does) but must not overflow into UB.
    __builtin_mul_overflow(stride, shape[i], &stride);
  }
  return strides;
}

std::string shape_str(const Shape& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Align from the right: missing leading dimensions count as 1.
    const int64_t ea = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t eb = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (ea != eb && ea != 1 && eb != 1) {
      fail("{}: shapes cannot be broadcast together: {} and {}", op, shape_str(a), shape_str(b));
    }
    out[i] = ea == 1 ? eb : ea;
  }
  return out;
}

int64_t normalize_dim(int64_t dim, int64_t rank, const char* op) {
  const int64_t lo = rank == 0 ? -1 : -rank;
  const int64_t hi = rank == 0 ? 0 : rank - 1;
  if (dim < lo || dim > hi) {
    fail("{}: dimension {} out of range for a {}-d tensor (expected {} to {})", op, dim, rank, lo,
         hi);
  }
  return dim < 0 ? dim + std::max<int64_t>(rank, 1) : dim;
}

}  // namespace tg
