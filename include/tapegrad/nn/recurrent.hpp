#pragma once

// Recurrent layers with PyTorch 1.13's semantics and parameter names: the cells RNNCell,
// LSTMCell, GRUCell (one time step) and the sequence layers RNN, LSTM, GRU (num_layers,
// bidirectional, batch_first, dropout between layers). The GRU and LSTM layers run each
// direction as one fused op (src/nn/fused_*.cpp) that keeps its composed form for double
// backward; the cells and the plain RNN are built from differentiable tensor ops.

#include <tapegrad/nn/module.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tg::nn {

/// An LSTM's (h, c); structured binding works: `auto [h, c] = cell.forward(x, {h0, c0});`.
using LSTMState = std::pair<Tensor, Tensor>;
/// RNN/GRU::forward's {output, h_n}.
using RNNOutput = std::pair<Tensor, Tensor>;
/// LSTM::forward's {output, {h_n, c_n}}.
using LSTMOutput = std::pair<Tensor, LSTMState>;

/// What a step computes; the gates are stacked in PyTorch's order (LSTM i, f, g, o; GRU r, z, n).
enum class RecurrentKind { RnnTanh, RnnRelu, Lstm, Gru };

namespace detail {
/// The RNN nonlinearity "tanh" or "relu" as a kind (`op` names the layer in the error).
RecurrentKind rnn_kind(const std::string& nonlinearity, const char* op);
/// Number of stacked gates: 1, 4 or 3.
int64_t gate_count(RecurrentKind kind);
/// One step from the input projection gi = x W_ihᵀ + b_ih ([N, G·hidden]) and the state
/// {h} or {h, c}; returns the new state.
std::vector<Tensor> recurrent_step(RecurrentKind kind, const Tensor& gi,
                                   const std::vector<Tensor>& state, const Tensor& w_hh,
                                   const Tensor& b_hh);
}  // namespace detail

/// Shared by the three cells: the parameters weight_ih [G·hidden, in], weight_hh
/// [G·hidden, hidden], bias_ih, bias_hh [G·hidden], all U(−1/√hidden, 1/√hidden).
class RecurrentCellBase : public Module {
 public:
  int64_t input_size() const { return input_size_; }
  int64_t hidden_size() const { return hidden_size_; }

  Tensor weight_ih, weight_hh, bias_ih, bias_hh;  // biases undefined when bias = false

 protected:
  RecurrentCellBase(const char* name, RecurrentKind kind, int64_t input_size, int64_t hidden_size,
                    bool bias);
  /// Checks shapes, adds the batch dimension of an unbatched input, zero-fills missing states.
  std::vector<Tensor> run(const Tensor& x, std::vector<Tensor> state);

 private:
  const char* name_;
  RecurrentKind kind_;
  int64_t input_size_, hidden_size_;
};

/// h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) (or relu).
class RNNCell : public RecurrentCellBase {
 public:
  RNNCell(int64_t input_size, int64_t hidden_size, bool bias = true,
          const std::string& nonlinearity = "tanh");
  /// x [N, input_size] or [input_size], h [N, hidden_size] (or [hidden_size]) → h'.
  Tensor forward(const Tensor& x, const Tensor& h);
  /// With h = 0.
  Tensor forward(const Tensor& x) override;
};

/// i, f, g, o = σ, σ, tanh, σ of (x W_ihᵀ + b_ih + h W_hhᵀ + b_hh); c' = f c + i g;
/// h' = o tanh(c').
class LSTMCell : public RecurrentCellBase {
 public:
  LSTMCell(int64_t input_size, int64_t hidden_size, bool bias = true);
  /// {h', c'}; an undefined (default) state is zeros.
  LSTMState forward(const Tensor& x, const LSTMState& state = {});
};

/// r, z = σ(W_i{r,z} x + b_i{r,z} + W_h{r,z} h + b_h{r,z}); n = tanh(W_in x + b_in + r (W_hn h +
/// b_hn)); h' = (1 − z) n + z h.
class GRUCell : public RecurrentCellBase {
 public:
  GRUCell(int64_t input_size, int64_t hidden_size, bool bias = true);
  Tensor forward(const Tensor& x, const Tensor& h);
  Tensor forward(const Tensor& x) override;
};

/// Options of RNN, LSTM and GRU, in torch's order; `nonlinearity` is used by RNN only.
struct RNNOptions {
  int64_t num_layers = 1;
  bool bias = true;
  bool batch_first = false;
  double dropout = 0;
  bool bidirectional = false;
  std::string nonlinearity = "tanh";
};

/// Shared by RNN, LSTM, GRU: per layer l and direction, weight_ih_l{l}[_reverse] [G·hidden,
/// in or D·hidden], weight_hh_l{l} [G·hidden, hidden], bias_ih_l{l}, bias_hh_l{l}.
class RecurrentBase : public Module {
 public:
  int64_t input_size() const { return input_size_; }
  int64_t hidden_size() const { return hidden_size_; }
  const RNNOptions& options() const { return options_; }

 protected:
  RecurrentBase(const char* name, RecurrentKind kind, int64_t input_size, int64_t hidden_size,
                RNNOptions options);
  /// x [T, N, in] ([N, T, in] with batch_first, or unbatched [T, in]) and the initial states
  /// ([D·num_layers, N, hidden] each, undefined = zeros) → {output, final states...}.
  std::vector<Tensor> run(const Tensor& x, std::vector<Tensor> state);

 private:
  /// One direction of one layer over the whole sequence [T, N, in] → [T, N, hidden].
  Tensor run_direction(const Tensor& input, int64_t layer, int64_t direction,
                       std::vector<Tensor>& state);

  const char* name_;
  RecurrentKind kind_;
  int64_t input_size_, hidden_size_;
  RNNOptions options_;
  std::vector<std::vector<Tensor>> weights_;  // per layer·D + direction: w_ih, w_hh, b_ih, b_hh
};

/// Elman RNN (tanh or relu per options.nonlinearity).
class RNN : public RecurrentBase {
 public:
  RNN(int64_t input_size, int64_t hidden_size, RNNOptions options = {});
  /// {output [T, N, D·hidden], h_n [D·num_layers, N, hidden]}; h0 undefined = zeros.
  RNNOutput forward(const Tensor& x, const Tensor& h0 = {});
};

class LSTM : public RecurrentBase {
 public:
  LSTM(int64_t input_size, int64_t hidden_size, RNNOptions options = {});
  /// {output, {h_n, c_n}}; an undefined (default) state is zeros.
  LSTMOutput forward(const Tensor& x, const LSTMState& state = {});
};

class GRU : public RecurrentBase {
 public:
  GRU(int64_t input_size, int64_t hidden_size, RNNOptions options = {});
  RNNOutput forward(const Tensor& x, const Tensor& h0 = {});
};

}  // namespace tg::nn
