// RNNCell, LSTMCell, GRUCell, RNN, LSTM, GRU against PyTorch 1.13 (tests/fixtures/recurrent.txt
// from make_recurrent_fixtures.py: parameters set by name, outputs, final states and every
// gradient), gradcheck of each step, dropout between layers, and the errors.

#include "fixture.hpp"
#include "helpers.hpp"
#include "nn/fused_gru.hpp"
#include "nn/fused_lstm.hpp"
#include "nn/fused_rnn.hpp"
#include "tensor_api_fixture.hpp"

#include <memory>

using namespace tg;
using tg::testing::FixtureCase;
using tg::testing::max_relative_error;
using tg::testing::MessageContains;
using tg::testing::randn64;

namespace {

bool flag(const FixtureCase& c, const char* key) { return c.option(key, 0) != 0; }

std::shared_ptr<nn::Module> make_module(const FixtureCase& c) {
  const std::string module = c.options.at("module");
  const auto in = static_cast<int64_t>(c.option("input_size", 0));
  const auto hidden = static_cast<int64_t>(c.option("hidden_size", 0));
  const bool bias = flag(c, "bias");
  const std::string nonlinearity =
      c.options.count("nonlinearity") ? c.options.at("nonlinearity") : "tanh";
  const nn::RNNOptions options{.num_layers = static_cast<int64_t>(c.option("num_layers", 1)),
                               .bias = bias,
                               .batch_first = flag(c, "batch_first"),
                               .dropout = 0,
                               .bidirectional = flag(c, "bidirectional"),
                               .nonlinearity = nonlinearity};
  if (module == "RNNCell") return std::make_shared<nn::RNNCell>(in, hidden, bias, nonlinearity);
  if (module == "LSTMCell") return std::make_shared<nn::LSTMCell>(in, hidden, bias);
  if (module == "GRUCell") return std::make_shared<nn::GRUCell>(in, hidden, bias);
  if (module == "RNN") return std::make_shared<nn::RNN>(in, hidden, options);
  if (module == "LSTM") return std::make_shared<nn::LSTM>(in, hidden, options);
  if (module == "GRU") return std::make_shared<nn::GRU>(in, hidden, options);
  fail("unknown module {}", module);
}

Tensor input_or_undefined(const std::map<std::string, Tensor>& inputs, const std::string& label) {
  const auto it = inputs.find(label);
  return it == inputs.end() ? Tensor() : it->second;
}

// Runs the module on the case's inputs: {out (undefined for cells), h_n, c_n (or undefined)}.
std::vector<Tensor> run(nn::Module& m, const std::string& module,
                        const std::map<std::string, Tensor>& inputs) {
  const Tensor& x = inputs.at("x");
  const Tensor h0 = input_or_undefined(inputs, "h0"), c0 = input_or_undefined(inputs, "c0");
  if (module == "RNNCell") {
    auto& cell = dynamic_cast<nn::RNNCell&>(m);
    return {Tensor(), h0.defined() ? cell.forward(x, h0) : cell.forward(x), Tensor()};
  }
  if (module == "GRUCell") {
    auto& cell = dynamic_cast<nn::GRUCell&>(m);
    return {Tensor(), h0.defined() ? cell.forward(x, h0) : cell.forward(x), Tensor()};
  }
  if (module == "LSTMCell") {
    auto& cell = dynamic_cast<nn::LSTMCell&>(m);
    auto [h, c] = h0.defined() ? cell.forward(x, {h0, c0}) : cell.forward(x);
    return {Tensor(), h, c};
  }
  if (module == "LSTM") {
    auto& lstm = dynamic_cast<nn::LSTM&>(m);
    auto [out, state] = h0.defined() ? lstm.forward(x, {h0, c0}) : lstm.forward(x);
    return {out, state.first, state.second};
  }
  auto [out, h_n] = module == "RNN" ? dynamic_cast<nn::RNN&>(m).forward(x, h0)
                                    : dynamic_cast<nn::GRU&>(m).forward(x, h0);
  return {out, h_n, Tensor()};
}

// A fused op and its composed form agree in value and in every input's gradient.
void check_same_function(const Tensor& fused, const Tensor& composed,
                         const std::vector<Tensor>& inputs, const Tensor& gy, tg::Dtype dtype) {
  const double tolerance = dtype == tg::Dtype::Float32 ? 1e-5 : 1e-13;
  const std::vector<double> y1 = fused.to_vector<double>(), y2 = composed.to_vector<double>();
  REQUIRE(y1.size() == y2.size());
  for (size_t i = 0; i < y1.size(); ++i) CHECK(y1[i] == Approx(y2[i]).margin(tolerance));
  const std::vector<Tensor> a = tg::grad(fused, inputs, gy);
  const std::vector<Tensor> c = tg::grad(composed, inputs, gy);
  for (size_t k = 0; k < a.size(); ++k) {
    const std::vector<double> x = a[k].to_vector<double>(), y = c[k].to_vector<double>();
    for (size_t i = 0; i < x.size(); ++i) CHECK(x[i] == Approx(y[i]).margin(tolerance));
  }
}

}  // namespace

