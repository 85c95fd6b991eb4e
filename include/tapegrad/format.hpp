#pragma once

#include <tapegrad/tensor.hpp>

#include <fmt/format.h>

#include <ostream>
#include <string>

namespace tg {

/// PyTorch-style text: values (elided with "..." past 1000 elements), shape, dtype, requires_grad.
std::string to_string(const Tensor& tensor);
std::ostream& operator<<(std::ostream& out, const Tensor& tensor);

}  // namespace tg

template <>
struct fmt::formatter<tg::Tensor> : fmt::formatter<std::string_view> {
  auto format(const tg::Tensor& tensor, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(tg::to_string(tensor), ctx);
  }
};
