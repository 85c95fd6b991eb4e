#pragma once

// How a convolution's options pad its input, shared by the op (conv.cpp, which implements it),
// the modules' early checks and the ONNX exporter.

#include <tapegrad/nn/functional.hpp>

#include <cstdint>

namespace tg::nn::conv_padding {

/// A known padding_mode, and stride 1 with padding="same", or a tg::Error naming `op`.
void check(const functional::ConvOptions& options, const char* op);

/// The padding before and after each spatial dim (torch's "same": ⌊d(k − 1)/2⌋ before, the
/// rest after).
struct Sides {
  int64_t top, bottom, left, right;
};
Sides sides(const functional::ConvOptions& options, int64_t kernel_h, int64_t kernel_w);

}  // namespace tg::nn::conv_padding
