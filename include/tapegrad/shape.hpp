#pragma once

#include <fmt/ranges.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tg {

/// A tensor's extent in each dimension, outermost first.
using Shape = std::vector<int64_t>;

/// Number of elements a tensor of this shape holds (1 for a 0-d scalar).
int64_t shape_numel(const Shape& shape);
/// Row-major strides, in elements, of a contiguous tensor of this shape.
std::vector<int64_t> contiguous_strides(const Shape& shape);
/// "[2, 3]", the way shapes appear in error messages.
std::string shape_str(const Shape& shape);
/// NumPy broadcasting of two shapes; `op` names the caller in the error when they don't broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
/// Maps a possibly negative dimension index into [0, rank); `op` names the caller in the error.
int64_t normalize_dim(int64_t dim, int64_t rank, const char* op);

}  // namespace tg
