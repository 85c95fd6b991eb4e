// Four public PyTorch programs (pytorch/examples' word_language_model, vae, mnist and
// time_sequence_prediction), written with tapegrad's layers as a user porting them would, give
// PyTorch 1.13's numbers: every loss of their training loops and the final parameters, in
// Float64, starting from the parameters PyTorch drew (tests/fixtures/make_port_fixtures.py, which
// also says how the programs were shrunk).

#include "fixture.hpp"
#include "helpers.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <set>
#include <tuple>

using tg::Tensor;
using tg::testing::FixtureCase;
namespace nn = tg::nn;
namespace F = tg::nn::functional;

namespace {

constexpr auto kF64 = tg::Dtype::Float64;

const std::vector<FixtureCase>& port_cases() {
  static const std::vector<FixtureCase> cases = tg::testing::read_fixture("ports.txt");
  return cases;
}

const FixtureCase& port_case(const std::string& name) {
  for (const FixtureCase& c : port_cases()) {
    if (c.name == name) return c;
  }
  tg::fail("ports.txt has no case {}", name);
}

// Converts the model to Float64 and copies PyTorch's initial state_dict into it; the names must
// be PyTorch's, one for one.
void load_initial_state(nn::Module& model, const FixtureCase& c) {
  model.to(kF64);
  std::set<std::string> expected, ours;
  for (const auto& [label, tensor] : c.tensors) {
    if (label.starts_with("param_")) expected.insert(label.substr(6));
  }
  tg::NoGradGuard no_grad;
  for (auto& [name, tensor] : model.state_dict()) {
    ours.insert(name);
    tensor.copy_(c.at("param_" + name));
  }
  CHECK(ours == expected);
}

double relative_difference(double ours, double theirs) {
  return std::abs(ours - theirs) / std::max(std::abs(theirs), 1e-300);
}

// Every recorded loss matches PyTorch's to `tolerance` (relative).
void check_losses(const std::vector<double>& ours, const Tensor& theirs, double tolerance) {
  const std::vector<double> expected = theirs.to_vector<double>();
  REQUIRE(ours.size() == expected.size());
  double worst = 0;
  for (size_t i = 0; i < ours.size(); ++i) {
    worst = std::max(worst, relative_difference(ours[i], expected[i]));
  }
  INFO("largest relative difference of the losses " << worst);
  CHECK(worst < tolerance);
}

// Every final parameter matches PyTorch's to `tolerance` (absolute, the values are O(1)).
void check_final_state(const nn::Module& model, const FixtureCase& c, double tolerance) {
  for (const auto& [name, tensor] : model.state_dict()) {
    const Tensor expected = c.at("final_" + name);
    const double difference = tg::max(tg::abs(tensor.detach().to(kF64) - expected)).item<double>();
    INFO(name << ": largest difference " << difference);
    CHECK(difference < tolerance);
  }
}

std::vector<Tensor> detach_all(const std::vector<Tensor>& tensors) {
  std::vector<Tensor> out;
  for (const Tensor& t : tensors) out.push_back(t.detach());
  return out;
}

// --- word_language_model: model.py's RNNModel --------------------------------------------------

class RNNModel : public nn::Module {
 public:
  using Hidden = std::vector<Tensor>;  // {h} or, for an LSTM, {h, c}

  RNNModel(const std::string& rnn_type, int64_t ntoken, int64_t ninp, int64_t nhid, int64_t nlayers,
           double dropout, bool tie_weights)
      : ntoken_(ntoken),
        nhid_(nhid),
        nlayers_(nlayers),
        rnn_type_(rnn_type),
        drop_(register_module("drop", std::make_shared<nn::Dropout>(dropout))),
        encoder_(register_module("encoder", std::make_shared<nn::Embedding>(ntoken, ninp))) {
    const nn::RNNOptions options{.num_layers = nlayers, .dropout = dropout};
    if (rnn_type == "LSTM") {
      lstm_ = register_module("rnn", std::make_shared<nn::LSTM>(ninp, nhid, options));
    } else if (rnn_type == "GRU") {
      gru_ = register_module("rnn", std::make_shared<nn::GRU>(ninp, nhid, options));
    } else {
      nn::RNNOptions rnn_options = options;
      rnn_options.nonlinearity = rnn_type == "RNN_TANH" ? "tanh" : "relu";
      rnn_ = register_module("rnn", std::make_shared<nn::RNN>(ninp, nhid, rnn_options));
    }
    decoder_ = register_module("decoder", std::make_shared<nn::Linear>(nhid, ntoken));
    if (tie_weights) decoder_->weight = encoder_->weight;
    tg::NoGradGuard no_grad;
    nn::init::uniform_(encoder_->weight, -0.1, 0.1);
    nn::init::zeros_(decoder_->bias);
    nn::init::uniform_(decoder_->weight, -0.1, 0.1);
  }

