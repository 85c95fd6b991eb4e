// Writes the seed inputs of the safetensors and checkpoint harnesses: valid files for the
// modules the harnesses load into. Usage: make_fuzz_seeds CORPUS_DIR

#include <tapegrad/tapegrad.hpp>

#include <filesystem>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::filesystem::path corpus = argv[1];
  tg::manual_seed(1);
  tg::nn::Sequential model{tg::nn::Linear(3, 2)};
  tg::nn::Linear layer(3, 2);
  tg::save(layer, corpus / "safetensors" / "linear_3_2.safetensors");
  tg::optim::RMSProp optimizer(model.parameters(), {.lr = 0.01, .momentum = 0.9, .centered = true});
  tg::optim::StepLR scheduler(optimizer, 2);
  tg::Generator generator(1);
  tg::CheckpointExtra extra{
      .epoch = 0, .step = 0, .scheduler = &scheduler, .generator = &generator};
  tg::save_checkpoint(corpus / "checkpoint" / "fresh.ckpt", model, optimizer, extra);
  const tg::Tensor x = tg::randn({4, 3});
  for (int step = 1; step <= 2; ++step) {
    optimizer.zero_grad();
    tg::sum(model(x)).backward();
    optimizer.step();
  }
  scheduler.step();
  extra.epoch = 1;
  extra.step = 2;
  tg::save_checkpoint(corpus / "checkpoint" / "trained.ckpt", model, optimizer, extra);
}
