// tg::data::load_mnist of arbitrary bytes: the first two bytes say where the images file
// ends and the labels file begins.

#include <tapegrad/tapegrad.hpp>

#include "scratch_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t split = std::min<size_t>(size - 2, data[0] | (size_t{data[1]} << 8));
  fuzz::write_scratch("train-images-idx3-ubyte", data + 2, split);
  fuzz::write_scratch("train-labels-idx1-ubyte", data + 2 + split, size - 2 - split);
  try {
    tg::data::load_mnist(fuzz::scratch_dir().string(), tg::data::Split::Train);
  } catch (const tg::Error&) {
  }
  return 0;
}
