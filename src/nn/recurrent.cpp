#include <tapegrad/autograd.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/nn/functional.hpp>
#include <tapegrad/nn/init.hpp>
#include <tapegrad/nn/recurrent.hpp>
#include <tapegrad/ops.hpp>
#include <tapegrad/shape.hpp>

#include "nn/fused_gru.hpp"
#include "nn/fused_lstm.hpp"
#include "nn/fused_rnn.hpp"

#include <cmath>

namespace tg::nn {

RecurrentBase::RecurrentBase(const char* name, RecurrentKind kind, int64_t input_size,
                             int64_t hidden_size, RNNOptions options)
    : name_(name),
      kind_(kind),
      input_size_(input_size),
      hidden_size_(hidden_size),
      options_(std::move(options)) {
  if (input_size <= 0 || hidden_size <= 0) {
    fail("{}: input_size and hidden_size must be positive, got input_size={} hidden_size={}", name,
         input_size, hidden_size);
  }
  if (options_.num_layers <= 0) {
    fail("{}: num_layers must be positive, got {}", name, options_.num_layers);
  }
  if (!(options_.dropout >= 0 && options_.dropout <= 1)) {
    fail("{}: dropout must be in [0, 1], got {}", name, options_.dropout);
  }
  // PyTorch: every parameter U(−1/√hidden, 1/√hidden), drawn in registration order (layer by
  // layer, forward direction before reverse, w_ih, w_hh, b_ih, b_hh).
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden_size));
  const int64_t rows = detail::gate_count(kind) * hidden_size;
  const int64_t directions = options_.bidirectional ? 2 : 1;
  NoGradGuard no_grad;
  for (int64_t layer = 0; layer < options_.num_layers; ++layer) {
    const int64_t in = layer == 0 ? input_size : directions * hidden_size;
    for (int64_t direction = 0; direction < directions; ++direction) {
      const std::string suffix = "_l" + std::to_string(layer) + (direction == 1 ? "_reverse" : "");
      std::vector<Tensor> group;
      const auto make = [&](const std::string& label, Shape shape) {
        Tensor t = empty(std::move(shape));
        init::uniform_(t, -bound, bound);
        group.push_back(register_parameter(label + suffix, t));
      };
      make("weight_ih", {rows, in});
      make("weight_hh", {rows, hidden_size});
      if (options_.bias) {
        make("bias_ih", {rows});
        make("bias_hh", {rows});
      } else {
        group.resize(4);
      }
      weights_.push_back(std::move(group));
    }
  }
}

Tensor RecurrentBase::run_direction(const Tensor& input, int64_t layer, int64_t direction,
                                    std::vector<Tensor>& state) {
  const int64_t directions = options_.bidirectional ? 2 : 1;
  const std::vector<Tensor>& w = weights_[static_cast<size_t>(layer * directions + direction)];
  const int64_t steps = input.shape()[0];
  const int64_t last = direction == 0 ? steps - 1 : 0;
  // The fused layers: the whole sequence's input projection in one GEMM, then the recurrence
  // as one op (src/nn/fused_rnn.hpp, fused_gru.hpp, fused_lstm.hpp).
  const int64_t rows = input.shape()[1], in = input.shape()[2];
  const int64_t gates = w[0].size(0);  // 4H, 3H or H: explicit, as an empty batch has no −1
  const Tensor gi =
      linear(input.reshape({steps * rows, in}), w[0], w[2]).reshape({steps, rows, gates});
  const bool reverse = direction == 1;
  if (kind_ == RecurrentKind::Lstm) {
    const Tensor states = detail::lstm_layer(gi, state[0], state[1], w[1], w[3], reverse);
    const Tensor output = states.select(0, 0);
    state = {output.select(0, last), states.select(0, 1).select(0, last)};
    return output;
  }
  const Tensor output =
      kind_ == RecurrentKind::Gru
          ? detail::gru_layer(gi, state[0], w[1], w[3], reverse)
          : detail::rnn_layer(gi, state[0], w[1], w[3], kind_ == RecurrentKind::RnnRelu, reverse);
  state = {output.select(0, last)};
  return output;
}