TEST_CASE("recurrent layers and cells match PyTorch 1.13 in Float64", "[recurrent]") {
  const std::vector<FixtureCase> cases = tg::testing::read_fixture("recurrent.txt");
  REQUIRE(cases.size() >= 30);
  for (const FixtureCase& c : cases) {
    INFO("fixture case " << c.name);
    const std::string module = c.options.at("module");
    std::shared_ptr<nn::Module> m = make_module(c);
    m->to(Dtype::Float64);
    m->eval();
    // Every parameter of the module is in the fixture under its PyTorch name, and vice versa.
    size_t fixture_params = 0;
    for (const auto& [label, value] : c.tensors) fixture_params += label.rfind("param_", 0) == 0;
    const auto named = m->named_parameters();
    REQUIRE(named.size() == fixture_params);
    {
      NoGradGuard no_grad;
      for (const auto& [name, param] : named) {
        const Tensor& value = c.at("param_" + name);
        REQUIRE(param.shape() == value.shape());
        Tensor(param).copy_(value);
      }
    }
    const std::map<std::string, Tensor> inputs = tg::testing::fixture_inputs(c);
    std::map<std::string, Tensor> leaves;
    for (const auto& [label, value] : inputs) {
      if (label == "x" || label == "h0" || label == "c0") leaves[label] = value;
    }
    const std::vector<Tensor> got = run(*m, module, leaves);
    Tensor loss = sum(got[1] * c.at("cot_h"));
    CHECK(max_relative_error(got[1], c.at("h_n")) < 1e-10);
    if (got[0].defined()) {
      REQUIRE(got[0].shape() == c.at("out").shape());
      CHECK(max_relative_error(got[0], c.at("out")) < 1e-10);
      loss = loss + sum(got[0] * c.at("cot_out"));
    }
    if (got[2].defined()) {
      CHECK(max_relative_error(got[2], c.at("c_n")) < 1e-10);
      loss = loss + sum(got[2] * c.at("cot_c"));
    }
    loss.backward();
    for (const auto& [label, leaf] : leaves) {
      INFO("gradient of " << label);
      CHECK(max_relative_error(leaf.grad(), c.at("grad_" + label)) < 1e-10);
    }
    for (const auto& [name, param] : named) {
      INFO("gradient of " << name);
      CHECK(max_relative_error(param.grad(), c.at("grad_" + name)) < 1e-10);
    }
  }
}

