// Embedding, LayerNorm and BatchNorm1d/2d against PyTorch 1.13 (tests/fixtures/normalization.txt,
// make_normalization_fixtures.py): outputs, running statistics and gradients; gradcheck;
// their parameters, buffers, modes and errors. Also tg::nn::init.

#include "helpers.hpp"
#include "nn/fused_batch_norm.hpp"
#include "nn/fused_layer_norm.hpp"
#include "scratch.hpp"
#include "tensor_api_fixture.hpp"

#include <cmath>

using tg::Dtype;
using tg::Tensor;
using tg::testing::FixtureCase;
using tg::testing::option_list;
using tg::testing::randn64;
namespace F = tg::nn::F;
namespace init = tg::nn::init;

namespace {

using Inputs = std::map<std::string, Tensor>;

Tensor input_or_undefined(const Inputs& in, const std::string& label) {
  const auto it = in.find(label);
  return it == in.end() ? Tensor{} : it->second;
}

std::optional<double> momentum_option(const FixtureCase& c) {
  const std::string& value = c.options.at("momentum");
  if (value == "none") return std::nullopt;
  return std::stod(value);
}

std::vector<Tensor> run_embedding(const FixtureCase& c, const Inputs& in) {
  std::optional<int64_t> padding_idx;
  if (c.options.count("padding_idx")) padding_idx = std::stoll(c.options.at("padding_idx"));
  return {F::embedding(in.at("index_const"), in.at("weight"), padding_idx)};
}

std::vector<Tensor> run_layer_norm(const FixtureCase& c, const Inputs& in) {
  return {F::layer_norm(in.at("x"), option_list(c, "shape"), input_or_undefined(in, "weight"),
                        input_or_undefined(in, "bias"), std::stod(c.options.at("eps")))};
}

std::vector<Tensor> run_batch_norm(const FixtureCase& c, const Inputs& in) {
  const Tensor mean = input_or_undefined(in, "running_mean_const");
  const Tensor var = input_or_undefined(in, "running_var_const");
  const Tensor y = F::batch_norm(in.at("x"), mean, var, input_or_undefined(in, "weight"),
                                 input_or_undefined(in, "bias"), c.options.at("training") == "1",
                                 momentum_option(c), std::stod(c.options.at("eps")));
  if (!mean.defined()) return {y};
  return {y, mean, var};
}

std::unique_ptr<tg::nn::BatchNorm> make_batch_norm(const FixtureCase& c, int64_t channels) {
  const tg::nn::BatchNormOptions options{.momentum = momentum_option(c),
                                         .affine = c.options.at("affine") == "1",
                                         .track_running_stats = c.options.at("track") == "1"};
  if (c.options.at("dims") == "1") return std::make_unique<tg::nn::BatchNorm1d>(channels, options);
  return std::make_unique<tg::nn::BatchNorm2d>(channels, options);
}

// The fixture's weight and bias set (when affine), three training batches x_a, x_b, x_c, then
// evaluation on x_a: y_c, the running statistics when tracked, the evaluation's output; and the
// count of tracked batches `counted` (BatchNorm counts, InstanceNorm does not).
template <class Norm>
std::vector<Tensor> three_batches_then_eval(Norm& norm, const Inputs& in, int64_t counted) {
  norm.to(Dtype::Float64);
  if (norm.weight.defined()) {
    tg::NoGradGuard no_grad;
    norm.weight.copy_(in.at("weight_const"));
    norm.bias.copy_(in.at("bias_const"));
  }
  Tensor y;
  for (const char* label : {"x_a", "x_b", "x_c"}) y = norm(in.at(label));
  norm.eval();
  std::vector<Tensor> outputs{y};
  if (norm.running_mean.defined()) {
    CHECK(norm.num_batches_tracked.template item<int64_t>() == counted);
    outputs.push_back(norm.running_mean);
    outputs.push_back(norm.running_var);
  }
  outputs.push_back(norm(in.at("x_a")));
  return outputs;
}

std::vector<Tensor> run_batch_norm_module(const FixtureCase& c, const Inputs& in) {
  return three_batches_then_eval(*make_batch_norm(c, in.at("x_a").size(1)), in, 3);
}

std::vector<Tensor> run_group_norm(const FixtureCase& c, const Inputs& in) {
  return {F::group_norm(in.at("x"), std::stoll(c.options.at("groups")),
                        input_or_undefined(in, "weight"), input_or_undefined(in, "bias"),
                        std::stod(c.options.at("eps")))};
}

std::vector<Tensor> run_instance_norm(const FixtureCase& c, const Inputs& in) {
  const Tensor mean = input_or_undefined(in, "running_mean_const");
  const Tensor var = input_or_undefined(in, "running_var_const");
  const Tensor y =
      F::instance_norm(in.at("x"), mean, var, input_or_undefined(in, "weight"),
                       input_or_undefined(in, "bias"), c.options.at("use_input_stats") == "1",
                       std::stod(c.options.at("momentum")), std::stod(c.options.at("eps")));
  if (!mean.defined()) return {y};
  return {y, mean, var};
}

std::vector<Tensor> run_instance_norm_module(const FixtureCase& c, const Inputs& in) {
  const int64_t channels = in.at("x_a").size(1);
  const tg::nn::InstanceNormOptions options{.momentum = std::stod(c.options.at("momentum")),
                                            .affine = c.options.at("affine") == "1",
                                            .track_running_stats = c.options.at("track") == "1"};
  std::unique_ptr<tg::nn::InstanceNorm> norm;
  if (c.options.at("dims") == "1") {
    norm = std::make_unique<tg::nn::InstanceNorm1d>(channels, options);
  } else {
    norm = std::make_unique<tg::nn::InstanceNorm2d>(channels, options);
  }
  return three_batches_then_eval(*norm, in, 0);  // as torch: InstanceNorm never counts
}

std::vector<std::string> names_of(const std::vector<std::pair<std::string, Tensor>>& named) {
  std::vector<std::string> names;
  for (const auto& [name, tensor] : named) names.push_back(name);
  return names;
}

}  // namespace

