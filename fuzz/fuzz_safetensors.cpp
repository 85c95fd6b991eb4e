// tg::load of arbitrary bytes into a fixed module: every input must load or throw tg::Error,
// and a rejected file must leave the module untouched.

#include <tapegrad/tapegrad.hpp>

#include "scratch_file.hpp"

#include <cstdlib>
#include <string>

namespace {

std::string bytes_of(const tg::nn::Module& module) {
  std::string out;
  for (const tg::Tensor& p : module.parameters()) fuzz::append_bytes(out, p);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static tg::nn::Linear layer(3, 2);
  const auto path = fuzz::write_scratch("model.safetensors", data, size);
  const std::string before = bytes_of(layer);
  try {
    tg::load(layer, path);
  } catch (const tg::Error&) {
    if (bytes_of(layer) != before) std::abort();  // a rejected file changed the module
  }
  try {
    tg::io::read_safetensors(path);  // the generic reader: any names, dtypes, shapes
  } catch (const tg::Error&) {
  }
  return 0;
}
