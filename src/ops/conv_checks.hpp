#pragma once

// The checks conv2d and conv_transpose2d share, with torch's wording (implemented in conv.cpp).

#include <tapegrad/nn/functional.hpp>
#include <tapegrad/tensor.hpp>

#include <cstdint>

namespace tg::nn::conv_checks {

/// A positive stride and dilation, a non-negative padding and positive groups, or a tg::Error
/// naming `op`.
void check_window(functional::Pair stride, functional::Pair padding, functional::Pair dilation,
                  int64_t groups, const char* op);

/// A floating 4-d weight of x's dtype whose first dim groups divide, and a 4-d x.
void check_ranks(const Tensor& x, const Tensor& weight, int64_t groups, const char* op);

/// A 1-d layer's option: one number (h = w, as an int gives), else a tg::Error naming `op`.
int64_t single(functional::Pair option, const char* what, const char* op);

}  // namespace tg::nn::conv_checks