TEST_CASE("embedding and the norms match PyTorch 1.13", "[normalization]") {
  const std::set<std::string> seen =
      tg::testing::check_tensor_api_cases({{"embedding", run_embedding},
                                           {"layer_norm", run_layer_norm},
                                           {"batch_norm", run_batch_norm},
                                           {"batch_norm_module", run_batch_norm_module},
                                           {"group_norm", run_group_norm},
                                           {"instance_norm", run_instance_norm},
                                           {"instance_norm_module", run_instance_norm_module}},
                                          1e-10, "normalization.txt");
  CHECK(seen.size() == 7);
}

TEST_CASE("the fused layer_norm computes its composed form", "[normalization]") {
  tg::manual_seed(37);
  for (const Dtype dtype : {Dtype::Float32, Dtype::Float64}) {
    const auto leaf = [dtype](tg::Shape shape) {
      return tg::randn(std::move(shape)).to(dtype).set_requires_grad();
    };
    // Rows far from zero mean, where a one-pass variance would lose digits.
    Tensor rows = leaf({6, 40}), w = leaf({40}), b = leaf({40});
    const Tensor shifted = rows * 3.0 + 100.0;
    const Tensor gy = tg::randn({6, 40}).to(dtype);
    const Tensor fused = tg::nn::detail::layer_norm_rows(shifted, w, b, 1e-5);
    const Tensor composed = tg::nn::detail::composed_layer_norm_rows(shifted, w, b, 1e-5);
    const double tolerance = dtype == Dtype::Float32 ? 2e-4 : 1e-11;
    const std::vector<double> y1 = fused.to_vector<double>(), y2 = composed.to_vector<double>();
    for (size_t i = 0; i < y1.size(); ++i) CHECK(y1[i] == Approx(y2[i]).margin(tolerance));
    const std::vector<Tensor> a = tg::grad(fused, {rows, w, b}, gy, /*retain_graph=*/true);
    const std::vector<Tensor> c = tg::grad(composed, {rows, w, b}, gy);
    for (size_t k = 0; k < a.size(); ++k) {
      const std::vector<double> x = a[k].to_vector<double>(), y = c[k].to_vector<double>();
      for (size_t i = 0; i < x.size(); ++i) CHECK(x[i] == Approx(y[i]).margin(tolerance));
    }
  }
}

