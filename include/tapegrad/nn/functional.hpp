#pragma once

// tg::nn::functional (alias tg::nn::F): the layers' computations as functions, with PyTorch's
// formulas, defaults and gradient conventions (torch.nn.functional, 1.13).

#include <tapegrad/tensor.hpp>

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tg::nn::functional {

/// x where x > 0, else negative_slope·x.
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
/// x where x > 0, else alpha·(eˣ − 1).
Tensor elu(const Tensor& x, double alpha = 1);
/// x·Φ(x) ("none", with erf) or its tanh approximation ("tanh").
Tensor gelu(const Tensor& x, std::string_view approximate = "none");
/// x·σ(x).
Tensor silu(const Tensor& x);
/// log(1 + e^(βx))/β, and x itself where βx > threshold.
Tensor softplus(const Tensor& x, double beta = 1, double threshold = 20);
/// x limited to [min_val, max_val]; the gradient is 0 at and beyond the bounds.
Tensor hardtanh(const Tensor& x, double min_val = -1, double max_val = 1);
/// x·tanh(softplus(x)).
Tensor mish(const Tensor& x);
/// max(x, 0).
Tensor relu(const Tensor& x);
/// tanh(x).
Tensor tanh(const Tensor& x);
/// 1 / (1 + e⁻ˣ).
Tensor sigmoid(const Tensor& x);
/// Softmax along dim.
Tensor softmax(const Tensor& x, int64_t dim);
/// Log-softmax along dim.
Tensor log_softmax(const Tensor& x, int64_t dim);
/// In training, zeroes each element with probability p and scales the rest by 1/(1 − p)
/// (draws from the default generator); otherwise x itself.
Tensor dropout(const Tensor& x, double p = 0.5, bool training = true);
/// Int64 class indices → Int64 one-hot rows with num_classes columns (−1: max index + 1).
Tensor one_hot(const Tensor& index, int64_t num_classes = -1);

/// Rows of weight [num, dim] picked by the Int64 index: shape index.shape() + [dim]. The row
/// padding_idx (if given) is looked up but receives no gradient.
Tensor embedding(const Tensor& index, const Tensor& weight,
                 std::optional<int64_t> padding_idx = std::nullopt);
/// Normalizes each sample over its trailing dimensions normalized_shape (biased variance),
/// then scales by weight and shifts by bias (either may be undefined).
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = {},
                  const Tensor& bias = {}, double eps = 1e-5);
/// Normalizes each channel of x [N, C, …]: with the batch's statistics when training (and
/// then updates running_mean/running_var in place, momentum nullopt meaning a cumulative
/// average — pass 1/n for the n-th batch), else with the running ones. Undefined running
/// statistics always use the batch's.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight = {}, const Tensor& bias = {}, bool training = false,
                  std::optional<double> momentum = 0.1, double eps = 1e-5);
/// Normalizes each group of num_groups consecutive channels of each sample of x [N, C, …] over
/// its channels and positions (biased variance), then scales and shifts each channel by weight
/// and bias [C] (either may be undefined). C must be a multiple of num_groups.
Tensor group_norm(const Tensor& x, int64_t num_groups, const Tensor& weight = {},
                  const Tensor& bias = {}, double eps = 1e-5);
/// Normalizes each channel of each sample of x [N, C, L…] over its positions. With
/// use_input_stats false, the running statistics [C] are used instead; with it true and running
/// statistics given, they move towards the mean over the batch of each sample's mean and
/// unbiased variance (torch's update). weight and bias [C], either may be undefined.
Tensor instance_norm(const Tensor& x, const Tensor& running_mean = {},
                     const Tensor& running_var = {}, const Tensor& weight = {},
                     const Tensor& bias = {}, bool use_input_stats = true, double momentum = 0.1,
                     double eps = 1e-5);
/// An int or a braced pair {h, w}: the kernel size, stride, padding or dilation of a 2-d layer.
struct Pair {
  Pair(int64_t both) : h(both), w(both) {}  // NOLINT: implicit, so `.stride = 2` reads as torch
  Pair(int64_t height, int64_t width) : h(height), w(width) {}
  int64_t h, w;
};

