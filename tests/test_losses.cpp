// The losses of issue 14 against PyTorch 1.13 (fixtures/make_loss_fixtures_2.py): values and
// input gradients in Float64 for every loss, reduction and option; gradcheck rows; the modules;
// and the errors for bad shapes, dtypes, class indices and options.

#include "fixture.hpp"
#include "helpers.hpp"

#include <cmath>
#include <functional>
#include <limits>

using tg::Tensor;
using tg::nn::Reduction;
using tg::testing::GradcheckRow;
using tg::testing::leaf64;
using tg::testing::randn64;

namespace {

Reduction parse_reduction(const std::string& name) {
  if (name == "mean") return Reduction::Mean;
  if (name == "sum") return Reduction::Sum;
  return Reduction::None;
}

void check_close(const Tensor& actual, const Tensor& expected, double tolerance) {
  REQUIRE(actual.shape() == expected.shape());
  const std::vector<double> a = actual.to_vector<double>();
  const std::vector<double> e = expected.to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("element " << i << ": " << a[i] << " vs " << e[i]);
    REQUIRE(std::isfinite(a[i]));
    CHECK(std::abs(a[i] - e[i]) <= tolerance * std::max(1.0, std::abs(e[i])));
  }
}

Tensor optional(const tg::testing::FixtureCase& c, const std::string& label) {
  return c.tensors.count(label) ? c.at(label) : Tensor();
}

// The loss a fixture case names, applied to `in` (its inputs, by label).
Tensor apply(const tg::testing::FixtureCase& c, std::map<std::string, Tensor>& in) {
  const std::string loss = c.options.at("loss");
  const std::string reduction_name = c.options.at("reduction");
  const Reduction r = parse_reduction(reduction_name);
  const Tensor weight = optional(c, "weight");
  const auto ignore = static_cast<int64_t>(c.option("ignore_index", -100));
  const Tensor target =
      c.tensors.count("index") ? c.at("index").to(tg::Dtype::Int64) : in["target"];
  if (loss == "nll") {
    return tg::nn::nll_loss(in["input"], target,
                            {.weight = weight, .ignore_index = ignore, .reduction = r});
  }
  if (loss == "cross_entropy") {
    return tg::nn::cross_entropy(in["input"], target,
                                 {.reduction = r,
                                  .label_smoothing = c.option("label_smoothing", 0),
                                  .weight = weight,
                                  .ignore_index = ignore});
  }
  if (loss == "bce") return tg::nn::binary_cross_entropy(in["input"], target, weight, r);
  if (loss == "bce_logits") {
    return tg::nn::binary_cross_entropy_with_logits(
        in["input"], target,
        {.weight = weight, .pos_weight = optional(c, "pos_weight"), .reduction = r});
  }
  if (loss == "l1") return tg::nn::l1_loss(in["input"], target, r);
  if (loss == "smooth_l1") {
    return tg::nn::smooth_l1_loss(in["input"], target, c.option("beta", -1), r);
  }
  if (loss == "huber") return tg::nn::huber_loss(in["input"], target, c.option("delta", -1), r);
  if (loss == "kl_div") {
    return tg::nn::kl_div(in["input"], target,
                          {.reduction = r,
                           .log_target = c.option("log_target", 0) != 0,
                           .batchmean = reduction_name == "batchmean"});
  }
  if (loss == "cosine") {
    return tg::nn::cosine_embedding_loss(in["x1"], in["x2"], target, c.option("margin", 0), r);
  }
  if (loss == "margin_ranking") {
    return tg::nn::margin_ranking_loss(in["x1"], in["x2"], target, c.option("margin", 0), r);
  }
  FAIL("unknown loss " << loss);
  return {};
}