TEST_CASE("recurrent: parameter names, shapes and default init", "[recurrent]") {
  nn::LSTM lstm(10, 20, {.num_layers = 2, .bidirectional = true});
  const auto named = lstm.named_parameters();
  REQUIRE(named.size() == 16);
  CHECK(named[0].first == "weight_ih_l0");
  CHECK(named[3].first == "bias_hh_l0");
  CHECK(named[4].first == "weight_ih_l0_reverse");
  CHECK(named[8].first == "weight_ih_l1");
  CHECK(named[8].second.shape() == Shape{80, 40});
  CHECK(named[9].second.shape() == Shape{80, 20});
  const double bound = 1.0 / std::sqrt(20.0);
  for (const auto& [name, p] : named) {
    CHECK(max(abs(p)).item<float>() <= bound);
  }
  nn::GRUCell cell(5, 7, false);
  REQUIRE(cell.named_parameters().size() == 2);
  CHECK(cell.named_parameters()[1].first == "weight_hh");
  CHECK(cell.weight_ih.shape() == Shape{21, 5});

  auto [out, state] = lstm.forward(randn({6, 3, 10}));
  CHECK(out.shape() == Shape{6, 3, 40});
  CHECK(state.first.shape() == Shape{4, 3, 20});
  CHECK(state.second.shape() == Shape{4, 3, 20});
  nn::GRU gru(10, 20, {.batch_first = true});
  auto [gout, h_n] = gru.forward(randn({3, 6, 10}));
  CHECK(gout.shape() == Shape{3, 6, 20});
  CHECK(h_n.shape() == Shape{1, 3, 20});
}

TEST_CASE("recurrent steps pass gradcheck", "[recurrent]") {
  manual_seed(14);
  using nn::RecurrentKind;
  const auto step = [](RecurrentKind kind, bool lstm) {
    return [kind, lstm](const std::vector<Tensor>& v) {
      std::vector<Tensor> state{v[1]};
      if (lstm) state.push_back(v[6]);
      const std::vector<Tensor> next =
          nn::detail::recurrent_step(kind, linear(v[0], v[2], v[4]), state, v[3], v[5]);
      return lstm ? cat({next[0], next[1]}, -1) : next[0];
    };
  };
  const auto inputs = [](int64_t gates, bool lstm) {
    std::vector<Tensor> v{randn64({2, 3}),         randn64({2, 4}),      randn64({gates * 4, 3}),
                          randn64({gates * 4, 4}), randn64({gates * 4}), randn64({gates * 4})};
    if (lstm) v.push_back(randn64({2, 4}));
    return v;
  };
  tg::testing::check_rows({
      {"rnn tanh", step(RecurrentKind::RnnTanh, false), inputs(1, false)},
      {"rnn relu", step(RecurrentKind::RnnRelu, false), inputs(1, false)},
      {"lstm", step(RecurrentKind::Lstm, true), inputs(4, true)},
      {"gru", step(RecurrentKind::Gru, false), inputs(3, false)},
      {"gru layer",
       [](const std::vector<Tensor>& in) {
         return tg::nn::detail::gru_layer(in[0], in[1], in[2], in[3], false);
       },
       {randn64({3, 2, 12}), randn64({2, 4}), randn64({12, 4}), randn64({12})}},
      {"gru layer reverse, no bias",
       [](const std::vector<Tensor>& in) {
         return tg::nn::detail::gru_layer(in[0], in[1], in[2], Tensor(), true);
       },
       {randn64({3, 2, 12}), randn64({2, 4}), randn64({12, 4})}},
      {"rnn layer tanh",
       [](const std::vector<Tensor>& in) {
         return tg::nn::detail::rnn_layer(in[0], in[1], in[2], in[3], false, false);
       },
       {randn64({3, 2, 4}), randn64({2, 4}), randn64({4, 4}), randn64({4})}},
      {"rnn layer relu reverse, no bias",
       [](const std::vector<Tensor>& in) {
         return tg::nn::detail::rnn_layer(in[0], in[1], in[2], Tensor(), true, true);
       },
       {randn64({3, 2, 4}), randn64({2, 4}), randn64({4, 4})}},
      {"lstm layer",
       [](const std::vector<Tensor>& in) {
         return tg::nn::detail::lstm_layer(in[0], in[1], in[2], in[3], in[4], false);
       },
       {randn64({3, 2, 12}), randn64({2, 3}), randn64({2, 3}), randn64({12, 3}), randn64({12})}},
      {"lstm layer reverse, no bias",
       [](const std::vector<Tensor>& in) {
         return tg::nn::detail::lstm_layer(in[0], in[1], in[2], in[3], Tensor(), true);
       },
       {randn64({3, 2, 12}), randn64({2, 3}), randn64({2, 3}), randn64({12, 3})}},
  });
}

