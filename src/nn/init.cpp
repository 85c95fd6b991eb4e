#include <tapegrad/autograd.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/nn/init.hpp>
#include <tapegrad/random.hpp>
#include <tapegrad/shape.hpp>

#include "ops/kernels.hpp"

#include <cmath>
#include <vector>

namespace tg::nn::init {
namespace {

struct Fans {
  double in, out;
};

// torch.nn.init._calculate_fan_in_and_fan_out.
Fans fans_of(const Tensor& tensor, const char* op) {
  if (tensor.dim() < 2) {
    fail("{}: fan in and fan out need a tensor of at least 2 dimensions, got shape {}", op,
         shape_str(tensor.shape()));
  }
  double receptive_field = 1;
  for (int64_t d = 2; d < tensor.dim(); ++d) receptive_field *= static_cast<double>(tensor.size(d));
  return {static_cast<double>(tensor.size(1)) * receptive_field,
          static_cast<double>(tensor.size(0)) * receptive_field};
}

double fan_for_mode(const Tensor& tensor, std::string_view mode, const char* op) {
  const Fans fans = fans_of(tensor, op);
  if (mode == "fan_in") return fans.in;
  if (mode == "fan_out") return fans.out;
  fail("{}: mode must be \"fan_in\" or \"fan_out\", got \"{}\"", op, mode);
}

// Writes f(i) into every element (i the flat index), outside the tape.
template <class F>
Tensor& fill_with(Tensor& tensor, const char* op, F f) {
  NoGradGuard no_grad;
  visit_floating(tensor, op, [&]<class T>() {
    T* out = tensor.data<T>();
    for (int64_t i = 0; i < tensor.numel(); ++i) out[i] = static_cast<T>(f(i));
  });
  return tensor;
}

Tensor& uniform_named(Tensor& tensor, double low, double high, const char* op) {
  Generator& generator = default_generator();
  return fill_with(tensor, op, [&](int64_t) { return low + (high - low) * generator.uniform(); });
}

Tensor& normal_named(Tensor& tensor, double mean, double std, const char* op) {
  Generator& generator = default_generator();
  return fill_with(tensor, op, [&](int64_t) { return mean + std * generator.normal(); });
}

// Modified Gram–Schmidt on the rows of a [rows, cols] matrix (rows ≤ cols): orthonormal rows,
// the Q of the transposed matrix's QR with R's diagonal positive — the sign-fixed Q that
// PyTorch's orthogonal_ takes from its Householder QR.
void orthonormalize_rows(std::vector<double>& m, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    double* row = &m[r * cols];
    for (int64_t p = 0; p < r; ++p) {
      const double* previous = &m[p * cols];
      double dot = 0;
      for (int64_t c = 0; c < cols; ++c) dot += row[c] * previous[c];
      for (int64_t c = 0; c < cols; ++c) row[c] -= dot * previous[c];
    }
    double norm = 0;
    for (int64_t c = 0; c < cols; ++c) norm += row[c] * row[c];
    norm = std::sqrt(norm);
    for (int64_t c = 0; c < cols; ++c) row[c] /= norm;
  }
}

}  // namespace

double calculate_gain(std::string_view nonlinearity, std::optional<double> param) {
  for (std::string_view unit : {"linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                                "conv_transpose2d", "conv_transpose3d", "sigmoid", "identity"}) {
    if (nonlinearity == unit) return 1;
  }
  if (nonlinearity == "tanh") return 5.0 / 3;
  if (nonlinearity == "relu") return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu") {
    const double slope = param.value_or(0.01);
    return std::sqrt(2.0 / (1 + slope * slope));
  }
  if (nonlinearity == "selu") return 3.0 / 4;
  fail(
      "calculate_gain: unsupported nonlinearity \"{}\" (expected linear, conv1d, conv2d, "
      "sigmoid, identity, tanh, relu, leaky_relu or selu)",
      nonlinearity);
}

Tensor& uniform_(Tensor& tensor, double low, double high) {
  return uniform_named(tensor, low, high, "uniform_");
}

Tensor& normal_(Tensor& tensor, double mean, double std) {
  return normal_named(tensor, mean, std, "normal_");
}

Tensor& constant_(Tensor& tensor, double value) {
  return fill_with(tensor, "constant_", [&](int64_t) { return value; });
}

Tensor& zeros_(Tensor& tensor) { return constant_(tensor, 0); }

Tensor& ones_(Tensor& tensor) { return constant_(tensor, 1); }

Tensor& eye_(Tensor& tensor) {
  if (tensor.dim() != 2)
    fail("eye_: expected a 2-D tensor, got shape {}", shape_str(tensor.shape()));
  const int64_t cols = tensor.size(1);
  return fill_with(tensor, "eye_", [&](int64_t i) { return i / cols == i % cols ? 1.0 : 0.0; });
}

Tensor& xavier_uniform_(Tensor& tensor, double gain) {
  const Fans fans = fans_of(tensor, "xavier_uniform_");
  const double bound = gain * std::sqrt(6.0 / (fans.in + fans.out));
  return uniform_named(tensor, -bound, bound, "xavier_uniform_");
}

Tensor& xavier_normal_(Tensor& tensor, double gain) {
  const Fans fans = fans_of(tensor, "xavier_normal_");
  return normal_named(tensor, 0, gain * std::sqrt(2.0 / (fans.in + fans.out)), "xavier_normal_");
}

Tensor& kaiming_uniform_(Tensor& tensor, double a, std::string_view mode,
                         std::string_view nonlinearity) {
  const double fan = fan_for_mode(tensor, mode, "kaiming_uniform_");
  const double bound = std::sqrt(3.0) * calculate_gain(nonlinearity, a) / std::sqrt(fan);
  return uniform_named(tensor, -bound, bound, "kaiming_uniform_");
}

Tensor& kaiming_normal_(Tensor& tensor, double a, std::string_view mode,
                        std::string_view nonlinearity) {
  const double fan = fan_for_mode(tensor, mode, "kaiming_normal_");
  return normal_named(tensor, 0, calculate_gain(nonlinearity, a) / std::sqrt(fan),
                      "kaiming_normal_");
}

Tensor& orthogonal_(Tensor& tensor, double gain) {
  if (tensor.dim() < 2) {
    fail("orthogonal_: expected a tensor of at least 2 dimensions, got shape {}",
         shape_str(tensor.shape()));
  }
  const int64_t rows = tensor.size(0), cols = tensor.numel() / std::max<int64_t>(rows, 1);
  // Orthonormalize along the longer side: rows when rows ≤ cols, else columns.
  const bool by_rows = rows <= cols;
  const int64_t count = by_rows ? rows : cols, length = by_rows ? cols : rows;
  std::vector<double> m(static_cast<size_t>(count * length));
  Generator& generator = default_generator();
  for (double& value : m) value = generator.normal();
  orthonormalize_rows(m, count, length);
  return fill_with(tensor, "orthogonal_", [&](int64_t i) {
    const int64_t r = i / cols, c = i % cols;
    return gain * (by_rows ? m[r * cols + c] : m[c * rows + r]);
  });
}

}  // namespace tg::nn::init