void replay(const tg::testing::FixtureCase& c) {
  std::map<std::string, Tensor> inputs;
  for (const auto& [label, t] : c.tensors) {
    if (label == "out" || label == "upstream" || label == "index" || label == "weight" ||
        label == "pos_weight" || label.rfind("grad_", 0) == 0) {
      continue;
    }
    inputs[label] = t.clone().set_requires_grad(true);
  }
  Tensor out = apply(c, inputs);
  out.backward(c.at("upstream"));
  check_close(out, c.at("out"), 1e-10);
  for (auto& [label, t] : inputs) {
    if (!c.tensors.count("grad_" + label)) continue;
    INFO("gradient of " << label);
    REQUIRE(t.grad().defined());
    check_close(t.grad(), c.at("grad_" + label), 1e-10);
  }
}

}  // namespace

TEST_CASE("losses match PyTorch 1.13 in Float64, values and gradients", "[losses]") {
  const auto cases = tg::testing::read_fixture("losses_2.txt");
  REQUIRE(cases.size() > 100);
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.name) { replay(c); }
  }
}

// torch 1.13: F.cross_entropy(z, torch.tensor([-100, -100])) is NaN and z.grad is all 0.
TEST_CASE(
    "nll_loss and cross_entropy: the mean over all-ignored targets is NaN with a zero "
    "gradient, as in PyTorch",
    "[losses]") {
  const Tensor x = randn64({3, 4});
  const Tensor target = tg::full({3}, 2, {.dtype = tg::Dtype::Int64});
  CHECK(std::isnan(tg::nn::nll_loss(x, target, {.ignore_index = 2}).item<double>()));
  CHECK(std::isnan(tg::nn::cross_entropy(x, target, {.ignore_index = 2}).item<double>()));
  CHECK(tg::nn::nll_loss(x, target, {.ignore_index = 2, .reduction = Reduction::Sum})
            .item<double>() == 0.0);
  const std::vector<std::function<Tensor()>> means = {
      [&] { return tg::nn::nll_loss(x, target, {.ignore_index = 2}); },
      [&] { return tg::nn::cross_entropy(x, target, {.ignore_index = 2}); },
      [&] { return tg::nn::cross_entropy(x, target, {.label_smoothing = 0.1, .ignore_index = 2}); },
  };
  for (const auto& mean : means) {
    const Tensor g = tg::grad(mean(), {x})[0];
    CHECK(g.to_vector<double>() == std::vector<double>(12, 0.0));
  }
}

// torch 1.13: p = [0, 1, 0.3], y = [1, 0, 0.5], F.binary_cross_entropy(p, y, reduction="sum")
// = 200.78032387413234; p.grad = [-1000000003995.8029, 1000000003995.8029, -0.9523809523809524]
// ((p − y) / max((1 − p)p, 1e-12f)); y.grad = [inf, -inf, 0.8472978603872037].
TEST_CASE("binary_cross_entropy at p = 0 and 1 has torch's value and gradients", "[losses]") {
  const Tensor p = tg::testing::leaf64({0, 1, 0.3}, {3});
  const Tensor y = tg::testing::leaf64({1, 0, 0.5}, {3});
  const Tensor loss = tg::nn::binary_cross_entropy(p, y, {}, Reduction::Sum);
  CHECK(loss.item<double>() == Approx(200.78032387413234).epsilon(1e-14));
  loss.backward();
  const std::vector<double> dp = p.grad().to_vector<double>(), dy = y.grad().to_vector<double>();
  CHECK(dp[0] == Approx(-1000000003995.8029).epsilon(1e-14));
  CHECK(dp[1] == Approx(1000000003995.8029).epsilon(1e-14));
  CHECK(dp[2] == Approx(-0.9523809523809524).epsilon(1e-14));
  CHECK((std::isinf(dy[0]) && dy[0] > 0 && std::isinf(dy[1]) && dy[1] < 0));
  CHECK(dy[2] == Approx(0.8472978603872037).epsilon(1e-14));
}