namespace {

std::vector<std::pair<Dtype, tg::Shape>> dtype_and_shape(const std::vector<tg::Shape>& shapes) {
  std::vector<std::pair<Dtype, tg::Shape>> all;
  for (const Dtype dtype : {Dtype::Float32, Dtype::Float64}) {
    for (const tg::Shape& shape : shapes) all.emplace_back(dtype, shape);
  }
  return all;
}

}  // namespace

TEST_CASE("the fused batch_norm computes its composed form, batch and given statistics",
          "[normalization]") {
  tg::manual_seed(39);
  // Runs of 24 values per channel and sample (BatchNorm2d), of 1 (BatchNorm1d on [N, C]) and 3.
  const std::vector<tg::Shape> shapes = {{5, 3, 4, 6}, {37, 3}, {6, 3, 3}};
  for (const auto& [dtype, shape] : dtype_and_shape(shapes)) {
    const auto leaf = [dtype](tg::Shape shape) {
      return tg::randn(std::move(shape)).to(dtype).set_requires_grad();
    };
    Tensor x = leaf(shape), w = leaf({3}), b = leaf({3});
    const Tensor shifted = x * 2.0 + 50.0;  // far from zero mean
    const Tensor gy = tg::randn(shape).to(dtype);
    const tg::nn::detail::ChannelStats given{tg::randn({3}).to(dtype) + 50.0,
                                             tg::rand({3}).to(dtype) + 0.5};
    for (const bool batch_statistics : {true, false}) {
      const tg::nn::detail::ChannelStats stats =
          batch_statistics ? tg::nn::detail::ChannelStats{} : given;
      const Tensor fused = tg::nn::detail::batch_norm_channels(shifted, stats, w, b, 1e-5, nullptr);
      const Tensor composed =
          tg::nn::detail::composed_batch_norm_channels(shifted, stats, w, b, 1e-5);
      const double tolerance = dtype == Dtype::Float32 ? 2e-4 : 1e-11;
      INFO(tg::dtype_name(dtype) << " " << tg::shape_str(shape)
                                 << (batch_statistics ? ", batch statistics" : ", given"));
      const std::vector<double> y1 = fused.to_vector<double>(), y2 = composed.to_vector<double>();
      for (size_t i = 0; i < y1.size(); ++i) CHECK(y1[i] == Approx(y2[i]).margin(tolerance));
      const std::vector<Tensor> a = tg::grad(fused, {x, w, b}, gy, /*retain_graph=*/true);
      const std::vector<Tensor> c = tg::grad(composed, {x, w, b}, gy, /*retain_graph=*/true);
      for (size_t k = 0; k < a.size(); ++k) {
        const std::vector<double> p = a[k].to_vector<double>(), q = c[k].to_vector<double>();
        for (size_t i = 0; i < p.size(); ++i) CHECK(p[i] == Approx(q[i]).margin(tolerance));
      }
    }
  }
}

