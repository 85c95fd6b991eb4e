// Convolution, pooling and padding (tg::nn::functional and the Conv/Pool modules) against
// PyTorch 1.13 (tests/fixtures/conv.txt, make_conv_fixtures.py), gradcheck, and the errors.

#include <tapegrad/nn/conv.hpp>
#include <tapegrad/nn/pooling.hpp>
#include <tapegrad/nn/resize.hpp>

#include "helpers.hpp"
#include "tensor_api_fixture.hpp"

#include <cmath>
#include <limits>
#include <sstream>

using tg::Tensor;
using tg::testing::FixtureCase;
using tg::testing::option_list;
using tg::testing::randn64;
namespace F = tg::nn::F;

namespace {

using Inputs = std::map<std::string, Tensor>;

F::Pair pair(const FixtureCase& c, const char* key) {
  const std::vector<int64_t> v = option_list(c, key);
  return v.size() == 1 ? F::Pair(v[0]) : F::Pair(v[0], v[1]);
}

std::string text_option(const FixtureCase& c, const char* key, const char* otherwise) {
  const auto it = c.options.find(key);
  return it == c.options.end() ? otherwise : it->second;
}

F::ConvOptions conv_options(const FixtureCase& c) {
  const std::string padding = c.options.at("padding");
  const bool named = padding == "same" || padding == "valid";
  return {.stride = pair(c, "stride"),
          .padding = named ? F::ConvPadding(padding) : F::ConvPadding(pair(c, "padding")),
          .dilation = pair(c, "dilation"),
          .groups = option_list(c, "groups")[0],
          .padding_mode = text_option(c, "padding_mode", "zeros")};
}

F::ConvTransposeOptions conv_transpose_options(const FixtureCase& c) {
  return {.stride = pair(c, "stride"),
          .padding = pair(c, "padding"),
          .output_padding = pair(c, "output_padding"),
          .groups = option_list(c, "groups")[0],
          .dilation = pair(c, "dilation")};
}

Tensor optional_input(const Inputs& in, const char* name) {
  const auto it = in.find(name);
  return it == in.end() ? Tensor{} : it->second;
}

}  // namespace

TEST_CASE("conv, pooling and pad match PyTorch 1.13 with their gradients", "[conv]") {
  const std::map<std::string, tg::testing::TensorApiOp> ops = {
      {"conv2d",
       [](const FixtureCase& c, const Inputs& in) -> std::vector<Tensor> {
         return {
             F::conv2d(in.at("x"), in.at("weight"), optional_input(in, "bias"), conv_options(c))};
       }},
      {"conv1d",
       [](const FixtureCase& c, const Inputs& in) -> std::vector<Tensor> {
         return {F::conv1d(in.at("x"), in.at("weight"), in.at("bias"), conv_options(c))};
       }},
      {"conv_transpose2d",
       [](const FixtureCase& c, const Inputs& in) -> std::vector<Tensor> {
         return {F::conv_transpose2d(in.at("x"), in.at("weight"), optional_input(in, "bias"),
                                     conv_transpose_options(c))};
       }},
      {"conv_transpose1d",
       [](const FixtureCase& c, const Inputs& in) -> std::vector<Tensor> {
         return {F::conv_transpose1d(in.at("x"), in.at("weight"), optional_input(in, "bias"),
                                     conv_transpose_options(c))};
       }},
      {"max_pool2d",
       [](const FixtureCase& c, const Inputs& in) -> std::vector<Tensor> {
         const F::Pair dilation = c.options.count("dilation") ? pair(c, "dilation") : F::Pair(1);
         return {F::max_pool2d(in.at("x"), pair(c, "kernel"), pair(c, "stride"), pair(c, "padding"),
                               dilation, c.option("ceil_mode", 0) != 0)};
       }},
      {"avg_pool2d",
       [](const FixtureCase& c, const Inputs& in) -> std::vector<Tensor> {
         return {F::avg_pool2d(in.at("x"), pair(c, "kernel"), pair(c, "stride"), pair(c, "padding"),
                               c.option("ceil_mode", 0) != 0,
                               c.option("count_include_pad", 1) != 0)};
       }},
      {"adaptive_avg_pool2d",
       [](const FixtureCase& c, const Inputs& in) -> std::vector<Tensor> {
         return {F::adaptive_avg_pool2d(in.at("x"), pair(c, "output"))};
       }},
      {"pad",
       [](const FixtureCase& c, const Inputs& in) -> std::vector<Tensor> {
         return {F::pad(in.at("x"), option_list(c, "pad"), text_option(c, "mode", "constant"),
                        c.option("value", 0))};
       }},
      {"pixel_shuffle",
       [](const FixtureCase& c, const Inputs& in) -> std::vector<Tensor> {
         return {F::pixel_shuffle(in.at("x"), option_list(c, "factor")[0])};
       }},
      {"pixel_unshuffle",
       [](const FixtureCase& c, const Inputs& in) -> std::vector<Tensor> {
         return {F::pixel_unshuffle(in.at("x"), option_list(c, "factor")[0])};
       }},
      {"interpolate",
       [](const FixtureCase& c, const Inputs& in) -> std::vector<Tensor> {
         if (c.options.count("size")) return {F::interpolate(in.at("x"), option_list(c, "size"))};
         std::vector<double> scale;
         std::stringstream list(c.options.at("scale"));
         for (std::string item; std::getline(list, item, ',');) scale.push_back(std::stod(item));
         return {F::interpolate(in.at("x"), {}, scale)};
       }},
  };
  const std::set<std::string> seen = tg::testing::check_tensor_api_cases(ops, 1e-10, "conv.txt");
  CHECK(seen.size() == ops.size());
}

