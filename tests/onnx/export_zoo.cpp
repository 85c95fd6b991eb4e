// Exports every model of zoo.hpp with the weights that make_torch_reference.py gave its torch
// twin, and beside each DIR/NAME.onnx writes DIR/NAME.check.safetensors: a batch of five the
// export never saw ("input") and tapegrad's output for it in evaluation mode ("output").
// Usage: export_zoo FIXTURE_DIR OUT_DIR

#include <tapegrad/tapegrad.hpp>

#include "zoo.hpp"

#include <cstdio>
#include <filesystem>

namespace {

tg::Tensor batch(const zoo::Model& spec, int64_t n, uint64_t seed) {
  tg::Generator generator(seed);
  tg::Shape shape{n};
  shape.insert(shape.end(), spec.sample_shape.begin(), spec.sample_shape.end());
  return spec.indices ? tg::randint(0, 10, shape, generator) : tg::randn(shape, {}, generator);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s FIXTURE_DIR OUT_DIR\n", argv[0]);
    return 2;
  }
  const std::filesystem::path fixtures = argv[1], out = argv[2];
  std::filesystem::create_directories(out);
  for (const zoo::Model& spec : zoo::models()) {
    tg::nn::Sequential model = spec.build();
    tg::load(model, fixtures / (spec.name + ".safetensors"));
    tg::onnx::export_model(model, batch(spec, 2, 1), out / (spec.name + ".onnx"));
    const tg::Tensor input = batch(spec, 5, 2);
    model.eval();
    tg::NoGradGuard no_grad;
    tg::io::write_safetensors(out / (spec.name + ".check.safetensors"),
                              {{"input", input}, {"output", model.forward(input)}});
    std::printf("%s: exported\n", spec.name.c_str());
  }
}