TEST_CASE("embedding, layer_norm and batch_norm pass gradcheck", "[normalization][gradcheck]") {
  tg::manual_seed(31);
  const Tensor index = tg::tensor({1, 0, 2, 1}, {2, 2}, {.dtype = Dtype::Int64});
  tg::testing::check_rows({
      {"embedding", [&](const auto& in) { return F::embedding(index, in[0]); }, {randn64({3, 2})}},
      // Not embedding with padding_idx: its padding row gets no gradient by design, which
      // finite differences cannot see (the fixture checks it against PyTorch instead).
      {"layer_norm",
       [](const auto& in) {
         return F::layer_norm(in[0], {2, 3}, in[1], in[2]);
       },
       {randn64({2, 2, 3}), randn64({2, 3}), randn64({2, 3})}},
      {"layer_norm without weight",
       [](const auto& in) { return F::layer_norm(in[0], {4}, {}, in[1], 1e-3); },
       {randn64({3, 4}), randn64({4})}},
      {"batch_norm training",
       [](const auto& in) { return F::batch_norm(in[0], {}, {}, in[1], in[2], true); },
       {randn64({4, 2, 3}), randn64({2}), randn64({2})}},
      {"batch_norm evaluation",
       [](const auto& in) {
         const Tensor mean = tg::tensor({0.5, -1}, {2}, {.dtype = Dtype::Float64});
         const Tensor var = tg::tensor({2, 0.5}, {2}, {.dtype = Dtype::Float64});
         return F::batch_norm(in[0], mean, var, in[1], in[2], false);
       },
       {randn64({3, 2, 2, 2}), randn64({2}), randn64({2})}},
      {"group_norm",
       [](const auto& in) { return F::group_norm(in[0], 2, in[1], in[2]); },
       {randn64({2, 4, 3}), randn64({4}), randn64({4})}},
      {"instance_norm with running statistics",
       [](const auto& in) {
         const Tensor mean = tg::zeros({2}, {.dtype = Dtype::Float64});
         const Tensor var = tg::ones({2}, {.dtype = Dtype::Float64});
         return F::instance_norm(in[0], mean, var, in[1], in[2], true, 0.1);
       },
       {randn64({2, 2, 2, 3}), randn64({2}), randn64({2})}},
  });
}

TEST_CASE("Embedding: PyTorch's weight, init, padding row and errors", "[normalization]") {
  tg::manual_seed(3);
  tg::nn::Embedding embedding(10, 4, {.padding_idx = -1});
  CHECK(names_of(embedding.named_parameters()) == std::vector<std::string>{"weight"});
  CHECK(embedding.weight.shape() == tg::Shape{10, 4});
  CHECK(tg::sum(tg::abs(embedding.weight.select(0, 9))).item<float>() == 0);  // padding row
  CHECK(tg::sum(tg::abs(embedding.weight.select(0, 0))).item<float>() > 0);
  const Tensor index = tg::tensor({9, 2, 9}, {3}, {.dtype = Dtype::Int64});
  const Tensor out = embedding(index);
  CHECK(out.shape() == tg::Shape{3, 4});
  tg::sum(out).backward();
  CHECK(tg::sum(tg::abs(embedding.weight.grad().select(0, 9))).item<float>() == 0);
  CHECK(embedding.weight.grad().select(0, 2).to_vector<float>() == std::vector<float>(4, 1));

  CHECK_TG_ERROR(embedding(tg::tensor({3, 10}, {2}, {.dtype = Dtype::Int64})),
                 "Embedding(10, 4): embedding: index 10 at position 1 is out of range for 10");
  CHECK_TG_ERROR(embedding(tg::tensor({1.0}, {1})), "expected Int64 indices, got Float32");
  CHECK_TG_ERROR(tg::nn::Embedding(5, 2, {.padding_idx = 5}), "padding_idx 5 is out of range");
  CHECK_TG_ERROR(tg::nn::Embedding(-1, 2), "must be non-negative, got -1 and 2");
}

TEST_CASE("LayerNorm: parameters, shapes and errors", "[normalization]") {
  tg::nn::LayerNorm norm({3, 4});
  CHECK(names_of(norm.named_parameters()) == std::vector<std::string>{"weight", "bias"});
  CHECK(norm.weight.to_vector<float>() == std::vector<float>(12, 1));
  CHECK(norm.bias.to_vector<float>() == std::vector<float>(12, 0));
  tg::manual_seed(4);
  const Tensor y = norm(tg::randn({2, 3, 4}) * 5.0 + 3.0);
  const Tensor per_sample = y.reshape({2, 12});
  CHECK(tg::max(tg::abs(per_sample.mean(1))).item<float>() < 1e-6);
  CHECK(tg::max(tg::abs(per_sample.var(1, false, 0) - 1.0)).item<float>() < 1e-3);
  CHECK(tg::nn::LayerNorm({5}, {.elementwise_affine = false}).parameters().empty());
  CHECK_TG_ERROR(norm(tg::zeros({2, 4, 3})),
                 "LayerNorm([3, 4]): layer_norm: normalized_shape [3, 4] expects an input of "
                 "shape [*, 3, 4], got [2, 4, 3]");
  CHECK_TG_ERROR(tg::nn::LayerNorm({0}), "normalized_shape must be positive, got [0]");
  CHECK_TG_ERROR(tg::nn::LayerNorm({2}, {.eps = 0}), "eps must be positive");
}