TEST_CASE("conv, pooling and pad pass gradcheck", "[conv][gradcheck]") {
  tg::manual_seed(31);
  using V = std::vector<Tensor>;
  tg::testing::check_rows({
      {"conv2d stride padding dilation",
       [](const V& in) {
         return F::conv2d(in[0], in[1], in[2],
                          {.stride = {2, 1}, .padding = {1, 0}, .dilation = {1, 2}});
       },
       {randn64({2, 2, 5, 6}), randn64({3, 2, 2, 2}), randn64({3})}},
      {"conv2d groups unbatched",
       [](const V& in) { return F::conv2d(in[0], in[1], {}, {.padding = 1, .groups = 2}); },
       {randn64({4, 4, 4}), randn64({2, 2, 3, 3})}},
      {"conv1d",
       [](const V& in) { return F::conv1d(in[0], in[1], in[2], {.stride = 2, .padding = 1}); },
       {randn64({2, 3, 7}), randn64({2, 3, 3}), randn64({2})}},
      {"max_pool2d",
       [](const V& in) { return F::max_pool2d(in[0], 3, 2, 1); },
       {randn64({2, 2, 5, 5})}},
      // Fused ops inside a graph: their recorded backward runs a pass of its own in the middle
      // of the enclosing one (src/autograd/composed_backward.hpp), which must leave it intact.
      {"conv2d tanh max_pool2d conv2d chain",
       [](const V& in) {
         const Tensor h =
             F::max_pool2d(tg::tanh(F::conv2d(in[0], in[1], in[2], {.padding = 1})), 2);
         return F::conv2d(h * in[0].narrow(2, 0, 2).narrow(3, 0, 2), in[3]);
       },
       {randn64({2, 2, 4, 4}), randn64({2, 2, 3, 3}), randn64({2}), randn64({1, 2, 2, 2})}},
      {"avg_pool2d",
       [](const V& in) {
         return F::avg_pool2d(in[0], {2, 3}, 1, {1, 1});
       },
       {randn64({1, 2, 4, 5})}},
      {"max_pool2d dilation ceil_mode",
       [](const V& in) {
         return F::max_pool2d(in[0], {2, 3}, 2, {1, 1}, {2, 1}, true);
       },
       {randn64({2, 2, 6, 7})}},
      {"avg_pool2d ceil_mode count_include_pad=false",
       [](const V& in) { return F::avg_pool2d(in[0], 3, 2, 1, true, false); },
       {randn64({1, 2, 6, 5})}},
      {"adaptive_avg_pool2d",
       [](const V& in) {
         return F::adaptive_avg_pool2d(in[0], {3, 2});
       },
       {randn64({2, 2, 5, 7})}},
      {"pad",
       [](const V& in) {
         return F::pad(in[0], {1, -1, 2, 0}, 0.5);
       },
       {randn64({2, 3, 4})}},
      {"pad reflect replicate circular",
       [](const V& in) {
         const Tensor reflected = F::pad(in[0], {2, 1, 1, 2}, "reflect");
         return F::pad(F::pad(reflected, {1, 0, 0, 2}, "replicate"), {3, 1}, "circular");
       },
       {randn64({2, 3, 4})}},
      {"conv2d padding same (even kernel) and padding_mode reflect",
       [](const V& in) {
         const Tensor h = F::conv2d(in[0], in[1], in[2], {.padding = "same", .dilation = {2, 1}});
         return F::conv2d(h, in[1], {}, {.padding = {1, 2}, .padding_mode = "reflect"});
       },
       {randn64({1, 2, 5, 5}), randn64({2, 2, 2, 3}), randn64({2})}},
      {"conv_transpose2d stride output_padding groups dilation",
       [](const V& in) {
         return F::conv_transpose2d(in[0], in[1], in[2],
                                    {.stride = {2, 1},
                                     .padding = {1, 0},
                                     .output_padding = {1, 1},
                                     .groups = 2,
                                     .dilation = {1, 2}});
       },
       {randn64({2, 4, 3, 3}), randn64({4, 1, 3, 2}), randn64({2})}},
      {"conv_transpose1d unbatched, after a conv1d",
       [](const V& in) {
         return F::conv_transpose1d(F::conv1d(in[0], in[1]), in[1], {}, {.stride = 2});
       },
       {randn64({2, 6}), randn64({3, 2, 2})}},
      {"pixel_shuffle, interpolate nearest, pixel_unshuffle",
       [](const V& in) {
         return F::pixel_unshuffle(F::interpolate(F::pixel_shuffle(in[0], 2), {}, {2.0}), 4);
       },
       {randn64({1, 4, 2, 3})}},
      {"conv1d padding same and padding_mode circular",
       [](const V& in) {
         return F::conv1d(in[0], in[1], in[2], {.padding = "same", .padding_mode = "circular"});
       },
       {randn64({2, 2, 5}), randn64({3, 2, 4}), randn64({3})}},
  });
}

