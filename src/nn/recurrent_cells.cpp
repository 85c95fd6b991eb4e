#include <tapegrad/autograd.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/nn/init.hpp>
#include <tapegrad/nn/recurrent.hpp>
#include <tapegrad/ops.hpp>
#include <tapegrad/shape.hpp>

#include "nn/fused_gru.hpp"

#include <cmath>

namespace tg::nn {

namespace detail {

RecurrentKind rnn_kind(const std::string& nonlinearity, const char* op) {
  if (nonlinearity == "tanh") return RecurrentKind::RnnTanh;
  if (nonlinearity == "relu") return RecurrentKind::RnnRelu;
  fail("{}: nonlinearity must be \"tanh\" or \"relu\", got \"{}\"", op, nonlinearity);
}

int64_t gate_count(RecurrentKind kind) {
  switch (kind) {
    case RecurrentKind::Lstm:
      return 4;
    case RecurrentKind::Gru:
      return 3;
    default:
      return 1;
  }
}

std::vector<Tensor> recurrent_step(RecurrentKind kind, const Tensor& gi,
                                   const std::vector<Tensor>& state, const Tensor& w_hh,
                                   const Tensor& b_hh) {
  const Tensor& h = state[0];
  // One GEMM for all gates of the hidden projection.
  const Tensor gh = linear(h, w_hh, b_hh);
  switch (kind) {
    case RecurrentKind::RnnTanh:
      return {tanh(gi + gh)};
    case RecurrentKind::RnnRelu:
      return {relu(gi + gh)};
    case RecurrentKind::Lstm: {
      const std::vector<Tensor> g = (gi + gh).chunk(4, -1);
      const Tensor c = sigmoid(g[1]) * state[1] + sigmoid(g[0]) * tanh(g[2]);
      return {sigmoid(g[3]) * tanh(c), c};
    }
    case RecurrentKind::Gru:
      return {gru_step(gi, gh, h)};
  }
  fail("recurrent step: unknown kind");
}

}  // namespace detail

RecurrentCellBase::RecurrentCellBase(const char* name, RecurrentKind kind, int64_t input_size,
                                     int64_t hidden_size, bool bias)
    : name_(name), kind_(kind), input_size_(input_size), hidden_size_(hidden_size) {
  if (input_size <= 0 || hidden_size <= 0) {
    fail("{}: input_size and hidden_size must be positive, got input_size={} hidden_size={}", name,
         input_size, hidden_size);
  }
  // PyTorch: every parameter U(−1/√hidden, 1/√hidden), drawn in registration order.
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden_size));
  const int64_t rows = detail::gate_count(kind) * hidden_size;
  NoGradGuard no_grad;
  const auto make = [&](Shape shape) {
    Tensor t = empty(std::move(shape));
    init::uniform_(t, -bound, bound);
    return t;
  };
  weight_ih = make({rows, input_size});
  weight_hh = make({rows, hidden_size});
  if (bias) {
    bias_ih = make({rows});
    bias_hh = make({rows});
  }
  register_parameter("weight_ih", &RecurrentCellBase::weight_ih);
  register_parameter("weight_hh", &RecurrentCellBase::weight_hh);
  register_parameter("bias_ih", &RecurrentCellBase::bias_ih);
  register_parameter("bias_hh", &RecurrentCellBase::bias_hh);
}

std::vector<Tensor> RecurrentCellBase::run(const Tensor& x, std::vector<Tensor> state) {
  const bool batched = x.dim() == 2;
  if (x.dim() != 1 && !batched) {
    fail("{}: expected input [N, {}] or [{}], got {}", name_, input_size_, input_size_,
         shape_str(x.shape()));
  }
  if (x.shape().back() != input_size_) {
    fail("{}: expected input of size {} in the last dimension, got {}", name_, input_size_,
         shape_str(x.shape()));
  }
  require_input_dtype(x, name_);
  const Tensor input = batched ? x : x.unsqueeze(0);
  const Shape state_shape{input.shape()[0], hidden_size_};
  for (Tensor& s : state) {
    if (!s.defined()) {
      s = zeros(state_shape, {.dtype = x.dtype()});
      continue;
    }
    const Shape expected = batched ? state_shape : Shape{hidden_size_};
    if (s.shape() != expected) {
      fail("{}: expected hidden state {}, got {}", name_, shape_str(expected),
           shape_str(s.shape()));
    }
    if (!batched) s = s.unsqueeze(0);
  }
  std::vector<Tensor> next =
      detail::recurrent_step(kind_, linear(input, weight_ih, bias_ih), state, weight_hh, bias_hh);
  if (!batched) {
    for (Tensor& s : next) s = s.squeeze(0);
  }
  return next;
}

RNNCell::RNNCell(int64_t input_size, int64_t hidden_size, bool bias,
                 const std::string& nonlinearity)
    : RecurrentCellBase("RNNCell", detail::rnn_kind(nonlinearity, "RNNCell"), input_size,
                        hidden_size, bias) {}

Tensor RNNCell::forward(const Tensor& x, const Tensor& h) { return run(x, {h})[0]; }
Tensor RNNCell::forward(const Tensor& x) { return run(x, {Tensor()})[0]; }

LSTMCell::LSTMCell(int64_t input_size, int64_t hidden_size, bool bias)
    : RecurrentCellBase("LSTMCell", RecurrentKind::Lstm, input_size, hidden_size, bias) {}

LSTMState LSTMCell::forward(const Tensor& x, const LSTMState& state) {
  std::vector<Tensor> next = run(x, {state.first, state.second});
  return {next[0], next[1]};
}

GRUCell::GRUCell(int64_t input_size, int64_t hidden_size, bool bias)
    : RecurrentCellBase("GRUCell", RecurrentKind::Gru, input_size, hidden_size, bias) {}

Tensor GRUCell::forward(const Tensor& x, const Tensor& h) { return run(x, {h})[0]; }
Tensor GRUCell::forward(const Tensor& x) { return run(x, {Tensor()})[0]; }

}  // namespace tg::nn