TEST_CASE("BatchNorm: PyTorch's names, buffers in state_dict, modes, save and load",
          "[normalization]") {
  tg::nn::BatchNorm2d bn(3);
  CHECK(names_of(bn.state_dict()) == std::vector<std::string>{"weight", "bias", "running_mean",
                                                              "running_var",
                                                              "num_batches_tracked"});
  CHECK(bn.parameters().size() == 2);
  CHECK(bn.num_batches_tracked.dtype() == Dtype::Int64);
  tg::manual_seed(5);
  const Tensor x = tg::randn({4, 3, 2, 2}) * 2.0 + 1.0;
  bn(x);
  CHECK(bn.num_batches_tracked.item<int64_t>() == 1);
  const std::vector<float> trained_mean = bn.running_mean.to_vector<float>();
  bn.eval();
  bn(x);  // evaluation leaves the statistics alone
  CHECK(bn.running_mean.to_vector<float>() == trained_mean);
  CHECK(bn.num_batches_tracked.item<int64_t>() == 1);

  tg::testing::ScratchDir dir;
  tg::save(bn, dir / "bn.safetensors");
  tg::nn::BatchNorm2d other(3);
  tg::load(other, dir / "bn.safetensors");
  CHECK(other.running_mean.to_vector<float>() == trained_mean);
  CHECK(other.num_batches_tracked.item<int64_t>() == 1);
  other.eval();
  CHECK(tg::testing::max_relative_error(other(x), bn(x)) == 0);

  tg::nn::BatchNorm1d untracked(2, {.affine = false, .track_running_stats = false});
  CHECK(untracked.state_dict().empty());
  untracked.eval();  // no running statistics: the batch's, also in evaluation
  CHECK(tg::max(tg::abs(untracked(tg::randn({5, 2})).mean(0))).item<float>() < 1e-6);
}

TEST_CASE("BatchNorm: bad shapes and options are errors naming the layer", "[normalization]") {
  tg::nn::BatchNorm2d bn(3);
  CHECK_TG_ERROR(bn(tg::zeros({8, 1, 28, 28})),
                 "BatchNorm2d: expected 3 channels (dimension 1), "
                 "got input [8, 1, 28, 28]");
  CHECK_TG_ERROR(bn(tg::zeros({8, 3})), "BatchNorm2d: expected input [N, 3, H, W], got [8, 3]");
  CHECK_TG_ERROR(tg::nn::BatchNorm1d(4)(tg::zeros({1, 4})),
                 "expected more than 1 value per channel when training, got input [1, 4]");
  CHECK_TG_ERROR(tg::nn::BatchNorm1d(4)(tg::zeros({2, 4, 3, 3})),
                 "BatchNorm1d: expected input [N, 4] or [N, 4, L], got [2, 4, 3, 3]");
  CHECK_TG_ERROR(tg::nn::BatchNorm1d(0), "num_features must be positive, got 0");
  CHECK_TG_ERROR(tg::nn::BatchNorm1d(2, {.momentum = 1.5}), "momentum must be in [0, 1], got 1.5");
  CHECK_TG_ERROR(F::batch_norm(tg::zeros({2, 3}), tg::zeros({2}), tg::ones({3})),
                 "batch_norm: expected running_mean of shape [3], got [2]");
  CHECK_TG_ERROR(tg::nn::BatchNorm1d(3)(tg::zeros({4, 3}, {.dtype = Dtype::Float64})),
                 "BatchNorm1d: expected Float32 input (the dtype of its weight), got Float64 "
                 "[4, 3]");
  CHECK_TG_ERROR(tg::nn::LayerNorm({3})(tg::zeros({4, 3}, {.dtype = Dtype::Float64})),
                 "LayerNorm: expected Float32 input");
}