// The fused conv2d multiplies a few samples' columns at once when the output is small and one
// sample's when it is large (src/ops/conv.cpp): a batch gives, sample for sample, what each
// sample gives alone, for outputs of 1, 20 and 256 positions, across chunks of 16 samples, with
// groups, stride and dilation.
TEST_CASE("conv2d gives a batch's samples what it gives each sample alone, at every output size",
          "[conv]") {
  tg::manual_seed(35);
  struct Geometry {
    tg::Shape x, weight;
    F::ConvOptions options;
  };
  const std::vector<Geometry> geometries = {
      {{37, 4, 3, 3}, {6, 4, 3, 3}, {}},
      {{37, 4, 6, 7}, {6, 2, 3, 3}, {.groups = 2}},
      {{21, 2, 9, 9}, {4, 2, 2, 2}, {.stride = 2, .dilation = 2}},
      {{3, 2, 18, 18}, {3, 2, 3, 3}, {.padding = 1}},
  };
  const auto max_abs_diff = [](const Tensor& a, const Tensor& b) {
    return (a - b).abs().max().item<double>();
  };
  for (const Geometry& geometry : geometries) {
    INFO("x " << tg::shape_str(geometry.x) << ", weight " << tg::shape_str(geometry.weight));
    const Tensor x = randn64(geometry.x), w = randn64(geometry.weight);
    const Tensor b = randn64({geometry.weight[0]});
    const Tensor y = F::conv2d(x, w, b, geometry.options);
    const Tensor gy = tg::randn(y.shape(), {.dtype = tg::Dtype::Float64});
    const std::vector<Tensor> grads = tg::grad(y, {x, w, b}, gy);
    Tensor dw = tg::zeros_like(w), db = tg::zeros_like(b);
    for (int64_t s = 0; s < x.size(0); ++s) {
      const Tensor xs = x.narrow(0, s, 1).detach().set_requires_grad();
      const Tensor ys = F::conv2d(xs, w, b, geometry.options);
      const Tensor gys = gy.narrow(0, s, 1);
      const std::vector<Tensor> alone = tg::grad(ys, {xs, w, b}, gys);
      CHECK(max_abs_diff(ys, y.narrow(0, s, 1)) < 1e-13);
      CHECK(max_abs_diff(alone[0], grads[0].narrow(0, s, 1)) < 1e-13);
      dw = dw + alone[1];
      db = db + alone[2];
    }
    CHECK(max_abs_diff(dw, grads[1]) < 1e-11);
    CHECK(max_abs_diff(db, grads[2]) < 1e-11);
  }
}

