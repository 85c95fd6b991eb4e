// nn: module registry and names, Linear's shapes and initialization, Sequential, losses' misuse.

#include "helpers.hpp"

#include <cmath>

using tg::Tensor;
using namespace tg::nn;

namespace {

// A user-defined module as a PyTorch user would write it.
class TwoLayer : public Module {
 public:
  TwoLayer()
      : fc1(register_module("fc1", std::make_shared<Linear>(4, 3))),
        fc2(register_module("fc2", std::make_shared<Linear>(3, 2, false))) {}
  Tensor forward(const Tensor& x) override { return (*fc2)(relu(fc1->forward(x))); }
  std::shared_ptr<Linear> fc1, fc2;

 private:
  static Tensor relu(const Tensor& x) { return tg::relu(x); }
};

}  // namespace

TEST_CASE("named_parameters uses PyTorch's dotted names, in registration order", "[nn]") {
  Sequential model{Linear(3, 4), ReLU(), Linear(4, 2)};
  std::vector<std::string> names;
  for (const auto& [name, p] : model.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
  CHECK(model.parameters().size() == 4);

  TwoLayer net;
  names.clear();
  for (const auto& [name, p] : net.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"fc1.weight", "fc1.bias", "fc2.weight"});
  CHECK_FALSE(net.fc2->bias.defined());
}

// word_language_model's --tied: `self.decoder.weight = self.encoder.weight`.
namespace {

float max_difference(const Tensor& a, const Tensor& b) {
  return tg::max(tg::abs(a - b)).item<float>();
}

class TiedLanguageModel : public Module {
 public:
  TiedLanguageModel()
      : encoder(register_module("encoder", std::make_shared<Embedding>(5, 3))),
        decoder(register_module("decoder", std::make_shared<Linear>(3, 5))) {
    decoder->weight = encoder->weight;
  }
  Tensor forward(const Tensor& tokens) override {
    return decoder->forward(encoder->forward(tokens));
  }
  std::shared_ptr<Embedding> encoder;
  std::shared_ptr<Linear> decoder;
};

}  // namespace

TEST_CASE("assigning a parameter member ties it, as in PyTorch", "[nn]") {
  tg::manual_seed(4);
  TiedLanguageModel model;
  std::vector<std::string> names;
  for (const auto& [name, p] : model.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"encoder.weight", "decoder.bias"});  // listed once
  names.clear();
  for (const auto& [name, p] : model.state_dict()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"encoder.weight", "decoder.weight", "decoder.bias"});

  // One tensor gets the gradient of both uses: that of an untied model with the same values.
  const Tensor tokens = tg::tensor({1, 4, 1}, {3}, {.dtype = tg::Dtype::Int64});
  const Tensor before = model.encoder->weight.detach().clone();
  const Tensor y = model(tokens);
  tg::sum(y * y).backward();
  Embedding encoder(5, 3);
  Linear decoder(3, 5);
  {
    tg::NoGradGuard no_grad;
    encoder.weight.copy_(before);
    decoder.weight.copy_(before);
    decoder.bias.copy_(model.decoder->bias);
  }
  const Tensor untied = decoder(encoder(tokens));
  tg::sum(untied * untied).backward();
  CHECK(max_difference(model.encoder->weight.grad(),
                       encoder.weight.grad() + decoder.weight.grad()) < 1e-6f);

  // The optimizer sees it once, so a step moves it once.
  tg::optim::SGD sgd(model.parameters(), {.lr = 0.5});
  sgd.step();
  CHECK(max_difference(model.decoder->weight, before - 0.5 * model.encoder->weight.grad()) < 1e-6f);
  CHECK(&model.decoder->weight.impl() == &model.encoder->weight.impl());
}