TEST_CASE("recurrent: dropout between layers only in training", "[recurrent]") {
  manual_seed(3);
  nn::LSTM dropped(3, 4, {.num_layers = 2, .dropout = 1.0});
  nn::LSTM plain(3, 4, {.num_layers = 2});
  nn::LSTM top(4, 4);  // the second layer alone
  {
    NoGradGuard no_grad;
    const auto a = dropped.parameters(), b = plain.parameters(), t = top.parameters();
    for (size_t i = 0; i < a.size(); ++i) Tensor(b[i]).copy_(a[i]);
    for (size_t i = 0; i < t.size(); ++i) Tensor(t[i]).copy_(a[i + 4]);
  }
  const Tensor x = randn({5, 2, 3});
  dropped.eval();
  // Evaluation: dropout is the identity.
  CHECK(max_relative_error(dropped.forward(x).first, plain.forward(x).first) == 0);
  // Training with p = 1: the second layer sees zeros, so it is the second layer run on zeros.
  dropped.train();
  const auto [out, state] = dropped.forward(x);
  const auto [top_out, top_state] = top.forward(zeros({5, 2, 4}));
  CHECK(max_relative_error(out, top_out) < 1e-6);
  CHECK(max_relative_error(state.first.select(0, 1), top_state.first.select(0, 0)) < 1e-6);
  // With p = 0.5 training draws differ from evaluation, and the same seed gives the same draw.
  nn::GRU half(3, 4, {.num_layers = 2, .dropout = 0.5});
  manual_seed(5);
  const Tensor first = half.forward(x).first;
  manual_seed(5);
  CHECK(max_relative_error(half.forward(x).first, first) == 0);
  half.eval();
  CHECK(max_relative_error(half.forward(x).first, first) > 1e-3);
  nn::RNN single(3, 4, {.dropout = 0.5});  // allowed as in torch; nothing to drop
  CHECK(single.forward(x).first.shape() == Shape{5, 2, 4});
}

TEST_CASE("recurrent: bad shapes and options are errors naming the layer", "[recurrent]") {
  nn::LSTM lstm(10, 4);
  CHECK_THROWS_WITH(lstm.forward(randn({5, 3, 7})),
                    Catch::Contains("LSTM: expected input of size 10 in the last dimension, got "
                                    "[5, 3, 7]"));
  CHECK_THROWS_WITH(lstm.forward(randn({5, 3, 10}), {zeros({2, 3, 4}), zeros({1, 3, 4})}),
                    Catch::Contains("LSTM: expected hidden state [1, 3, 4], got [2, 3, 4]"));
  CHECK_THROWS_WITH(lstm.forward(randn({10})), Catch::Contains("LSTM: expected input"));
  nn::GRUCell cell(3, 4);
  CHECK_THROWS_WITH(cell.forward(randn({2, 5})),
                    Catch::Contains("GRUCell: expected input of size 3 in the last dimension"));
  CHECK_THROWS_WITH(cell.forward(randn({2, 3}), zeros({2, 5})),
                    Catch::Contains("GRUCell: expected hidden state [2, 4], got [2, 5]"));
  CHECK_THROWS_WITH(nn::GRU(3, 0), Catch::Contains("GRU: input_size and hidden_size"));
  CHECK_THROWS_WITH(nn::RNN(3, 4, {.dropout = 1.5}),
                    Catch::Contains("RNN: dropout must be in [0, 1], got 1.5"));
  CHECK_THROWS_WITH(nn::LSTM(3, 4, {.num_layers = 0}),
                    Catch::Contains("LSTM: num_layers must be positive, got 0"));
  CHECK_THROWS_WITH(nn::RNN(3, 4, {.nonlinearity = "sigmoid"}),
                    Catch::Contains("RNN: nonlinearity must be \"tanh\" or \"relu\""));
  CHECK_THROWS_WITH(nn::RNNCell(3, 4, true, "gelu"), Catch::Contains("RNNCell: nonlinearity"));
  nn::LSTMCell lcell(3, 4);
  CHECK_THROWS_WITH(lcell(randn({2, 3})), Catch::Contains("forward"));
  CHECK_THROWS_WITH(nn::GRU(10, 4).forward(randn({5, 3, 10}).to(tg::Dtype::Float64)),
                    Catch::Contains("GRU: expected Float32 input (the dtype of its "
                                    "weight_ih_l0), got Float64 [5, 3, 10]"));
  CHECK_THROWS_WITH(cell.forward(randn({2, 3}).to(tg::Dtype::Float64)),
                    Catch::Contains("GRUCell: expected Float32 input"));
}