TEST_CASE("margin_ranking_loss takes an Int64 target of +-1 as torch does", "[losses]") {
  const Tensor x1 = randn64({4}), x2 = randn64({4});
  const Tensor y = tg::tensor({1, -1, -1, 1}, {4}, {.dtype = tg::Dtype::Int64});
  const double with_integers = tg::nn::margin_ranking_loss(x1, x2, y, 0.2).item<double>();
  CHECK(with_integers ==
        tg::nn::margin_ranking_loss(x1, x2, y.to(tg::Dtype::Float64), 0.2).item<double>());
  CHECK_TG_ERROR(tg::nn::margin_ranking_loss(x1, x2, y.to(tg::Dtype::Bool)),
                 "margin_ranking_loss: expected a floating or Int64 target, got Bool [4]");
}

TEST_CASE("binary_cross_entropy_with_logits is finite at |x| = 1e4, gradient included",
          "[losses]") {
  const Tensor x = leaf64({1e4, -1e4, 1e4, -1e4}, {4});
  const Tensor y = tg::tensor({0.0, 1.0, 1.0, 0.0}, {4}, {.dtype = tg::Dtype::Float64});
  const Tensor pos_weight = tg::tensor({2.0, 3.0, 0.5, 1.0}, {4}, {.dtype = tg::Dtype::Float64});
  Tensor loss = tg::nn::binary_cross_entropy_with_logits(
      x, y, {.pos_weight = pos_weight, .reduction = Reduction::Sum});
  loss.backward();
  // Wrong-side logits cost |x| each (rows 0 and 1, the second times pos_weight 3).
  CHECK(loss.item<double>() == 1e4 + 3e4);
  const std::vector<double> g = x.grad().to_vector<double>();
  for (double v : g) CHECK(std::isfinite(v));
  CHECK(g[0] == 1.0);   // σ(x) − y
  CHECK(g[1] == -3.0);  // pos_weight·(σ(x) − 1)
}

TEST_CASE("the losses pass a Float64 gradcheck", "[losses]") {
  tg::manual_seed(14);
  const Tensor index = tg::tensor({0.0, 2.0, 1.0, 2.0}, {4}, {.dtype = tg::Dtype::Int64});
  const Tensor index4 =
      tg::tensor({0.0, 1.0, 2.0, 1.0, 1.0, 0.0, 2.0, 2.0}, {2, 2, 2}, {.dtype = tg::Dtype::Int64});
  const Tensor weight = tg::tensor({0.5, 2.0, 1.5}, {3}, {.dtype = tg::Dtype::Float64});
  const Tensor probs = tg::softmax(tg::randn({4, 3}, {.dtype = tg::Dtype::Float64}), 1);
  const Tensor p = (tg::testing::positive64({4, 3}) / 3.0).detach().set_requires_grad(true);
  const Tensor y01 = tg::rand({4, 3}, {.dtype = tg::Dtype::Float64}).set_requires_grad(true);
  const Tensor signs = tg::tensor({1.0, -1.0, -1.0, 1.0}, {4}, {.dtype = tg::Dtype::Float64});
  const Tensor pos_weight = tg::tensor({0.5, 1.0, 3.0}, {3}, {.dtype = tg::Dtype::Float64});
  using V = std::vector<Tensor>;
  tg::testing::check_rows({
      {"nll weight ignore",
       [&](const V& v) {
         return tg::nn::nll_loss(v[0], index, {.weight = weight, .ignore_index = 1});
       },
       {randn64({4, 3})}},
      {"cross_entropy 4d weight smoothing",
       [&](const V& v) {
         return tg::nn::cross_entropy(
             v[0], index4, {.label_smoothing = 0.2, .weight = weight, .ignore_index = 2});
       },
       {randn64({2, 3, 2, 2})}},
      {"cross_entropy probabilities",
       [&](const V& v) {
         return tg::nn::cross_entropy(v[0], v[1], {.label_smoothing = 0.1, .weight = weight});
       },
       {randn64({4, 3}), probs.detach().set_requires_grad(true)}},
      {"binary_cross_entropy",
       [&](const V& v) { return tg::nn::binary_cross_entropy(v[0], v[1], weight); },
       {p, y01}},
      {"binary_cross_entropy_with_logits",
       [&](const V& v) {
         return tg::nn::binary_cross_entropy_with_logits(
             v[0], v[1], {.weight = weight, .pos_weight = pos_weight});
       },
       {randn64({4, 3}), y01}},
      {"l1",
       [](const V& v) { return tg::nn::l1_loss(v[0], v[1]); },
       {randn64({4, 3}), randn64({4, 3})}},
      {"smooth_l1",
       [](const V& v) { return tg::nn::smooth_l1_loss(v[0], v[1], 0.5); },
       {randn64({4, 3}), randn64({4, 3})}},
      {"huber",
       [](const V& v) { return tg::nn::huber_loss(v[0], v[1], 0.7, Reduction::Sum); },
       {randn64({4, 3}), randn64({4, 3})}},
      {"kl_div",
       [](const V& v) { return tg::nn::kl_div(v[0], v[1], {.batchmean = true}); },
       {randn64({4, 3}), tg::testing::positive64({4, 3})}},
      {"kl_div log_target",
       [](const V& v) { return tg::nn::kl_div(v[0], v[1], {.log_target = true}); },
       {randn64({4, 3}), randn64({4, 3})}},
      {"cosine_embedding",
       [&](const V& v) { return tg::nn::cosine_embedding_loss(v[0], v[1], signs, -0.5); },
       {randn64({4, 3}), randn64({4, 3})}},
      {"margin_ranking",
       [](const V& v) {
         return tg::nn::margin_ranking_loss(v[0], v[1], v[2], 0.1, Reduction::Sum);
       },
       {randn64({4}), randn64({4}), leaf64({1, -1, 1, -1}, {4})}},
  });
}

