// Writes a model whose values read_sample.py can predict: element k of parameter p (in
// named_parameters() order) is (p + 1) / 2 + k / 8, exact in Float32.

#include <tapegrad/tapegrad.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: write_sample FILE\n");
    return 2;
  }
  tg::nn::Sequential model{tg::nn::Linear(4, 3), tg::nn::Tanh(), tg::nn::Linear(3, 2)};
  tg::NoGradGuard no_grad;
  float p = 0;
  for (tg::Tensor& param : model.parameters()) {
    ++p;
    for (int64_t k = 0; k < param.numel(); ++k)
      param.data<float>()[k] = p / 2 + static_cast<float>(k) / 8;
  }
  tg::save(model, argv[1]);
}