  std::pair<Tensor, Hidden> forward(const Tensor& input, const Hidden& hidden) {
    const Tensor emb = drop_->forward(encoder_->forward(input));
    Tensor output;
    Hidden next;
    if (lstm_) {
      auto [out, state] = lstm_->forward(emb, {hidden[0], hidden[1]});
      output = out;
      next = {state.first, state.second};
    } else {
      auto [out, h] = gru_ ? gru_->forward(emb, hidden[0]) : rnn_->forward(emb, hidden[0]);
      output = out;
      next = {h};
    }
    output = drop_->forward(output);
    const Tensor decoded = decoder_->forward(output).view({-1, ntoken_});
    return {F::log_softmax(decoded, 1), next};
  }

  Hidden init_hidden(int64_t bsz) const {
    const auto zeros = [&] { return tg::zeros({nlayers_, bsz, nhid_}, {.dtype = kF64}); };
    if (rnn_type_ == "LSTM") return {zeros(), zeros()};
    return {zeros()};
  }

 private:
  int64_t ntoken_, nhid_, nlayers_;
  std::string rnn_type_;
  std::shared_ptr<nn::Dropout> drop_;
  std::shared_ptr<nn::Embedding> encoder_;
  std::shared_ptr<nn::LSTM> lstm_;
  std::shared_ptr<nn::GRU> gru_;
  std::shared_ptr<nn::RNN> rnn_;
  std::shared_ptr<nn::Linear> decoder_;
};

// main.py's batchify and get_batch.
Tensor batchify(const Tensor& data, int64_t bsz) {
  const int64_t nbatch = data.size(0) / bsz;
  return data.narrow(0, 0, nbatch * bsz).view({bsz, -1}).t().contiguous();
}

std::pair<Tensor, Tensor> get_batch(const Tensor& source, int64_t i, int64_t bptt) {
  const int64_t seq_len = std::min(bptt, source.size(0) - 1 - i);
  return {source.narrow(0, i, seq_len), source.narrow(0, i + 1, seq_len).reshape({-1})};
}

void run_word_language_model(const FixtureCase& c) {
  const auto option = [&](const char* key) { return static_cast<int64_t>(c.option(key, 0)); };
  const int64_t ntokens = option("ntokens"), bptt = option("bptt");
  const int64_t batch_size = option("batch_size"), eval_batch_size = option("eval_batch_size");
  const bool use_optimizer = option("use_optimizer") != 0;
  double lr = c.option("lr", 0);
  RNNModel model(c.options.at("rnn_type"), ntokens, option("emsize"), option("nhid"),
                 option("nlayers"), 0.0, option("tied") != 0);
  load_initial_state(model, c);
  const Tensor train_data = batchify(c.at("train_tokens").to(tg::Dtype::Int64), batch_size);
  const Tensor val_data = batchify(c.at("valid_tokens").to(tg::Dtype::Int64), eval_batch_size);
  nn::NLLLoss criterion;
  std::unique_ptr<tg::optim::AdamW> optimizer;
  if (use_optimizer) {
    optimizer =
        std::make_unique<tg::optim::AdamW>(model.parameters(), tg::optim::AdamWOptions{.lr = lr});
  }

  const auto evaluate = [&](const Tensor& data_source) {
    model.eval();
    double total_loss = 0;
    RNNModel::Hidden hidden = model.init_hidden(eval_batch_size);
    tg::NoGradGuard no_grad;
    for (int64_t i = 0; i < data_source.size(0) - 1; i += bptt) {
      auto [data, targets] = get_batch(data_source, i, bptt);
      Tensor output;
      std::tie(output, hidden) = model.forward(data, hidden);
      hidden = detach_all(hidden);
      total_loss += static_cast<double>(data.size(0)) * criterion(output, targets).item<double>();
    }
    return total_loss / static_cast<double>(data_source.size(0) - 1);
  };

  std::vector<double> train_losses, val_losses;
  std::optional<double> best_val_loss;
  for (int64_t epoch = 0; epoch < option("epochs"); ++epoch) {
    model.train();
    RNNModel::Hidden hidden = model.init_hidden(batch_size);
    for (int64_t i = 0; i < train_data.size(0) - 1; i += bptt) {
      auto [data, targets] = get_batch(train_data, i, bptt);
      if (optimizer) {
        optimizer->zero_grad();
      } else {
        model.zero_grad();
      }
      hidden = detach_all(hidden);  // repackage_hidden
      Tensor output;
      std::tie(output, hidden) = model.forward(data, hidden);
      Tensor loss = criterion(output, targets);
      loss.backward();
      nn::clip_grad_norm(model.parameters(), c.option("clip", 0));
      if (optimizer) {
        optimizer->step();
      } else {
        tg::NoGradGuard no_grad;
        for (Tensor& p : model.parameters()) p.add_(p.grad(), -lr);
      }
      train_losses.push_back(loss.item<double>());
    }
    const double val_loss = evaluate(val_data);
    val_losses.push_back(val_loss);
    if (!best_val_loss || val_loss < *best_val_loss) {
      best_val_loss = val_loss;
    } else {
      lr /= 4.0;
    }
  }
  check_losses(train_losses, c.at("train_losses"), 1e-10);
  check_losses(val_losses, c.at("val_losses"), 1e-10);
  check_final_state(model, c, 1e-10);
}

// --- vae/main.py ---------------------------------------------------------------------------

class VAE : public nn::Module {
 public:
  VAE()
      : fc1(register_module("fc1", std::make_shared<nn::Linear>(12, 8))),
        fc21(register_module("fc21", std::make_shared<nn::Linear>(8, 3))),
        fc22(register_module("fc22", std::make_shared<nn::Linear>(8, 3))),
        fc3(register_module("fc3", std::make_shared<nn::Linear>(3, 8))),
        fc4(register_module("fc4", std::make_shared<nn::Linear>(8, 12))) {}

