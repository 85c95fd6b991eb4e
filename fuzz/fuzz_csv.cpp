// tg::data::read_csv of arbitrary bytes; the first byte picks the options.

#include <tapegrad/tapegrad.hpp>

#include "scratch_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t choice = data[0];
  const tg::data::CsvOptions options{
      .has_header = (choice & 1) != 0,
      .delimiter = ",;\t|"[(choice >> 1) & 3],
      .target_column = static_cast<int64_t>((choice >> 3) & 3) - 2,
      .target_dtype = (choice & 0x20) ? tg::Dtype::Int64 : tg::Dtype::Float32};
  const auto path = fuzz::write_scratch("data.csv", data + 1, size - 1);
  try {
    tg::data::read_csv(path.string(), options);
  } catch (const tg::Error&) {
  }
  return 0;
}
