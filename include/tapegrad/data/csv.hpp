#pragma once

#include <tapegrad/data/dataset.hpp>
#include <tapegrad/dtype.hpp>

#include <string>

namespace tg::data {

/// How read_csv interprets a file.
struct CsvOptions {
  bool has_header = true;
  char delimiter = ',';
  int64_t target_column = -1;  // negative counts from the end
  Dtype target_dtype = Dtype::Float32;
};

/// Reads a numeric CSV file: inputs Float32 [N, columns − 1]; targets [N, 1] (Float32/Float64)
/// or [N] (Int64 class labels). Quoted fields, CRLF line ends, a UTF-8 byte-order mark and a
/// missing final newline are accepted; numbers are parsed independently of the locale. The file
/// is parsed as it is read, so memory holds little more than the numbers. A bad cell, a ragged
/// row or an empty file is a tg::Error naming the file, line and column; a path that is not a
/// regular file (a FIFO, /dev/zero) is one naming the path.
TensorDataset read_csv(const std::string& path, CsvOptions options = {});

}  // namespace tg::data