TEST_CASE("a child registered twice lists its parameters once, and a copy reads its own members",
          "[nn]") {
  auto shared = std::make_shared<Linear>(2, 2);
  Sequential twice;
  twice.push_back(shared);
  twice.push_back(shared);
  CHECK(twice.parameters().size() == 2);
  CHECK(twice.state_dict().size() == 4);  // "0.weight" … "1.bias", as PyTorch's state_dict

  Linear original(2, 3);
  Linear copy = original;  // shares the tensors, like any Tensor handle copy
  copy.weight = tg::zeros({3, 2}, {.requires_grad = true});
  CHECK(&copy.parameters()[0].impl() == &copy.weight.impl());
  CHECK(&original.parameters()[0].impl() == &original.weight.impl());
  CHECK(&copy.parameters()[1].impl() == &original.bias.impl());
}

TEST_CASE("Linear has PyTorch's shapes, initialization bounds and y = x Wᵀ + b", "[nn]") {
  tg::manual_seed(3);
  Linear layer(16, 8);
  CHECK(layer.weight.shape() == tg::Shape{8, 16});
  CHECK(layer.bias.shape() == tg::Shape{8});
  CHECK(layer.weight.requires_grad());
  const double bound = 1.0 / std::sqrt(16.0);  // U(−1/√in, 1/√in) for weight and bias
  for (float w : layer.weight.to_vector<float>()) CHECK(std::abs(w) <= bound);
  for (float b : layer.bias.to_vector<float>()) CHECK(std::abs(b) <= bound);
  CHECK(tg::max(layer.weight).item<float>() > 0.8 * bound);  // spread over the whole range

  const Tensor x = tg::randn({5, 16});
  const Tensor expected = tg::matmul(x, layer.weight.t()) + layer.bias;
  const std::vector<float> y = layer(x).to_vector<float>();
  const std::vector<float> e = expected.to_vector<float>();
  for (size_t i = 0; i < y.size(); ++i) CHECK(y[i] == Approx(e[i]).margin(1e-6));
  CHECK(layer(tg::randn({16})).shape() == tg::Shape{8});
  // [..., in] as PyTorch: each leading index is a row (word_language_model's [T, N, nhid]).
  const Tensor sequence = tg::randn({3, 5, 16});
  const Tensor per_step = layer(sequence);
  CHECK(per_step.shape() == tg::Shape{3, 5, 8});
  // Same values as the step alone (to rounding: a GEMM's blocking may depend on its row count).
  CHECK(max_difference(per_step.select(0, 1), layer(sequence.select(0, 1))) < 1e-6f);
  CHECK_TG_ERROR(layer(tg::randn({5, 15})),
                 "linear: input [5, 15] does not match weight [8, 16] (expected input [..., 16])");
}

TEST_CASE("the same seed gives the same initialization", "[nn]") {
  tg::manual_seed(9);
  Linear a(5, 3);
  tg::manual_seed(9);
  Linear b(5, 3);
  CHECK(a.weight.to_vector<float>() == b.weight.to_vector<float>());
}

TEST_CASE("train, eval and zero_grad reach every child", "[nn]") {
  Sequential model{Linear(2, 2), Sequential{Linear(2, 2), Tanh()}};
  CHECK(model.is_training());
  model.eval();
  CHECK_FALSE(model.is_training());
  CHECK_FALSE(model[1]->is_training());
  model.train();
  CHECK(model[1]->is_training());
  tg::sum(model(tg::ones({1, 2}))).backward();
  for (const Tensor& p : model.parameters()) CHECK(p.grad().defined());
  model.zero_grad();
  for (const Tensor& p : model.parameters()) CHECK_FALSE(p.grad().defined());
  CHECK(model.named_parameters()[2].first == "1.0.weight");
}

TEST_CASE("Sequential push_back and activations", "[nn]") {
  Sequential model;
  model.push_back(Sigmoid());
  model.push_back(std::make_shared<ReLU>());
  CHECK(model.size() == 2);
  const std::vector<float> y = model(tg::tensor({0}, {1})).to_vector<float>();
  CHECK(y[0] == 0.5f);
  CHECK_TG_ERROR(model[2], "Sequential: index 2 out of range for 2 modules");
}

TEST_CASE("Module::to converts every parameter, shared handles included", "[nn]") {
  Linear layer(2, 3);
  const Tensor handle = layer.weight;
  layer.to(tg::Dtype::Float64);
  CHECK(layer.weight.dtype() == tg::Dtype::Float64);
  CHECK(handle.dtype() == tg::Dtype::Float64);
  CHECK(layer(tg::ones({1, 2}, {.dtype = tg::Dtype::Float64})).dtype() == tg::Dtype::Float64);
}

