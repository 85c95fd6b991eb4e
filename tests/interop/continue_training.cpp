// The tapegrad half of tests/interop/torch_roundtrip.py: loads a state_dict that PyTorch
// trained (converted by tools/torch_to_safetensors.py), records the forward pass, trains on,
// and saves the result for the way back.
// Usage: continue_training MODEL_IN DATA OUTPUTS MODEL_OUT
//   DATA holds "x" [N, 4] and "y" Int64 [N]; OUTPUTS receives "before" (the forward pass in
//   evaluation mode as loaded) and "after" (the same after three SGD steps in training mode).

#include <tapegrad/tapegrad.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s MODEL_IN DATA OUTPUTS MODEL_OUT\n", argv[0]);
    return 2;
  }
  namespace nn = tg::nn;
  // The architecture of torch_roundtrip.py's model.
  nn::Sequential model{nn::Linear(4, 8), nn::BatchNorm1d(8), nn::ReLU(), nn::Linear(8, 3)};
  tg::load(model, argv[1]);
  tg::Tensor x, y;
  for (auto& [name, tensor] : tg::io::read_safetensors(argv[2])) (name == "x" ? x : y) = tensor;
  const auto evaluate = [&] {
    tg::NoGradGuard no_grad;
    model.eval();
    return model.forward(x);
  };
  const tg::Tensor before = evaluate();
  model.train();
  tg::optim::SGD sgd(model.parameters(), {.lr = 0.1});
  for (int step = 0; step < 3; ++step) {
    sgd.zero_grad();
    nn::cross_entropy(model.forward(x), y).backward();
    sgd.step();
  }
  tg::io::write_safetensors(argv[3], {{"before", before}, {"after", evaluate()}});
  tg::save(model, argv[4]);
}