// torch 1.13: LSTM(3, 4)(zeros(5, 0, 3)) gives output [5, 0, 4] and states [1, 0, 4].
TEST_CASE("recurrent layers take an empty batch, as torch's", "[recurrent]") {
  nn::LSTM lstm(3, 4);
  Tensor x = zeros({5, 0, 3}).set_requires_grad();
  const auto [out, state] = lstm.forward(x);
  CHECK(out.shape() == tg::Shape{5, 0, 4});
  CHECK(state.first.shape() == tg::Shape{1, 0, 4});
  out.sum().backward();
  CHECK(x.grad().shape() == tg::Shape{5, 0, 3});
  nn::GRU gru(3, 4, {.num_layers = 2, .batch_first = true, .bidirectional = true});
  const auto [gru_out, h] = gru.forward(zeros({0, 5, 3}));
  CHECK(gru_out.shape() == tg::Shape{0, 5, 8});
  CHECK(h.shape() == tg::Shape{4, 0, 4});
}

TEST_CASE("the fused GRU step computes its composed form", "[recurrent]") {
  manual_seed(41);
  for (const tg::Dtype dtype : {tg::Dtype::Float32, tg::Dtype::Float64}) {
    const auto leaf = [dtype](tg::Shape shape) {
      return (randn(std::move(shape)) * 2.0).to(dtype).set_requires_grad();
    };
    Tensor gi = leaf({5, 12}), gh = leaf({5, 12}), h = leaf({5, 4});
    const Tensor gy = randn({5, 4}).to(dtype);
    const Tensor fused = tg::nn::detail::gru_step(gi, gh, h);
    const Tensor composed = tg::nn::detail::composed_gru_step(gi, gh, h);
    // The same operations in the same order: the same bits.
    CHECK(fused.to_vector<double>() == composed.to_vector<double>());
    const std::vector<Tensor> a = tg::grad(fused, {gi, gh, h}, gy);
    const std::vector<Tensor> b = tg::grad(composed, {gi, gh, h}, gy);
    const double tolerance = dtype == tg::Dtype::Float32 ? 1e-6 : 1e-14;
    for (size_t k = 0; k < a.size(); ++k) {
      const std::vector<double> x = a[k].to_vector<double>(), y = b[k].to_vector<double>();
      for (size_t i = 0; i < x.size(); ++i) CHECK(x[i] == Approx(y[i]).margin(tolerance));
    }
  }
}

