// export_onnx: writes a trained model as an ONNX file, then prints the command that runs it in
// OpenCV, with tapegrad's output beside it for comparison.
//
// With --checkpoint PATH it exports the MLP that classify_fashion_mnist trained and saved
// (--save PATH); without, it first trains a small MLP on three Gaussian blobs for a few seconds.

#include <tapegrad/tapegrad.hpp>

#include "common/flags.hpp"

#include <string>

namespace {

namespace nn = tg::nn;

// The model of classify_fashion_mnist.cpp, loaded from its checkpoint: the optimizer, schedule
// and generator are there only because the checkpoint holds their state too.
nn::Sequential load_fashion_mnist_mlp(const std::string& path) {
  nn::Sequential model{nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 128), nn::ReLU(),
                       nn::Linear(128, 10)};
  tg::optim::RMSProp optimizer(model.parameters(), {.lr = 0.001});
  tg::optim::CosineAnnealingLR schedule(optimizer, 1);
  tg::Generator generator;
  tg::CheckpointExtra extra{.scheduler = &schedule, .generator = &generator};
  tg::load_checkpoint(path, model, optimizer, extra);
  fmt::print("loaded '{}' (epoch {})\n", path, extra.epoch);
  return model;
}

// Three classes in 4-d, each a unit Gaussian around its own centre.
nn::Sequential train_blobs_mlp(int64_t steps) {
  tg::manual_seed(0);
  const tg::Tensor labels = tg::randint(0, 3, {600});
  const tg::Tensor centres = tg::tensor({2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0}, {3, 4});
  const tg::Tensor inputs = centres.index_select(0, labels) + tg::randn({600, 4});
  nn::Sequential model{nn::Linear(4, 16), nn::Tanh(), nn::Linear(16, 3), nn::LogSoftmax(1)};
  tg::optim::Adam optimizer(model.parameters(), {.lr = 0.01});
  for (int64_t step = 1; step <= steps; ++step) {
    optimizer.zero_grad();
    const tg::Tensor loss = nn::nll_loss(model(inputs), labels);
    loss.backward();
    optimizer.step();
    if (step % 50 == 0) fmt::print("step {:3d}: loss {:.4f}\n", step, loss.item<float>());
  }
  return model;
}

}  // namespace

int main(int argc, char** argv) {
  const examples::Flags flags(
      argc, argv,
      "export_onnx: exports a trained MLP as ONNX (opset 13, what torch.onnx.export writes) and "
      "prints the command that runs it in OpenCV.\n"
      "With --checkpoint, the model classify_fashion_mnist saved with --save; without, a small "
      "MLP it trains first. docs/exchange.md has more.",
      {{"checkpoint", ""}, {"out", "model.onnx"}, {"steps", "200"}});
  const std::string checkpoint = flags.text("checkpoint");
  const std::string out = flags.text("out");
  const int64_t steps = flags.integer("steps", 1, 100000);
  try {
    nn::Sequential model =
        checkpoint.empty() ? train_blobs_mlp(steps) : load_fashion_mnist_mlp(checkpoint);
    const int64_t features = model.named_parameters()[0].second.size(1);
    const tg::Tensor example = tg::full({1, features}, 0.5);
    tg::onnx::export_model(model, example, out);
    model.eval();
    const tg::NoGradGuard no_grad;
    fmt::print("wrote '{}'\ntapegrad's output for an input of 0.5s: {}\n", out,
               fmt::join(model(example).to_vector<float>(), " "));
    fmt::print(
        "check it with OpenCV (Debian: apt-get install python3-opencv):\n"
        "/usr/bin/python3 -c \"import cv2, numpy as np; net = cv2.dnn.readNetFromONNX('{}'); "
        "net.setInput(np.full((1, {}), 0.5, np.float32)); print(net.forward())\"\n",
        out, features);
  } catch (const tg::Error& e) {
    examples::Flags::die(e.what());
  }
}