  std::pair<Tensor, Tensor> encode(const Tensor& x) {
    const Tensor h1 = F::relu(fc1->forward(x));
    return {fc21->forward(h1), fc22->forward(h1)};
  }
  static Tensor reparameterize(const Tensor& mu, const Tensor& logvar, const Tensor& eps) {
    const Tensor std = tg::exp(0.5 * logvar);
    return mu + eps * std;
  }
  Tensor decode(const Tensor& z) { return tg::sigmoid(fc4->forward(F::relu(fc3->forward(z)))); }

  // The original draws eps = randn_like(std) inside; here it comes from the fixture.
  std::tuple<Tensor, Tensor, Tensor> forward(const Tensor& x, const Tensor& eps) {
    auto [mu, logvar] = encode(x.view({-1, 12}));
    const Tensor z = reparameterize(mu, logvar, eps);
    return {decode(z), mu, logvar};
  }

  std::shared_ptr<nn::Linear> fc1, fc21, fc22, fc3, fc4;
};

Tensor vae_loss(const Tensor& recon_x, const Tensor& x, const Tensor& mu, const Tensor& logvar) {
  const Tensor bce = nn::binary_cross_entropy(recon_x, x.view({-1, 12}), {}, nn::Reduction::Sum);
  const Tensor kld = -0.5 * tg::sum(1 + logvar - mu.pow(2) - logvar.exp());
  return bce + kld;
}

// --- mnist/main.py -------------------------------------------------------------------------

class Net : public nn::Module {
 public:
  Net()
      : conv1(register_module("conv1", std::make_shared<nn::Conv2d>(1, 3, 3))),
        conv2(register_module("conv2", std::make_shared<nn::Conv2d>(3, 4, 3))),
        dropout1(register_module("dropout1", std::make_shared<nn::Dropout>(0.0))),
        dropout2(register_module("dropout2", std::make_shared<nn::Dropout>(0.0))),
        fc1(register_module("fc1", std::make_shared<nn::Linear>(64, 6))),
        fc2(register_module("fc2", std::make_shared<nn::Linear>(6, 10))) {}