TEST_CASE("the fused GRU layer computes its composed form", "[recurrent]") {
  manual_seed(43);
  for (const bool reverse : {false, true}) {
    for (const tg::Dtype dtype : {tg::Dtype::Float32, tg::Dtype::Float64}) {
      const auto leaf = [dtype](tg::Shape shape) {
        return randn(std::move(shape)).to(dtype).set_requires_grad();
      };
      Tensor gi = leaf({4, 3, 15}), h0 = leaf({3, 5}), w = leaf({15, 5}), b = leaf({15});
      const Tensor gy = randn({4, 3, 5}).to(dtype);
      const Tensor fused = tg::nn::detail::gru_layer(gi, h0, w, b, reverse);
      const Tensor composed = tg::nn::detail::composed_gru_layer(gi, h0, w, b, reverse);
      check_same_function(fused, composed, {gi, h0, w, b}, gy, dtype);
    }
  }
  CHECK_THROWS_WITH(tg::nn::detail::gru_layer(tg::zeros({2, 3, 6}), tg::zeros({3, 4}),
                                              tg::zeros({12, 4}), Tensor(), false),
                    Catch::Contains("GRU layer: expected gi [T, N, 3H], h0 [N, H]"));
}

TEST_CASE("the fused RNN layer computes its composed form", "[recurrent]") {
  manual_seed(45);
  for (const bool relu : {false, true}) {
    for (const bool reverse : {false, true}) {
      for (const tg::Dtype dtype : {tg::Dtype::Float32, tg::Dtype::Float64}) {
        const auto leaf = [dtype](tg::Shape shape) {
          return randn(std::move(shape)).to(dtype).set_requires_grad();
        };
        Tensor gi = leaf({4, 3, 5}), h0 = leaf({3, 5}), w = leaf({5, 5}), b = leaf({5});
        const Tensor gy = randn({4, 3, 5}).to(dtype);
        const Tensor fused = tg::nn::detail::rnn_layer(gi, h0, w, b, relu, reverse);
        const Tensor composed = tg::nn::detail::composed_rnn_layer(gi, h0, w, b, relu, reverse);
        check_same_function(fused, composed, {gi, h0, w, b}, gy, dtype);
      }
    }
  }
  // At relu's kink (a pre-activation of exactly 0) the gradient is 0, torch's threshold_backward.
  Tensor at_kink = tg::zeros({1, 1, 2}, {.dtype = tg::Dtype::Float64}).set_requires_grad();
  const Tensor h =
      tg::nn::detail::rnn_layer(at_kink, tg::zeros({1, 2}, {.dtype = tg::Dtype::Float64}),
                                randn64({2, 2}), Tensor(), true, false);
  CHECK(tg::grad(h.sum(), {at_kink})[0].to_vector<double>() == std::vector<double>{0, 0});
  CHECK_THROWS_WITH(
      tg::nn::detail::rnn_layer(tg::zeros({2, 3, 4}), tg::zeros({3, 4}), tg::zeros({4, 5}),
                                Tensor(), false, false),
      Catch::Contains("RNN layer: expected gi [T, N, H], h0 [N, H], weight_hh [H, H]"));
}

TEST_CASE("the fused LSTM layer computes its composed form", "[recurrent]") {
  manual_seed(47);
  for (const bool reverse : {false, true}) {
    for (const tg::Dtype dtype : {tg::Dtype::Float32, tg::Dtype::Float64}) {
      const auto leaf = [dtype](tg::Shape shape) {
        return randn(std::move(shape)).to(dtype).set_requires_grad();
      };
      Tensor gi = leaf({4, 3, 20}), h0 = leaf({3, 5}), c0 = leaf({3, 5}), w = leaf({20, 5}),
             b = leaf({20});
      const Tensor gy = randn({2, 4, 3, 5}).to(dtype);
      const Tensor fused = tg::nn::detail::lstm_layer(gi, h0, c0, w, b, reverse);
      const Tensor composed = tg::nn::detail::composed_lstm_layer(gi, h0, c0, w, b, reverse);
      check_same_function(fused, composed, {gi, h0, c0, w, b}, gy, dtype);
    }
  }
  CHECK_THROWS_WITH(
      tg::nn::detail::lstm_layer(tg::zeros({2, 3, 12}), tg::zeros({3, 4}), tg::zeros({3, 4}),
                                 tg::zeros({16, 4}), Tensor(), false),
      Catch::Contains("LSTM layer: expected gi [T, N, 4H], h0 and c0 [N, H]"));
}
