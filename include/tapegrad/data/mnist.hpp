#pragma once

#include <tapegrad/data/dataset.hpp>

#include <string>

namespace tg::data {

/// Which half of MNIST / Fashion-MNIST to read.
enum class Split { Train, Test };

/// Reads MNIST or Fashion-MNIST IDX files from `dir` (train-images-idx3-ubyte, …, plain or
/// .gz): inputs Float32 [N, 784] in [0, 1], targets Int64 [N]. Every size is checked against
/// the file before anything is allocated; a bad file, or a path that is not a regular file
/// (a FIFO, a device), is a tg::Error naming it.
TensorDataset load_mnist(const std::string& dir, Split split);

}  // namespace tg::data