// torch 1.13: BatchNorm1d(3) in training on zeros(0, 3) gives [0, 3], leaves the running
// statistics alone and counts the batch.
TEST_CASE("BatchNorm takes an empty batch, as torch's", "[normalization]") {
  tg::nn::BatchNorm1d bn(3);
  Tensor x = tg::zeros({0, 3}).set_requires_grad();
  const Tensor y = bn(x);
  CHECK(y.shape() == tg::Shape{0, 3});
  CHECK(bn.running_mean.to_vector<float>() == std::vector<float>{0, 0, 0});
  CHECK(bn.running_var.to_vector<float>() == std::vector<float>{1, 1, 1});
  CHECK(bn.num_batches_tracked.item<int64_t>() == 1);
  y.sum().backward();
  CHECK(bn.weight.grad().to_vector<float>() == std::vector<float>{0, 0, 0});
}

TEST_CASE("GroupNorm and InstanceNorm: PyTorch's names, buffers, modes and errors",
          "[normalization]") {
  tg::nn::GroupNorm group(2, 6);
  CHECK(names_of(group.named_parameters()) == std::vector<std::string>{"weight", "bias"});
  CHECK(group.weight.shape() == tg::Shape{6});
  CHECK(group.forward(tg::randn({3, 6, 4, 4})).shape() == tg::Shape{3, 6, 4, 4});
  CHECK(tg::nn::GroupNorm(3, 3, {.affine = false}).parameters().empty());
  CHECK_TG_ERROR(tg::nn::GroupNorm(4, 6),
                 "GroupNorm: num_channels must be divisible by num_groups");
  CHECK_TG_ERROR(group(tg::zeros({3, 4, 2})),
                 "GroupNorm(2, 6): expected input [N, 6, *], got [3, 4, 2]");
  CHECK_TG_ERROR(F::group_norm(tg::zeros({2, 6}), 4),
                 "group_norm: Expected number of channels in input to be divisible by num_groups");

  tg::nn::InstanceNorm2d plain(3);  // torch's defaults: no parameters, no statistics
  CHECK(plain.parameters().empty());
  CHECK(plain.named_buffers().empty());
  const Tensor x = tg::randn({2, 3, 4, 5}) * 3.0 + 1.0;
  const Tensor y = plain(x);
  CHECK(tg::abs(y.mean(3).mean(2)).max().item<float>() < 1e-5);  // each (sample, channel) centered
  CHECK(plain(x.select(0, 1)).shape() == tg::Shape{3, 4, 5});    // unbatched
  tg::nn::InstanceNorm1d tracked(3, {.affine = true, .track_running_stats = true});
  CHECK(names_of(tracked.named_parameters()) == std::vector<std::string>{"weight", "bias"});
  CHECK(names_of(tracked.named_buffers()) ==
        std::vector<std::string>{"running_mean", "running_var", "num_batches_tracked"});
  const Tensor seq = tg::randn({4, 3, 6}) + 2.0;
  tracked(seq);
  CHECK(tracked.running_mean.min().item<float>() > 0.05f);  // moved towards the means near 2
  tracked.eval();
  const Tensor before = tracked.running_mean.clone();
  const Tensor evaluated = tracked(seq);
  CHECK(tracked.running_mean.to_vector<float>() == before.to_vector<float>());  // eval: unchanged
  CHECK(evaluated.shape() == seq.shape());
  CHECK_TG_ERROR(tracked(tg::zeros({4, 2, 6})),
                 "InstanceNorm1d: expected input [N, 3, L] or [3, L], got [4, 2, 6]");
  CHECK_TG_ERROR(plain(tg::zeros({2, 3})),
                 "InstanceNorm2d: expected input [N, 3, H, W] or [3, H, W], got [2, 3]");
  CHECK_TG_ERROR(tg::nn::InstanceNorm1d(3)(tg::zeros({2, 3, 1})),
                 "Expected more than 1 spatial element when training, got input size [2, 3, 1]");
}