std::vector<Tensor> RecurrentBase::run(const Tensor& x, std::vector<Tensor> state) {
  const bool batched = x.dim() == 3;
  if (x.dim() != 2 && !batched) {
    fail("{}: expected input [T, N, {}] or [T, {}], got {}", name_, input_size_, input_size_,
         shape_str(x.shape()));
  }
  if (x.shape().back() != input_size_) {
    fail("{}: expected input of size {} in the last dimension, got {}", name_, input_size_,
         shape_str(x.shape()));
  }
  require_input_dtype(x, name_);
  // Work in [T, N, in].
  Tensor input = !batched ? x.unsqueeze(1) : options_.batch_first ? x.transpose(0, 1) : x;
  if (input.shape()[0] == 0)
    fail("{}: expected a sequence of length > 0, got {}", name_, shape_str(x.shape()));
  const int64_t directions = options_.bidirectional ? 2 : 1;
  const int64_t layers = options_.num_layers;
  const Shape state_shape{directions * layers, input.shape()[1], hidden_size_};
  for (Tensor& s : state) {
    if (!s.defined()) {
      s = zeros(state_shape, {.dtype = x.dtype()});
      continue;
    }
    const Shape expected = batched ? state_shape : Shape{directions * layers, hidden_size_};
    if (s.shape() != expected) {
      fail("{}: expected hidden state {}, got {}", name_, shape_str(expected),
           shape_str(s.shape()));
    }
    if (!batched) s = s.unsqueeze(1);
  }
  std::vector<std::vector<Tensor>> finals(state.size());
  for (int64_t layer = 0; layer < layers; ++layer) {
    std::vector<Tensor> per_direction;
    for (int64_t direction = 0; direction < directions; ++direction) {
      std::vector<Tensor> s;
      for (const Tensor& whole : state)
        s.push_back(whole.select(0, layer * directions + direction));
      per_direction.push_back(run_direction(input, layer, direction, s));
      for (size_t k = 0; k < s.size(); ++k) finals[k].push_back(s[k]);
    }
    input = directions == 1 ? per_direction[0] : cat(per_direction, -1);
    // PyTorch applies dropout to every layer's output but the last's, in training only.
    if (layer + 1 < layers && options_.dropout > 0 && is_training()) {
      input = F::dropout(input, options_.dropout, true);
    }
  }
  Tensor output = !batched               ? input.squeeze(1)
                  : options_.batch_first ? input.transpose(0, 1)
                                         : input;
  std::vector<Tensor> result{output};
  for (auto& f : finals) {
    const Tensor s = stack(f, 0);
    result.push_back(batched ? s : s.squeeze(1));
  }
  return result;
}

RNN::RNN(int64_t input_size, int64_t hidden_size, RNNOptions options)
    : RecurrentBase("RNN", detail::rnn_kind(options.nonlinearity, "RNN"), input_size, hidden_size,
                    options) {}

RNNOutput RNN::forward(const Tensor& x, const Tensor& h0) {
  std::vector<Tensor> r = run(x, {h0});
  return {r[0], r[1]};
}

LSTM::LSTM(int64_t input_size, int64_t hidden_size, RNNOptions options)
    : RecurrentBase("LSTM", RecurrentKind::Lstm, input_size, hidden_size, std::move(options)) {}

LSTMOutput LSTM::forward(const Tensor& x, const LSTMState& state) {
  std::vector<Tensor> r = run(x, {state.first, state.second});
  return {r[0], {r[1], r[2]}};
}

GRU::GRU(int64_t input_size, int64_t hidden_size, RNNOptions options)
    : RecurrentBase("GRU", RecurrentKind::Gru, input_size, hidden_size, std::move(options)) {}

RNNOutput GRU::forward(const Tensor& x, const Tensor& h0) {
  std::vector<Tensor> r = run(x, {h0});
  return {r[0], r[1]};
}

}  // namespace tg::nn
