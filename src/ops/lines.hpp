#pragma once

// The shapes an op along one dimension works with: a tensor seen as [outer, extent, inner]
// around `dim` (already normalized), and the result shapes of reducing that dim.

#include <tapegrad/shape.hpp>

#include <cstdint>

namespace tg {

/// A shape viewed as [outer, extent of dim, inner]; a 0-d shape is one element, as in PyTorch.
struct Lines {
  int64_t outer = 1, extent = 1, inner = 1;
  /// The row-major position of element (o, k, i).
  int64_t at(int64_t o, int64_t k, int64_t i) const { return (o * extent + k) * inner + i; }
};

inline Lines lines_along(const Shape& shape, int64_t dim) {
  Lines lines;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    if (d < dim) lines.outer *= shape[d];
    if (d == dim) lines.extent = shape[d];
    if (d > dim) lines.inner *= shape[d];
  }
  return lines;
}

/// The shape of a reduction over dim with keepdim: that extent becomes 1 (0-d stays 0-d).
inline Shape keepdim_shape(Shape shape, int64_t dim) {
  if (!shape.empty()) shape[dim] = 1;
  return shape;
}

/// The shape of a reduction over dim without keepdim: that dimension is removed.
inline Shape removed_dim_shape(Shape shape, int64_t dim) {
  if (!shape.empty()) shape.erase(shape.begin() + dim);
  return shape;
}

}  // namespace tg