TEST_CASE("Conv and pool modules: torch's parameter shapes, init bounds and output shapes",
          "[conv]") {
  tg::manual_seed(33);
  tg::nn::Conv2d conv(4, 6, {3, 2}, {.stride = 2, .groups = 2});
  CHECK(conv.weight.shape() == tg::Shape{6, 2, 3, 2});
  CHECK(conv.bias.shape() == tg::Shape{6});
  const double bound = 1 / std::sqrt(2.0 * 3 * 2);  // fan_in = in/groups · kH · kW
  CHECK(conv.weight.abs().max().item<double>() <= bound);
  CHECK(conv.weight.abs().max().item<double>() > 0.8 * bound);
  CHECK(conv.bias.abs().max().item<double>() <= bound);
  CHECK(conv.parameters().size() == 2);
  CHECK(conv.forward(tg::randn({8, 4, 9, 8})).shape() == tg::Shape{8, 6, 4, 4});
  tg::nn::Conv2d no_bias(3, 2, 3, {.padding = 1, .bias = false});
  CHECK_FALSE(no_bias.bias.defined());
  CHECK(no_bias.parameters().size() == 1);
  CHECK(no_bias.forward(tg::randn({3, 5, 5})).shape() == tg::Shape{2, 5, 5});
  tg::nn::Conv1d conv1(3, 5, 4, {.dilation = 2});
  CHECK(conv1.weight.shape() == tg::Shape{5, 3, 4});
  CHECK(conv1.forward(tg::randn({2, 3, 10})).shape() == tg::Shape{2, 5, 4});
  CHECK(tg::nn::MaxPool2d(2).forward(tg::randn({2, 3, 7, 6})).shape() == tg::Shape{2, 3, 3, 3});
  const tg::nn::MaxPool2d rectangle(
      {2, 3});  // a braced kernel alone: kernel (2, 3), stride = kernel
  CHECK((rectangle.kernel_size.h == 2 && rectangle.kernel_size.w == 3));
  CHECK(tg::nn::AvgPool2d({2, 3}).forward(tg::randn({1, 6, 6})).shape() == tg::Shape{1, 3, 2});
  CHECK(tg::nn::AvgPool2d(3, 2, 1).forward(tg::randn({2, 3, 7, 6})).shape() ==
        tg::Shape{2, 3, 4, 3});
  CHECK(tg::nn::AdaptiveAvgPool2d({2, 5}).forward(tg::randn({3, 7, 6})).shape() ==
        tg::Shape{3, 2, 5});
}

TEST_CASE("ConvTranspose modules: torch's parameter shapes, init bounds and output shapes",
          "[conv]") {
  tg::manual_seed(37);
  // DCGAN's generator block: 4×4 kernel, stride 2, padding 1 doubles the size.
  tg::nn::ConvTranspose2d up(8, 6, 4, {.stride = 2, .padding = 1, .groups = 2});
  CHECK(up.weight.shape() == tg::Shape{8, 3, 4, 4});
  CHECK(up.bias.shape() == tg::Shape{6});
  const double bound = 1 / std::sqrt(3.0 * 4 * 4);  // torch's fan_in of [in, out/groups, kH, kW]
  CHECK(up.weight.abs().max().item<double>() <= bound);
  CHECK(up.weight.abs().max().item<double>() > 0.8 * bound);
  CHECK(up.bias.abs().max().item<double>() <= bound);
  const auto names = up.named_parameters();
  REQUIRE(names.size() == 2);
  CHECK(names[0].first == "weight");
  CHECK(names[1].first == "bias");
  CHECK(up.forward(tg::randn({5, 8, 7, 7})).shape() == tg::Shape{5, 6, 14, 14});
  tg::nn::ConvTranspose2d padded_out(2, 3, {3, 2},
                                     {.stride = {2, 3}, .output_padding = {1, 2}, .bias = false});
  CHECK_FALSE(padded_out.bias.defined());
  CHECK(padded_out.forward(tg::randn({2, 4, 5})).shape() == tg::Shape{3, 10, 16});
  tg::nn::ConvTranspose1d one(3, 5, 4, {.stride = 3, .dilation = 2});
  CHECK(one.weight.shape() == tg::Shape{3, 5, 4});
  CHECK(one.forward(tg::randn({2, 3, 6})).shape() == tg::Shape{2, 5, 22});
}