  Tensor forward(const Tensor& input) override {
    Tensor x = F::relu(conv1->forward(input));
    x = F::relu(conv2->forward(x));
    x = F::max_pool2d(x, 2);
    x = dropout1->forward(x);
    x = x.flatten(1);
    x = F::relu(fc1->forward(x));
    x = dropout2->forward(x);
    return F::log_softmax(fc2->forward(x), 1);
  }

  std::shared_ptr<nn::Conv2d> conv1, conv2;
  std::shared_ptr<nn::Dropout> dropout1, dropout2;
  std::shared_ptr<nn::Linear> fc1, fc2;
};

// --- time_sequence_prediction/train.py ------------------------------------------------------

class Sequence : public nn::Module {
 public:
  static constexpr int64_t kHidden = 6;
  Sequence()
      : lstm1(register_module("lstm1", std::make_shared<nn::LSTMCell>(1, kHidden))),
        lstm2(register_module("lstm2", std::make_shared<nn::LSTMCell>(kHidden, kHidden))),
        linear(register_module("linear", std::make_shared<nn::Linear>(kHidden, 1))) {}

  Tensor forward(const Tensor& input, int64_t future = 0) {
    std::vector<Tensor> outputs;
    const auto zeros = [&] { return tg::zeros({input.size(0), kHidden}, {.dtype = kF64}); };
    nn::LSTMState s1{zeros(), zeros()}, s2{zeros(), zeros()};
    Tensor output;
    const auto step = [&](const Tensor& x) {
      s1 = lstm1->forward(x, s1);
      s2 = lstm2->forward(s1.first, s2);
      output = linear->forward(s2.first);
      outputs.push_back(output);
    };
    for (const Tensor& input_t : input.split(1, 1)) step(input_t);
    for (int64_t i = 0; i < future; ++i) step(output);
    return tg::cat(outputs, 1);
  }

  std::shared_ptr<nn::LSTMCell> lstm1, lstm2;
  std::shared_ptr<nn::Linear> linear;
};

}  // namespace

TEST_CASE("word_language_model's RNNModel and training loop give PyTorch's numbers", "[ports]") {
  for (const char* name :
       {"word_language_model_LSTM", "word_language_model_GRU", "word_language_model_RNN_TANH_tied",
        "word_language_model_RNN_RELU", "word_language_model_LSTM_tied_adamw"}) {
    SECTION(name) { run_word_language_model(port_case(name)); }
  }
}

TEST_CASE("vae's model and loss give PyTorch's numbers", "[ports]") {
  const FixtureCase& c = port_case("vae");
  VAE model;
  load_initial_state(model, c);
  tg::optim::Adam optimizer(model.parameters(), {.lr = c.option("lr", 0)});
  const Tensor data = c.at("data"), eps = c.at("eps");
  std::vector<double> losses;
  model.train();
  for (int64_t step = 0; step < data.size(0); ++step) {
    optimizer.zero_grad();
    auto [recon_batch, mu, logvar] = model.forward(data.select(0, step), eps.select(0, step));
    Tensor loss = vae_loss(recon_batch, data.select(0, step), mu, logvar);
    loss.backward();
    losses.push_back(loss.item<double>());
    optimizer.step();
  }
  model.eval();
  tg::NoGradGuard no_grad;
  auto [recon, mu, logvar] = model.forward(data.select(0, 0), eps.select(0, 0));
  losses.push_back(vae_loss(recon, data.select(0, 0), mu, logvar).item<double>());
  check_losses(losses, tg::cat({c.at("losses"), c.at("test_loss")}, 0), 1e-10);
  check_final_state(model, c, 1e-10);
}

