// tg::load of arbitrary bytes into a fixed module: every input must load or throw tg::Error,
// and a rejected file must leave the module untouched.

#include <tapegrad/tapegrad.hpp>

#include "scratch_file.hpp"

#include <cstdlib>
#include <cstring>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static tg::nn::Linear layer(3, 2);
  const auto path = fuzz::write_scratch("model.safetensors", data, size);
  const std::vector<float> before = layer.weight.to_vector<float>();
  try {
    tg::load(layer, path);
  } catch (const tg::Error&) {
    if (layer.weight.to_vector<float>() != before) std::abort();  // a rejected file changed it
  }
  try {
    tg::io::read_safetensors(path);  // the generic reader: any names, dtypes, shapes
  } catch (const tg::Error&) {
  }
  return 0;
}