TEST_CASE("padding, pixel shuffle and upsampling modules: torch's arguments, shapes and errors",
          "[conv]") {
  tg::manual_seed(43);
  const Tensor image = tg::randn({2, 3, 4, 5});
  const auto same = [](const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() && a.to_vector<float>() == b.to_vector<float>();
  };
  CHECK(same(tg::nn::ReflectionPad2d(2)(image), F::pad(image, {2, 2, 2, 2}, "reflect")));
  CHECK(same(tg::nn::ReplicationPad2d({1, 0, 2, 3})(image),
             F::pad(image, {1, 0, 2, 3}, "replicate")));
  CHECK(same(tg::nn::ZeroPad2d({1, 1, 0, 2})(image), F::pad(image, {1, 1, 0, 2})));
  CHECK(same(tg::nn::ConstantPad2d(1, 0.5)(image), F::pad(image, {1, 1, 1, 1}, 0.5)));
  const Tensor sequence = tg::randn({2, 3, 6});
  CHECK(same(tg::nn::ReflectionPad1d({3, 1})(sequence), F::pad(sequence, {3, 1}, "reflect")));
  CHECK(same(tg::nn::ReplicationPad1d(2)(sequence), F::pad(sequence, {2, 2}, "replicate")));
  CHECK(same(tg::nn::ConstantPad1d(2, -1.0)(sequence), F::pad(sequence, {2, 2}, -1.0)));
  CHECK(tg::nn::ReflectionPad2d(1).parameters().empty());
  CHECK_TG_ERROR(tg::nn::ReflectionPad2d({1, 2, 3}),
                 "ReflectionPad2d: padding must be one int or 4 ints (left, right, top, bottom), "
                 "got 3");
  CHECK_TG_ERROR(tg::nn::ReflectionPad2d(5)(image), "ReflectionPad2d: ");
  CHECK_TG_ERROR(tg::nn::ReflectionPad1d(1)(image),
                 "ReflectionPad1d: expected a 2-d or 3-d input, got [2, 3, 4, 5]");

  const Tensor channels = tg::randn({2, 12, 3, 2});
  const Tensor shuffled = tg::nn::PixelShuffle(2)(channels);
  CHECK(shuffled.shape() == tg::Shape{2, 3, 6, 4});
  CHECK(same(tg::nn::PixelUnshuffle(2)(shuffled), channels));
  CHECK_TG_ERROR(F::pixel_shuffle(tg::randn({2, 6, 3, 2}), 2),
                 "pixel_shuffle: expected an input [*, C·4, H, W] (channels divisible by 4)");
  CHECK(tg::nn::Upsample({.scale_factor = {2}})(image).shape() == tg::Shape{2, 3, 8, 10});
  CHECK(tg::nn::Upsample({.size = {3, 7}})(image).shape() == tg::Shape{2, 3, 3, 7});
  CHECK_TG_ERROR(tg::nn::Upsample({.scale_factor = {2}, .mode = "bilinear"}),
                 "Upsample: only mode \"nearest\" is offered, got \"bilinear\"");
  CHECK_TG_ERROR(tg::nn::Upsample({}), "Upsample: give either size or scale_factor");
  CHECK_TG_ERROR(F::interpolate(image, {2, 3, 4}),
                 "interpolate: expected 1 or 2 sizes or factors for input [2, 3, 4, 5], got 3");
}

