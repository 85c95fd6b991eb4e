#pragma once

// MaxPool2d, AvgPool2d (ceil_mode=False, count_include_pad=True) and AdaptiveAvgPool2d, as
// torch.nn's; stride 0 means stride = kernel_size (torch's stride=None).

#include <tapegrad/nn/functional.hpp>
#include <tapegrad/nn/module.hpp>

namespace tg::nn {

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(functional::Pair kernel_size, functional::Pair stride = 0,
                     functional::Pair padding = 0, functional::Pair dilation = 1,
                     bool ceil_mode = false);
  /// MaxPool2d({kH, kW}): a braced kernel alone would otherwise also read as a MaxPool2d(kH, kW)
  /// to copy, an ambiguous call.
  explicit MaxPool2d(const int64_t (&kernel_size)[2], functional::Pair stride = 0,
                     functional::Pair padding = 0, functional::Pair dilation = 1,
                     bool ceil_mode = false)
      : MaxPool2d(functional::Pair(kernel_size[0], kernel_size[1]), stride, padding, dilation,
                  ceil_mode) {}
  Tensor forward(const Tensor& x) override;

  functional::Pair kernel_size, stride, padding, dilation;
  bool ceil_mode;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(functional::Pair kernel_size, functional::Pair stride = 0,
                     functional::Pair padding = 0, bool ceil_mode = false,
                     bool count_include_pad = true);
  /// AvgPool2d({kH, kW}), as MaxPool2d's.
  explicit AvgPool2d(const int64_t (&kernel_size)[2], functional::Pair stride = 0,
                     functional::Pair padding = 0, bool ceil_mode = false,
                     bool count_include_pad = true)
      : AvgPool2d(functional::Pair(kernel_size[0], kernel_size[1]), stride, padding, ceil_mode,
                  count_include_pad) {}
  Tensor forward(const Tensor& x) override;

  functional::Pair kernel_size, stride, padding;
  bool ceil_mode, count_include_pad;
};

class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(functional::Pair output_size);
  Tensor forward(const Tensor& x) override;

  functional::Pair output_size;
};

}  // namespace tg::nn