/// A convolution's padding: an int, a braced pair {h, w}, or torch's strings "valid" (none) and
/// "same" (the output as large as the input, stride 1 only; an odd total goes to the end).
struct ConvPadding : Pair {
  // A template, so a literal 0 is an int here and not a null `const char*`.
  template <std::integral Int>
  ConvPadding(Int both) : Pair(static_cast<int64_t>(both)) {}  // NOLINT: `.padding = 1` as torch
  ConvPadding(int64_t height, int64_t width) : Pair(height, width) {}
  ConvPadding(Pair pair) : Pair(pair) {}  // NOLINT: implicit, a Pair is a padding
  ConvPadding(const char* name);          // NOLINT: implicit, so `.padding = "same"` reads as torch
  ConvPadding(const std::string& name) : ConvPadding(name.c_str()) {}  // NOLINT: as above
  bool same = false;
};

/// torch.nn.Conv2d's keyword arguments, in its order (`bias` is used by the modules only).
/// padding_mode is "zeros", "reflect", "replicate" or "circular": the input is padded that way
/// (as F::pad) before a convolution without padding.
struct ConvOptions {
  Pair stride = 1;
  ConvPadding padding = 0;
  Pair dilation = 1;
  int64_t groups = 1;
  bool bias = true;
  std::string padding_mode = "zeros";
};

/// 2-d cross-correlation of x [N, C, H, W] (or [C, H, W]) with weight [O, C/groups, kH, kW] plus
/// bias [O]; out [N, O, H_out, W_out], H_out = ⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {},
              const ConvOptions& options = {});
/// 1-d cross-correlation of x [N, C, L] (or [C, L]) with weight [O, C/groups, k]; the options'
/// pairs must hold one number each.
Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias = {},
              const ConvOptions& options = {});
/// torch.nn.ConvTranspose2d's keyword arguments, in its order (`bias` is used by the modules
/// only; the padding mode is always zeros, as torch allows no other).
struct ConvTransposeOptions {
  Pair stride = 1;
  Pair padding = 0;
  Pair output_padding = 0;
  int64_t groups = 1;
  bool bias = true;
  Pair dilation = 1;
};

/// The transposed convolution (the adjoint of conv2d, sometimes called deconvolution) of x
/// [N, C, H, W] (or [C, H, W]) with weight [C, O/groups, kH, kW] plus bias [O]: out
/// [N, O, H_out, W_out], H_out = (H − 1)·s − 2p + d(k − 1) + output_padding + 1, where
/// output_padding (smaller than the stride or the dilation) picks among the sizes a stride-s
/// conv2d maps to H.
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {},
                        const ConvTransposeOptions& options = {});
/// The same in 1-d: x [N, C, L] (or [C, L]), weight [C, O/groups, k]; the options' pairs must
/// hold one number each.
Tensor conv_transpose1d(const Tensor& x, const Tensor& weight, const Tensor& bias = {},
                        const ConvTransposeOptions& options = {});
/// Largest value of each window (padding counts as −inf; the gradient goes to the first maximum,
/// or the last NaN). stride 0 (the default) means stride = kernel_size, as torch's stride=None;
/// the window reads every dilation-th entry; with ceil_mode the output size rounds up (a last
/// window that starts inside the input or its left padding is kept, clipped). torch's
/// positional order.
Tensor max_pool2d(const Tensor& x, Pair kernel_size, Pair stride = 0, Pair padding = 0,
                  Pair dilation = 1, bool ceil_mode = false);
/// Mean of each window: the sum over the window divided by its size clipped to the padded input
/// (count_include_pad, torch's default) or to the input itself; ceil_mode as in max_pool2d.
/// torch's positional order.
Tensor avg_pool2d(const Tensor& x, Pair kernel_size, Pair stride = 0, Pair padding = 0,
                  bool ceil_mode = false, bool count_include_pad = true);
/// Mean over the windows [⌊i·In/Out⌋, ⌈(i+1)·In/Out⌉) of the last two dims.
Tensor adaptive_avg_pool2d(const Tensor& x, Pair output_size);
/// x padded with `value`: pad = {left, right, top, bottom, …} for the last dim, the one before,
/// …; a negative amount crops (torch's constant mode).
Tensor pad(const Tensor& x, const std::vector<int64_t>& pad, double value = 0);
/// x padded in torch's `mode`: "constant" (with `value`), "reflect" (mirrored about the edge,
/// which is not repeated; each amount below the dim's size), "replicate" (the edge repeated) or
/// "circular" (wrapped around; each amount at most the dim's size).
Tensor pad(const Tensor& x, const std::vector<int64_t>& pad, const std::string& mode,
           double value = 0);

}  // namespace tg::nn::functional

namespace tg::nn {
namespace F = functional;
}  // namespace tg::nn
