#pragma once

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tg {

/// Element types: Float32 is the working type, Float64 checks gradients, Int64 holds labels,
/// Bool holds masks (one byte per element, 0 or 1).
enum class Dtype { Float32, Float64, Int64, Bool };

/// The dtype's name as printed in messages ("Float32").
std::string_view dtype_name(Dtype dtype);
/// Bytes per element.
std::size_t dtype_size(Dtype dtype);
/// True for Float32 and Float64, the dtypes that can carry gradients.
bool is_floating(Dtype dtype);

/// The dtype that stores elements of C++ type T.
template <class T>
constexpr Dtype dtype_of();
template <>
constexpr Dtype dtype_of<float>() {
  return Dtype::Float32;
}
template <>
constexpr Dtype dtype_of<double>() {
  return Dtype::Float64;
}
template <>
constexpr Dtype dtype_of<int64_t>() {
  return Dtype::Int64;
}
template <>
constexpr Dtype dtype_of<bool>() {
  return Dtype::Bool;
}

}  // namespace tg

template <>
struct fmt::formatter<tg::Dtype> : fmt::formatter<std::string_view> {
  auto format(tg::Dtype dtype, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(tg::dtype_name(dtype), ctx);
  }
};
