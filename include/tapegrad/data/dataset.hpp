#pragma once

#include <tapegrad/tensor.hpp>

#include <cstdint>
#include <vector>

namespace tg::data {

/// Pairs of (input, target) rows: row i of `inputs` goes with row i of `targets`.
class TensorDataset {
 public:
  /// Both tensors need at least one dimension and the same first extent.
  TensorDataset(Tensor inputs, Tensor targets);
  /// Number of rows.
  int64_t size() const;
  /// The rows at `indices`, copied into new tensors (first dimension = indices.size()).
  TensorDataset gather(const std::vector<int64_t>& indices) const;

  Tensor inputs;
  Tensor targets;
};

/// The rows `indices` of `source` as a new tensor.
Tensor gather_rows(const Tensor& source, const std::vector<int64_t>& indices);

}  // namespace tg::data