TEST_CASE("the loss modules are default-constructible and call their function", "[losses]") {
  tg::manual_seed(3);
  const Tensor x = randn64({4, 3}), z = randn64({4, 3});
  const Tensor index = tg::tensor({0.0, 2.0, 1.0, 2.0}, {4}, {.dtype = tg::Dtype::Int64});
  const Tensor p = tg::sigmoid(x).detach(), y = tg::sigmoid(z).detach();
  const Tensor signs = tg::tensor({1.0, -1.0, -1.0, 1.0}, {4}, {.dtype = tg::Dtype::Float64});
  const Tensor log_p = tg::log_softmax(x, 1);
  CHECK(tg::nn::NLLLoss{}(log_p, index).item<double>() ==
        tg::nn::nll_loss(log_p, index).item<double>());
  CHECK(tg::nn::BCELoss{}(p, y).item<double>() ==
        tg::nn::binary_cross_entropy(p, y).item<double>());
  CHECK(tg::nn::BCEWithLogitsLoss{}(x, y).item<double>() ==
        tg::nn::binary_cross_entropy_with_logits(x, y).item<double>());
  CHECK(tg::nn::L1Loss{}(x, z).item<double>() == tg::nn::l1_loss(x, z).item<double>());
  CHECK(tg::nn::SmoothL1Loss{}(x, z).item<double>() == tg::nn::smooth_l1_loss(x, z).item<double>());
  CHECK(tg::nn::HuberLoss{}(x, z).item<double>() == tg::nn::huber_loss(x, z).item<double>());
  CHECK(tg::nn::KLDivLoss{}(log_p, y).item<double>() == tg::nn::kl_div(log_p, y).item<double>());
  CHECK(tg::nn::CosineEmbeddingLoss{}(x, z, signs).item<double>() ==
        tg::nn::cosine_embedding_loss(x, z, signs).item<double>());
  CHECK(tg::nn::MarginRankingLoss{0.5, Reduction::None}(x, z, -x).shape() == tg::Shape{4, 3});
  // The functions are also under F, as torch.nn.functional keeps them.
  namespace F = tg::nn::F;
  CHECK(F::cross_entropy(x, index).item<double>() ==
        tg::nn::cross_entropy(x, index).item<double>());
  CHECK(F::nll_loss(log_p, index).item<double>() == tg::nn::nll_loss(log_p, index).item<double>());
  CHECK(F::mse_loss(x, z).item<double>() == tg::nn::mse_loss(x, z).item<double>());
  CHECK(F::binary_cross_entropy(p, y).item<double>() ==
        tg::nn::binary_cross_entropy(p, y).item<double>());
}