TEST_CASE("conv_transpose2d is the adjoint of conv2d: <conv(a), b> = <a, conv_transpose(b)>",
          "[conv]") {
  tg::manual_seed(41);
  const Tensor a = randn64({3, 4, 9, 8}), w = randn64({6, 2, 3, 2});
  const F::ConvOptions conv{.stride = {2, 3}, .padding = {1, 1}, .dilation = {1, 2}, .groups = 2};
  const Tensor y = F::conv2d(a, w, {}, conv);
  const Tensor b = randn64(y.shape());
  // output_padding restores the rows and columns a strided conv2d drops: 9 and 8 again.
  const Tensor back = F::conv_transpose2d(b, w, {},
                                          {.stride = {2, 3},
                                           .padding = {1, 1},
                                           .output_padding = {0, 1},
                                           .groups = 2,
                                           .dilation = {1, 2}});
  REQUIRE(back.shape() == a.shape());
  const double lhs = (y * b).sum().item<double>(), rhs = (a * back).sum().item<double>();
  CHECK(lhs == Approx(rhs).epsilon(1e-12));
}

TEST_CASE("max_pool2d sends the gradient to the first maximum of a window, as torch", "[conv]") {
  Tensor x = tg::testing::leaf64({1, 3, 3, 2}, {1, 1, 2, 2});
  F::max_pool2d(x, 2).sum().backward();
  CHECK(x.grad().to_vector<double>() == std::vector<double>{0, 1, 0, 0});
}

TEST_CASE("max_pool2d takes a window's last NaN, as torch's kernel", "[conv]") {
  // torch 1.13: x = [[1, nan, 0], [nan, 2, 5], [0, 0, 0]], max_pool2d(x, 3, 1, 1).sum().backward()
  // gives y = nan everywhere but 5 at (2, 2), and x.grad = [[0, 2, 0], [6, 0, 1], [0, 0, 0]].
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const tg::Dtype dtype : {tg::Dtype::Float64, tg::Dtype::Float32}) {
    Tensor x = tg::from_vector<double>({1, nan, 0, nan, 2, 5, 0, 0, 0}, {1, 1, 3, 3})
                   .to(dtype)
                   .set_requires_grad();
    const Tensor y = F::max_pool2d(x, 3, 1, 1);
    const std::vector<double> values = y.to_vector<double>();
    for (size_t i = 0; i + 1 < values.size(); ++i) CHECK(std::isnan(values[i]));
    CHECK(values.back() == 5);
    y.sum().backward();
    CHECK(x.grad().to_vector<double>() == std::vector<double>{0, 2, 0, 6, 0, 1, 0, 0, 0});
  }
  // A plane without NaN next to one with: each takes its own path.
  Tensor two =
      tg::from_vector<double>({1, nan, nan, 2, 3, 3, 1, 3}, {1, 2, 2, 2}).set_requires_grad();
  F::max_pool2d(two, 2).sum().backward();
  CHECK(two.grad().to_vector<double>() == std::vector<double>{0, 0, 1, 0, 1, 0, 0, 0});
}

