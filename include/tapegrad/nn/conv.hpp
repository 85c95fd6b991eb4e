#pragma once

// Conv1d and Conv2d (torch.nn, 1.13): weight [out, in/groups, kH, kW] (Conv1d: [out, in/groups,
// k]) and bias [out], both initialized U(±1/√fan_in), fan_in = in/groups · kH · kW.
// ConvTranspose1d and ConvTranspose2d: weight [in, out/groups, kH, kW] (1-d: [in, out/groups,
// k]) and bias [out], U(±1/√fan_in) with torch's fan_in of that weight, out/groups · kH · kW.

#include <tapegrad/nn/functional.hpp>
#include <tapegrad/nn/module.hpp>

#include <cstdint>

namespace tg::nn {

using functional::ConvOptions;
using functional::ConvTransposeOptions;
using functional::Pair;

class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, Pair kernel_size, ConvOptions options = {});
  /// x [N, in, H, W] or [in, H, W].
  Tensor forward(const Tensor& x) override;

  Tensor weight;  // [out, in/groups, kH, kW]
  Tensor bias;    // [out], undefined when options.bias is false
  int64_t in_channels;
  ConvOptions options;
};

class Conv1d : public Module {
 public:
  Conv1d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, ConvOptions options = {});
  /// x [N, in, L] or [in, L].
  Tensor forward(const Tensor& x) override;

  Tensor weight;  // [out, in/groups, k]
  Tensor bias;    // [out], undefined when options.bias is false
  int64_t in_channels;
  ConvOptions options;
};

class ConvTranspose2d : public Module {
 public:
  ConvTranspose2d(int64_t in_channels, int64_t out_channels, Pair kernel_size,
                  ConvTransposeOptions options = {});
  /// x [N, in, H, W] or [in, H, W].
  Tensor forward(const Tensor& x) override;

  Tensor weight;  // [in, out/groups, kH, kW]
  Tensor bias;    // [out], undefined when options.bias is false
  int64_t in_channels;
  ConvTransposeOptions options;
};

class ConvTranspose1d : public Module {
 public:
  ConvTranspose1d(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
                  ConvTransposeOptions options = {});
  /// x [N, in, L] or [in, L].
  Tensor forward(const Tensor& x) override;

  Tensor weight;  // [in, out/groups, k]
  Tensor bias;    // [out], undefined when options.bias is false
  int64_t in_channels;
  ConvTransposeOptions options;
};

}  // namespace tg::nn