TEST_CASE("the losses reject bad shapes, dtypes, class indices and options", "[losses]") {
  const Tensor x = randn64({4, 3});
  const Tensor index = tg::tensor({0.0, 2.0, 1.0, 7.0}, {4}, {.dtype = tg::Dtype::Int64});
  CHECK_TG_ERROR(tg::nn::nll_loss(x, index), "class index 7 at position 3 is out of range [0, 3)");
  CHECK_TG_ERROR(
      tg::nn::cross_entropy(x, index, {.weight = tg::ones({3}, {.dtype = tg::Dtype::Float64})}),
      "class index 7");
  CHECK_TG_ERROR(tg::nn::nll_loss(x, tg::zeros({4})), "target must hold Int64 class indices");
  CHECK_TG_ERROR(tg::nn::nll_loss(x, tg::zeros({3}, {.dtype = tg::Dtype::Int64})),
                 "nll_loss: target [3] does not match input [4, 3]");
  CHECK_TG_ERROR(tg::nn::nll_loss(x, tg::zeros({4}, {.dtype = tg::Dtype::Int64}),
                                  {.weight = tg::ones({4}, {.dtype = tg::Dtype::Float64})}),
                 "weight must be [3]");
  CHECK_TG_ERROR(tg::nn::cross_entropy(x, randn64({4, 2})),
                 "class probabilities of the input's shape [4, 3], got Float64 [4, 2]");
  CHECK_TG_ERROR(
      tg::nn::cross_entropy(randn64({2, 3, 5}), tg::zeros({2, 3}, {.dtype = tg::Dtype::Int64})),
      "expected [2, 5]");
  CHECK_TG_ERROR(
      tg::nn::cross_entropy(randn64({2, 3, 5}), tg::zeros({2, 5}, {.dtype = tg::Dtype::Int64}),
                            {.label_smoothing = 1.5}),
      "label_smoothing must be in [0, 1], got 1.5");
  CHECK_TG_ERROR(tg::nn::binary_cross_entropy(x, tg::sigmoid(x)), "must lie in [0, 1]");
  CHECK_TG_ERROR(tg::nn::binary_cross_entropy(tg::sigmoid(x), randn64({3, 4})),
                 "binary_cross_entropy: input [4, 3] and target [3, 4] must have the same shape");
  CHECK_TG_ERROR(tg::nn::binary_cross_entropy_with_logits(
                     x, x, {.pos_weight = tg::ones({4}, {.dtype = tg::Dtype::Float64})}),
                 "binary_cross_entropy_with_logits: pos_weight [4] does not broadcast to the "
                 "input [4, 3]");
  CHECK_TG_ERROR(tg::nn::binary_cross_entropy(tg::full({2}, 0.5), tg::zeros({2}), tg::ones({3})),
                 "binary_cross_entropy: weight [3] does not broadcast to the input [2]");
  CHECK_TG_ERROR(tg::nn::smooth_l1_loss(x, x, -1.0), "beta must be >= 0, got -1");
  CHECK_TG_ERROR(tg::nn::huber_loss(x, x, 0.0), "delta must be > 0, got 0");
  CHECK_TG_ERROR(tg::nn::l1_loss(x, randn64({4})), "l1_loss: input [4, 3] and target [4]");
  CHECK_TG_ERROR(tg::nn::kl_div(x, randn64({4, 4})), "kl_div: input [4, 3]");
  CHECK_TG_ERROR(tg::nn::cosine_embedding_loss(x, x, randn64({3})),
                 "cosine_embedding_loss: target [3] does not match inputs [4, 3]");
  CHECK_TG_ERROR(tg::nn::margin_ranking_loss(randn64({4}), randn64({4}), randn64({5})),
                 "margin_ranking_loss: target [5] must have the inputs' shape [4]");
}