TEST_CASE("conv and pooling reject bad shapes and options with tg::Error", "[conv]") {
  tg::nn::Conv2d conv(3, 4, 3);
  CHECK_TG_ERROR(conv.forward(tg::zeros({8, 1, 28, 28})),
                 "Conv2d: expected input [N, 3, H, W], got [8, 1, 28, 28]");
  CHECK_TG_ERROR(conv.forward(tg::zeros({8, 3, 28})), "Conv2d: expected input [N, 3, H, W]");
  CHECK_TG_ERROR(F::conv2d(tg::zeros({1, 3, 2, 2}), conv.weight),
                 "Kernel size can't be greater than actual input size");
  CHECK_TG_ERROR(F::conv2d(tg::zeros({1, 2, 5, 5}), conv.weight),
                 "expected input [1, 2, 5, 5] to have 3 channels, but got 2 channels instead");
  CHECK_TG_ERROR(F::conv2d(tg::zeros({1, 3, 5, 5}), conv.weight, {}, {.padding = -1}),
                 "conv2d: negative padding is not supported");
  CHECK_TG_ERROR(F::conv2d(tg::zeros({1, 3, 5, 5}), conv.weight, {}, {.stride = {1, 0}}),
                 "conv2d: non-positive stride is not supported");
  CHECK_TG_ERROR(F::conv2d(tg::zeros({1, 3, 5, 5}), conv.weight,
                           tg::zeros({4}, {.dtype = tg::Dtype::Float64})),
                 "conv2d: dtypes differ: Float32 [1, 3, 5, 5] and Float64 [4]");
  CHECK_TG_ERROR(F::max_pool2d(tg::zeros({1, 3, 5, 5}), 2, 2, 0, {1, 0}),
                 "max_pool2d: dilation should be greater than zero, got (1, 0)");
  CHECK_TG_ERROR(F::max_pool2d(tg::zeros({1, 3, 5, 5}), 3, 1, 0, 3),
                 "max_pool2d: output size is too small: kernel (7, 7) over padded input (5, 5)");
  CHECK_TG_ERROR(F::conv2d(tg::zeros({1, 3, 5, 5}), conv.weight, tg::zeros({3})),
                 "conv2d: expected bias [4], got [3]");
  CHECK_TG_ERROR(tg::nn::Conv2d(3, 4, 3, {.groups = 2}),
                 "Conv2d: in_channels=3 must be divisible by groups=2");
  CHECK_TG_ERROR(tg::nn::Conv2d(4, 3, 3, {.groups = 2}),
                 "Conv2d: out_channels=3 must be divisible by groups=2");
  CHECK_TG_ERROR(F::conv1d(tg::zeros({1, 3, 5}), tg::zeros({2, 3, 2}), {}, {.stride = {1, 2}}),
                 "conv1d: stride must be one number");
  tg::nn::ConvTranspose2d up(3, 4, 3);
  CHECK_TG_ERROR(up.forward(tg::zeros({8, 1, 5, 5})),
                 "ConvTranspose2d: expected input [N, 3, H, W], got [8, 1, 5, 5]");
  CHECK_TG_ERROR(F::conv_transpose2d(tg::zeros({1, 2, 5, 5}), up.weight),
                 "conv_transpose2d: given transposed=1, weight of size [3, 4, 3, 3], expected "
                 "input [1, 2, 5, 5] to have 3 channels, but got 2 channels instead");
  CHECK_TG_ERROR(F::conv_transpose2d(tg::zeros({1, 3, 5, 5}), up.weight, {}, {.output_padding = 1}),
                 "conv_transpose2d: output padding must be smaller than either stride or "
                 "dilation, but got output_padding (1, 1), stride (1, 1), dilation (1, 1)");
  CHECK_TG_ERROR(F::conv_transpose2d(tg::zeros({1, 3, 1, 1}), up.weight, {}, {.padding = 2}),
                 "conv_transpose2d: given input size per channel: (1 x 1). Calculated output "
                 "size per channel: (-1 x -1). Output size is too small");
  CHECK_TG_ERROR(F::conv_transpose2d(tg::zeros({1, 3, 5, 5}), up.weight, tg::zeros({3})),
                 "conv_transpose2d: expected bias [4], got [3]");
  CHECK_TG_ERROR(F::conv_transpose2d(tg::zeros({1, 3, 5, 5}), up.weight, {}, {.groups = 2}),
                 "conv_transpose2d: given groups=2, expected weight [3, 4, 3, 3] to be divisible "
                 "by 2 at dimension 0");
  CHECK_TG_ERROR(tg::nn::ConvTranspose2d(3, 4, 3, {.groups = 2}),
                 "ConvTranspose2d: in_channels=3 must be divisible by groups=2");
  CHECK_TG_ERROR(
      F::conv_transpose1d(tg::zeros({1, 3, 5}), tg::zeros({3, 2, 2}), {}, {.stride = {1, 2}}),
      "conv_transpose1d: stride must be one number");
  CHECK_TG_ERROR(F::conv_transpose1d(tg::zeros({1, 3, 5, 5}), tg::zeros({3, 2, 2})),
                 "conv_transpose1d: expected 2D (unbatched) or 3D (batched) input");
  CHECK_TG_ERROR(F::max_pool2d(tg::zeros({1, 1, 4, 4}), 2, 2, 2),
                 "max_pool2d: pad should be at least 0 and at most half of kernel size");
  CHECK_TG_ERROR(F::avg_pool2d(tg::zeros({1, 1, 2, 2}), 3), "avg_pool2d: output size is too small");
  CHECK_TG_ERROR(F::max_pool2d(tg::zeros({4, 4}), 2), "max_pool2d: expected 3D or 4D input");
  CHECK_TG_ERROR(F::adaptive_avg_pool2d(tg::zeros({1, 4, 4}), 0),
                 "adaptive_avg_pool2d: expected a positive output size");
  CHECK_TG_ERROR(F::pad(tg::zeros({2, 2}), {1}), "pad: padding length must be even");
  CHECK_TG_ERROR(F::pad(tg::zeros({2, 2}), {-2, -1}), "would be negative");
}