TEST_CASE("init: PyTorch's gains and fan rules, in place and off the tape", "[normalization]") {
  CHECK(init::calculate_gain("linear") == 1);
  CHECK(init::calculate_gain("tanh") == 5.0 / 3);
  CHECK(init::calculate_gain("relu") == std::sqrt(2.0));
  CHECK(init::calculate_gain("leaky_relu") == std::sqrt(2.0 / (1 + 0.01 * 0.01)));
  CHECK(init::calculate_gain("leaky_relu", 0.2) == std::sqrt(2.0 / 1.04));
  CHECK(init::calculate_gain("selu") == 0.75);
  CHECK_TG_ERROR(init::calculate_gain("softsign"), "unsupported nonlinearity \"softsign\"");

  tg::manual_seed(6);
  // A conv weight [out 16, in 8, 3, 3]: fan_in = 72, fan_out = 144.
  Tensor w = tg::empty({16, 8, 3, 3}).set_requires_grad(true);
  const auto max_abs = [](const Tensor& t) { return tg::max(tg::abs(t)).item<double>(); };
  const auto rms = [](const Tensor& t) { return std::sqrt(tg::mean(t * t).item<double>()); };
  init::kaiming_uniform_(w, std::sqrt(5.0));  // PyTorch's default for Linear and Conv
  const double bound = std::sqrt(3.0) * std::sqrt(2.0 / 6) / std::sqrt(72.0);
  CHECK(max_abs(w) <= bound);
  CHECK(max_abs(w) > 0.99 * bound);
  CHECK_FALSE(w.grad_fn());  // off the tape
  init::kaiming_normal_(w, 0, "fan_out", "relu");
  CHECK(rms(w) == Approx(std::sqrt(2.0 / 144)).epsilon(0.05));
  init::xavier_uniform_(w, 2);
  CHECK(max_abs(w) <= 2 * std::sqrt(6.0 / 216));
  CHECK(max_abs(w) > 0.99 * 2 * std::sqrt(6.0 / 216));
  init::xavier_normal_(w);
  CHECK(rms(w) == Approx(std::sqrt(2.0 / 216)).epsilon(0.05));
  init::normal_(w, 3, 0.5);
  CHECK(tg::mean(w).item<double>() == Approx(3).epsilon(0.01));
  CHECK(init::constant_(w, 0.25).to_vector<float>() == std::vector<float>(w.numel(), 0.25f));
  CHECK_TG_ERROR(init::kaiming_uniform_(w, 0, "fan_middle"), "mode must be \"fan_in\" or");
  Tensor v = tg::empty({5});
  CHECK_TG_ERROR(init::xavier_uniform_(v),
                 "xavier_uniform_: fan in and fan out need a tensor of "
                 "at least 2 dimensions, got shape [5]");

  Tensor eye = tg::empty({2, 3});
  CHECK(init::eye_(eye).to_vector<float>() == std::vector<float>{1, 0, 0, 0, 1, 0});
  CHECK_TG_ERROR(init::eye_(v), "eye_: expected a 2-D tensor");
  for (const tg::Shape& shape : {tg::Shape{3, 5}, tg::Shape{6, 2}, tg::Shape{4, 2, 2}}) {
    Tensor q = tg::empty(shape, {.dtype = Dtype::Float64});
    init::orthogonal_(q, 2);
    const Tensor m = q.reshape({shape[0], -1});
    // Orthonormal along the shorter side, times the gain.
    const Tensor gram = m.size(0) <= m.size(1) ? tg::matmul(m, m.transpose(0, 1))
                                               : tg::matmul(m.transpose(0, 1), m);
    const Tensor expected = 4.0 * tg::eye(gram.size(0), {.dtype = Dtype::Float64});
    CHECK(tg::testing::max_relative_error(gram, expected) < 1e-12);
  }
}
