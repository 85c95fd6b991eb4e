#pragma once

// Layers that pad or resize images and sequences, as torch.nn's (1.13): ZeroPad2d,
// ConstantPad1d/2d, ReflectionPad1d/2d, ReplicationPad1d/2d (F::pad in a mode), PixelShuffle and
// PixelUnshuffle (depth to space and back), Upsample and F::interpolate with mode "nearest".
// None has parameters.

#include <tapegrad/nn/module.hpp>

#include <optional>
#include <string>
#include <vector>

namespace tg::nn {

/// F::pad(x, padding, mode, value) over the last `dims` dimensions. The padding is one int for
/// every side, or 2·dims ints (left, right[, top, bottom]) as torch's tuples.
class Pad : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  /// The padding in F::pad's order (last dimension first), as given.
  const std::vector<int64_t>& padding() const { return padding_; }

 protected:
  Pad(const char* name, int64_t dims, std::vector<int64_t> padding, std::string mode, double value);

 private:
  const char* name_;
  int64_t dims_;
  std::vector<int64_t> padding_;
  std::string mode_;
  double value_;
};

#define TAPEGRAD_PAD_LAYER(Name, dims, mode)                                                       \
  class Name : public Pad {                                                                        \
   public:                                                                                         \
    explicit Name(int64_t padding) : Name(std::vector<int64_t>(2 * (dims), padding)) {}            \
    explicit Name(std::vector<int64_t> padding) : Pad(#Name, dims, std::move(padding), mode, 0) {} \
  };
TAPEGRAD_PAD_LAYER(ZeroPad2d, 2, "constant")
TAPEGRAD_PAD_LAYER(ReflectionPad1d, 1, "reflect")
TAPEGRAD_PAD_LAYER(ReflectionPad2d, 2, "reflect")
TAPEGRAD_PAD_LAYER(ReplicationPad1d, 1, "replicate")
TAPEGRAD_PAD_LAYER(ReplicationPad2d, 2, "replicate")
#undef TAPEGRAD_PAD_LAYER

/// Pads with `value`: ConstantPad1d(padding, value), ConstantPad2d(padding, value).
class ConstantPad1d : public Pad {
 public:
  ConstantPad1d(int64_t padding, double value) : ConstantPad1d({padding, padding}, value) {}
  ConstantPad1d(std::vector<int64_t> padding, double value)
      : Pad("ConstantPad1d", 1, std::move(padding), "constant", value) {}
};
class ConstantPad2d : public Pad {
 public:
  ConstantPad2d(int64_t padding, double value)
      : ConstantPad2d({padding, padding, padding, padding}, value) {}
  ConstantPad2d(std::vector<int64_t> padding, double value)
      : Pad("ConstantPad2d", 2, std::move(padding), "constant", value) {}
};

/// [*, C·r², H, W] → [*, C, H·r, W·r]: each group of r² channels becomes an r × r block.
class PixelShuffle : public Module {
 public:
  explicit PixelShuffle(int64_t upscale_factor);
  Tensor forward(const Tensor& x) override;
  int64_t upscale_factor;
};

/// The inverse of PixelShuffle: [*, C, H·r, W·r] → [*, C·r², H, W].
class PixelUnshuffle : public Module {
 public:
  explicit PixelUnshuffle(int64_t downscale_factor);
  Tensor forward(const Tensor& x) override;
  int64_t downscale_factor;
};

/// torch.nn.Upsample with mode "nearest" (the only mode offered): either an output size for the
/// spatial dims or a scale factor for each.
struct UpsampleOptions {
  std::vector<int64_t> size = {};         ///< the output's spatial size, one per spatial dim
  std::vector<double> scale_factor = {};  ///< or one factor per spatial dim (one for all)
  std::string mode = "nearest";
};

class Upsample : public Module {
 public:
  explicit Upsample(UpsampleOptions options);
  Tensor forward(const Tensor& x) override;
  UpsampleOptions options;
};

namespace functional {
/// [*, C·r², H, W] → [*, C, H·r, W·r] (torch.nn.functional.pixel_shuffle).
Tensor pixel_shuffle(const Tensor& x, int64_t upscale_factor);
/// [*, C, H·r, W·r] → [*, C·r², H, W].
Tensor pixel_unshuffle(const Tensor& x, int64_t downscale_factor);
/// Resizes the spatial dims of x [N, C, L], [N, C, H, W] (or [N, C, D, H, W]) to `size`, or by
/// `scale_factor`, with mode "nearest": output index i reads input ⌊i·s⌋ (at most the last),
/// s = 1/scale_factor when given, else in/out, in Float32 as ATen computes it.
Tensor interpolate(const Tensor& x, const std::vector<int64_t>& size,
                   const std::vector<double>& scale_factor = {},
                   const std::string& mode = "nearest");
}  // namespace functional

}  // namespace tg::nn