TEST_CASE("losses reject misuse with the shapes in the message", "[nn]") {
  const Tensor logits = tg::randn({4, 3});
  const Tensor labels = tg::tensor({0, 2, 1, 2}, {4}, {.dtype = tg::Dtype::Int64});
  CHECK_TG_ERROR(cross_entropy(logits, tg::tensor({0, 3, 1, 2}, {4}, {.dtype = tg::Dtype::Int64})),
                 "cross_entropy: class index 3 at position 1 is out of range [0, 3)");
  CHECK_TG_ERROR(cross_entropy(logits, tg::tensor({-1, 0, 1, 2}, {4}, {.dtype = tg::Dtype::Int64})),
                 "class index -1 at position 0");
  CHECK_TG_ERROR(
      cross_entropy(logits, tg::zeros({4})),
      "cross_entropy: target must hold Int64 class indices or class probabilities of the input's "
      "shape [4, 3], got Float32 [4]");
  CHECK_TG_ERROR(cross_entropy(logits, labels.reshape({2, 2})),
                 "cross_entropy: target [2, 2] does not match logits [4, 3] (expected [4])");
  // Logits [C] take one class index, a scalar target (PyTorch).
  CHECK_TG_ERROR(cross_entropy(tg::randn({3}), tg::zeros({3}, {.dtype = tg::Dtype::Int64})),
                 "cross_entropy: target [3] does not match input [3] (expected [])");
  CHECK_TG_ERROR(cross_entropy(tg::randn({}), tg::zeros({}, {.dtype = tg::Dtype::Int64})),
                 "cross_entropy: expected input [N, C], [N, C, d1, ...] or [C], got []");
  CHECK_TG_ERROR(cross_entropy(logits, labels, {.label_smoothing = 1.5}),
                 "label_smoothing must be in [0, 1], got 1.5");
  CHECK_TG_ERROR(mse_loss(tg::zeros({4}), tg::zeros({4, 1})),
                 "mse_loss: input [4] and target [4, 1] must have the same shape");
}

TEST_CASE("cross_entropy is finite for logits of ±1e4 and the loss objects agree", "[nn]") {
  const Tensor logits = tg::tensor({1e4, -1e4, 0, -1e4, 1e4, 5}, {2, 3}, {.requires_grad = true});
  const Tensor labels = tg::tensor({1, 0}, {2}, {.dtype = tg::Dtype::Int64});
  const Tensor loss = CrossEntropyLoss()(logits, labels);
  // Row 1: −log p = 2e4; row 2: −log p ≈ 1e4 + 1e4 = 2e4 (logit −1e4 vs max 1e4). Mean 2e4.
  CHECK(loss.item<float>() == Approx(2e4));
  loss.backward();
  for (float g : logits.grad().to_vector<float>()) CHECK(std::isfinite(g));
  CHECK(MSELoss(Reduction::Sum)(tg::ones({2}), tg::zeros({2})).item<float>() == 2.0f);
}

TEST_CASE("clip_grad_norm rescales to max_norm and returns the norm before", "[nn]") {
  Tensor a = tg::zeros({2}, {.requires_grad = true});
  Tensor b = tg::zeros({1}, {.requires_grad = true});
  (tg::sum(a * tg::tensor({3, 0}, {2})) + tg::sum(b * 4.0)).backward();  // (3, 0), (4): norm 5
  CHECK(clip_grad_norm({a, b}, 1.0) == Approx(5.0));
  CHECK(a.grad().to_vector<float>()[0] == Approx(3.0 / (5 + 1e-6)));
  CHECK(b.grad().item<float>() == Approx(4.0 / (5 + 1e-6)));
  CHECK(clip_grad_norm({a, b}, 10.0) == Approx(1.0).epsilon(1e-5));  // under the limit: unchanged
  CHECK(b.grad().item<float>() == Approx(4.0 / (5 + 1e-6)));
}
