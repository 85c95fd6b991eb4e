// The models whose ONNX export the tests check against torch.onnx.export and OpenCV. Each is
// built again, with the same names and weights, by tests/onnx/make_torch_reference.py (MODELS);
// the two lists must agree, which the structural comparison checks.
#pragma once

#include <tapegrad/tapegrad.hpp>

#include <functional>
#include <string>
#include <vector>

namespace zoo {

namespace nn = tg::nn;

struct Model {
  std::string name;
  std::function<nn::Sequential()> build;
  tg::Shape sample_shape;  // one sample's shape: the input is [N] + sample_shape
  bool indices = false;    // Int64 token indices in [0, 10) instead of Float32
};

inline std::vector<Model> models() {
  using nn::Linear;
  return {
      {"mlp_relu",
       [] {
         return nn::Sequential{Linear(4, 16), nn::ReLU(), Linear(16, 3)};
       },
       {4}},
      {"mlp_classic",
       [] {
         return nn::Sequential{Linear(5, 8), nn::Tanh(),         Linear(8, 8),      nn::Sigmoid(),
                               Linear(8, 6), nn::LeakyReLU(0.2), Linear(6, 6),      nn::ELU(0.5),
                               Linear(6, 4), nn::Softmax(1),     nn::LogSoftmax(-1)};
       },
       {5}},
      {"mlp_smooth",
       [] {
         return nn::Sequential{
             Linear(6, 8), nn::GELU(),     Linear(8, 8), nn::GELU("tanh"),    nn::Dropout(0.3),
             Linear(8, 8), nn::SiLU(),     Linear(8, 8), nn::Mish(),          nn::Identity(),
             Linear(8, 8), nn::Softplus(), Linear(8, 8), nn::Softplus(2, 20), Linear(8, 3)};
       },
       {6}},
      {"mlp_norm",
       [] {
         return nn::Sequential{Linear(6, 8), nn::BatchNorm1d(8), nn::ReLU(), Linear(8, 4, false)};
       },
       {6}},
      {"layer_norm",
       [] {
         return nn::Sequential{Linear(6, 8), nn::LayerNorm({8}), nn::Tanh()};
       },
       {6}},
      {"hardtanh",
       [] {
         return nn::Sequential{Linear(3, 4), nn::Hardtanh(-0.5, 0.5)};
       },
       {3}},
      {"nested",
       [] {
         return nn::Sequential{nn::Sequential{Linear(3, 4), nn::ReLU()}, Linear(4, 2)};
       },
       {3}},
      {"sequence",
       [] {
         return nn::Sequential{nn::LayerNorm({3, 5}), nn::Tanh(),
                               nn::LayerNorm({5}, {.elementwise_affine = false})};
       },
       {3, 5}},
      {"cnn",
       [] {
         namespace F = nn::functional;
         return nn::Sequential{
             nn::Conv2d(1, 4, 3, {.padding = 1}),
             nn::BatchNorm2d(4),
             nn::ReLU(),
             nn::MaxPool2d(2),
             nn::Conv2d(4, 8, 3, {.padding = 1, .dilation = 2, .groups = 2, .bias = false}),
             nn::ReLU(),
             nn::AvgPool2d(2),
             nn::Flatten(),
             Linear(72, 10),
             nn::LogSoftmax(1)};
       },
       {1, 16, 16}},
      {"cnn_global",
       [] {
         return nn::Sequential{nn::Conv2d(3, 6, {3, 2}, {.stride = {2, 1}}),
                               nn::ReLU(),
                               nn::BatchNorm2d(6),
                               nn::Conv2d(6, 6, 1, {.bias = false}),
                               nn::BatchNorm2d(6),
                               nn::MaxPool2d(3, 2, 1),
                               nn::AvgPool2d(3, 1, 1),
                               nn::AdaptiveAvgPool2d(1),
                               nn::Flatten(),
                               Linear(6, 2)};
       },
       {3, 9, 8}},
      {"conv1d",
       [] {
         return nn::Sequential{nn::Conv1d(2, 4, 3, {.padding = 1}), nn::BatchNorm1d(4), nn::ReLU(),
                               nn::Flatten(), Linear(40, 3)};
       },
       {2, 10}},
      {"embedding",
       [] {
         return nn::Sequential{nn::Embedding(10, 4), nn::Flatten(), Linear(12, 3)};
       },
       {3},
       true},
      {"pool_options",
       [] {
         return nn::Sequential{nn::Conv2d(2, 4, 3, {.padding = 1}),
                               nn::ReLU(),
                               nn::MaxPool2d(3, 2, 1, 2, true),
                               nn::AvgPool2d(3, 2, 1, true, false),
                               nn::AvgPool2d(2, 1, 1, true),
                               nn::Flatten(),
                               Linear(100, 3)};
       },
       {2, 13, 12}},
      {"linear_sequence",  // Linear on [N, T, features]: MatMul and Add, not Gemm
       [] {
         return nn::Sequential{Linear(5, 4), nn::ReLU(), Linear(4, 3, false)};
       },
       {6, 5}},
      {"decoder",  // DCGAN's generator blocks
       [] {
         return nn::Sequential{
             nn::ConvTranspose2d(3, 4, 4, {.stride = 2, .padding = 1}), nn::ReLU(),
             nn::ConvTranspose2d(4, 2, 4, {.stride = 2, .padding = 1, .bias = false}),
             nn::Sigmoid()};
       },
       {3, 4, 4}},
      {"decoder_options",
       [] {
         return nn::Sequential{nn::ConvTranspose2d(4, 2, {3, 2},
                                                   {.stride = {2, 1},
                                                    .padding = {1, 0},
                                                    .output_padding = {1, 0},
                                                    .groups = 2,
                                                    .bias = false,
                                                    .dilation = {1, 2}}),
                               nn::Tanh()};
       },
       {4, 3, 3}},
      {"decoder1d",
       [] {
         return nn::Sequential{nn::ConvTranspose1d(2, 3, 3, {.stride = 2}), nn::Tanh(),
                               nn::Flatten(), Linear(33, 2)};
       },
       {2, 5}},
  };
}

}  // namespace zoo
