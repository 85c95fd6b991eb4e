#pragma once

// tg::nn::init: torch.nn.init (1.13). Each function fills `tensor` in place without recording
// on the tape, draws from the default generator, and returns the tensor. The fan rules are
// PyTorch's: for a weight [out, in, k…], fan_in = in·∏k and fan_out = out·∏k.

#include <tapegrad/tensor.hpp>

#include <optional>
#include <string_view>

namespace tg::nn::init {

/// The recommended gain for a nonlinearity: 1 for "linear", "conv1d", "conv2d", "sigmoid",
/// "identity"; 5/3 for "tanh"; √2 for "relu"; √(2/(1 + slope²)) for "leaky_relu" (slope
/// `param`, default 0.01); 3/4 for "selu".
double calculate_gain(std::string_view nonlinearity, std::optional<double> param = {});

/// Draws from U(low, high).
Tensor& uniform_(Tensor& tensor, double low = 0, double high = 1);
/// Draws from N(mean, std²).
Tensor& normal_(Tensor& tensor, double mean = 0, double std = 1);
/// Sets every element to value.
Tensor& constant_(Tensor& tensor, double value);
Tensor& zeros_(Tensor& tensor);
Tensor& ones_(Tensor& tensor);
/// The identity matrix (a 2-D tensor; ones on the diagonal of a non-square one).
Tensor& eye_(Tensor& tensor);
/// U(±gain·√(6/(fan_in + fan_out))) (Glorot and Bengio, 2010).
Tensor& xavier_uniform_(Tensor& tensor, double gain = 1);
/// N(0, gain²·2/(fan_in + fan_out)).
Tensor& xavier_normal_(Tensor& tensor, double gain = 1);
/// U(±√3·gain/√fan) with fan = fan_in or fan_out (`mode` "fan_in" keeps the forward pass's
/// variance, "fan_out" the backward's) and gain = calculate_gain(nonlinearity, a) (He et al.,
/// 2015).
Tensor& kaiming_uniform_(Tensor& tensor, double a = 0, std::string_view mode = "fan_in",
                         std::string_view nonlinearity = "leaky_relu");
/// N(0, gain²/fan) with gain = calculate_gain(nonlinearity, a).
Tensor& kaiming_normal_(Tensor& tensor, double a = 0, std::string_view mode = "fan_in",
                        std::string_view nonlinearity = "leaky_relu");
/// A (semi-)orthogonal matrix times gain: the Q of a Gaussian matrix's QR decomposition with
/// R's diagonal made positive, over the tensor flattened to [size(0), numel / size(0)].
Tensor& orthogonal_(Tensor& tensor, double gain = 1);

}  // namespace tg::nn::init