TEST_CASE("padding same and valid, padding modes: shapes and errors", "[conv]") {
  tg::manual_seed(35);
  // "same" keeps the size for odd and even kernels, dilated or not; "valid" is padding 0.
  const Tensor x = tg::randn({2, 3, 7, 6});
  for (const F::Pair kernel : {F::Pair(3), F::Pair(2, 4), F::Pair(1, 5)}) {
    tg::nn::Conv2d same(3, 4, kernel, {.padding = "same", .dilation = {2, 1}});
    CHECK(same.forward(x).shape() == tg::Shape{2, 4, 7, 6});
    tg::nn::Conv2d reflect(3, 4, kernel, {.padding = "same", .padding_mode = "reflect"});
    CHECK(reflect.forward(x).shape() == tg::Shape{2, 4, 7, 6});
  }
  tg::nn::Conv2d valid(3, 4, 3, {.padding = "valid"});
  CHECK(valid.forward(x).shape() == tg::Shape{2, 4, 5, 4});
  CHECK(tg::nn::Conv1d(3, 2, 4, {.padding = "same"}).forward(tg::randn({3, 9})).shape() ==
        tg::Shape{2, 9});
  // A padding mode reads the input's own values where zeros would read 0.
  const Tensor ones = tg::ones({1, 1, 3, 3});
  const Tensor w = tg::ones({1, 1, 3, 3});
  for (const char* mode : {"reflect", "replicate", "circular"}) {
    CHECK(F::conv2d(ones, w, {}, {.padding = 1, .padding_mode = mode}).sum().item<double>() == 81);
  }
  CHECK(F::conv2d(ones, w, {}, {.padding = 1}).sum().item<double>() == 49);
  CHECK_TG_ERROR(tg::nn::Conv2d(3, 4, 3, {.stride = 2, .padding = "same"}),
                 "Conv2d: padding=\"same\" is not supported for strided convolutions, got stride "
                 "(2, 2)");
  CHECK_TG_ERROR(tg::nn::Conv1d(3, 4, 3, {.padding_mode = "reflection"}),
                 "Conv1d: padding_mode must be \"zeros\", \"reflect\", \"replicate\" or "
                 "\"circular\", got \"reflection\"");
  CHECK_TG_ERROR(
      F::ConvPadding("full"),
      "ConvPadding: padding must be an int, a pair, \"valid\" or \"same\", got \"full\"");
  CHECK_TG_ERROR(
      F::pad(tg::zeros({2, 3}), {3, 0}, "reflect"),
      "pad: reflect padding (3, 0) of dim 1 must be less than its size 3 (input [2, 3])");
  CHECK_TG_ERROR(F::pad(tg::zeros({2, 3}), {0, 0, 0, 3}, "circular"),
                 "pad: circular padding (0, 3) of dim 0 wraps around more than once");
  CHECK_TG_ERROR(F::pad(tg::zeros({2, 3}), {-1, 0}, "replicate"),
                 "pad: replicate padding must not be negative, got (-1, 0) for dim 1");
  CHECK_TG_ERROR(F::pad(tg::zeros({2, 3}), {1, 1}, "edge"),
                 "pad: mode must be \"constant\", \"reflect\", \"replicate\" or \"circular\", "
                 "got \"edge\"");
  CHECK_TG_ERROR(
      F::conv2d(tg::zeros({1, 1, 2, 2}), w, {}, {.padding = 2, .padding_mode = "reflect"}),
      "pad: reflect padding (2, 2) of dim 3 must be less than its size 2");
}