TEST_CASE("mnist's Net with Adadelta and StepLR gives PyTorch's numbers", "[ports]") {
  const FixtureCase& c = port_case("mnist");
  Net model;
  load_initial_state(model, c);
  tg::optim::Adadelta optimizer(model.parameters(), {.lr = 1.0});
  tg::optim::StepLR scheduler(optimizer, 1, 0.7);
  const Tensor images = c.at("images"), labels = c.at("labels").to(tg::Dtype::Int64);
  const int64_t batches = images.size(0);
  std::vector<double> losses, test_losses;
  for (int64_t epoch = 1; epoch <= static_cast<int64_t>(c.option("epochs", 0)); ++epoch) {
    model.train();
    for (int64_t b = 0; b < batches; ++b) {
      optimizer.zero_grad();
      const Tensor output = model(images.select(0, b));
      Tensor loss = nn::nll_loss(output, labels.select(0, b));
      loss.backward();
      optimizer.step();
      losses.push_back(loss.item<double>());
    }
    model.eval();
    double test_loss = 0;
    {
      tg::NoGradGuard no_grad;
      for (int64_t b = 0; b < batches; ++b) {
        test_loss += nn::nll_loss(model(images.select(0, b)), labels.select(0, b),
                                  {.reduction = nn::Reduction::Sum})
                         .item<double>();
      }
    }
    test_losses.push_back(test_loss / static_cast<double>(labels.numel()));
    scheduler.step();
  }
  check_losses(losses, c.at("losses"), 1e-10);
  check_losses(test_losses, c.at("test_losses"), 1e-10);
  check_final_state(model, c, 1e-10);
}

TEST_CASE("time_sequence_prediction's Sequence with LBFGS gives PyTorch's numbers", "[ports]") {
  const FixtureCase& c = port_case("time_sequence_prediction");
  Sequence seq;
  load_initial_state(seq, c);
  const Tensor data = c.at("data");
  const int64_t length = data.size(1), future = static_cast<int64_t>(c.option("future", 0));
  const Tensor input = data.narrow(0, 3, data.size(0) - 3).narrow(1, 0, length - 1);
  const Tensor target = data.narrow(0, 3, data.size(0) - 3).narrow(1, 1, length - 1);
  const Tensor test_input = data.narrow(0, 0, 3).narrow(1, 0, length - 1);
  const Tensor test_target = data.narrow(0, 0, 3).narrow(1, 1, length - 1);
  nn::MSELoss criterion;
  tg::optim::LBFGS optimizer(seq.parameters(), {.lr = 0.8});
  std::vector<double> closure_losses, test_losses;
  Tensor pred;
  for (int64_t i = 0; i < static_cast<int64_t>(c.option("steps", 0)); ++i) {
    optimizer.step([&] {
      optimizer.zero_grad();
      Tensor loss = criterion(seq.forward(input), target);
      closure_losses.push_back(loss.item<double>());
      loss.backward();
      return loss;
    });
    tg::NoGradGuard no_grad;
    pred = seq.forward(test_input, future);
    test_losses.push_back(criterion(pred.narrow(1, 0, length - 1), test_target).item<double>());
  }
  // The first ten closure calls agree to rounding. Then the step without a line search
  // overshoots (the loss jumps from 0.06 to 1e4) and L-BFGS multiplies the 1e-16 differences of
  // GEMM summation orders by about 1e7; the later calls are checked at 1e-7.
  const Tensor expected = c.at("closure_losses");
  check_losses(std::vector<double>(closure_losses.begin(), closure_losses.begin() + 10),
               expected.narrow(0, 0, 10), 1e-12);
  check_losses(closure_losses, expected, 1e-7);
  check_losses(test_losses, c.at("test_losses"), 1e-7);
  CHECK(tg::max(tg::abs(pred - c.at("prediction"))).item<double>() < 1e-7);
  check_final_state(seq, c, 1e-7);
}
