#include <tapegrad/data/dataset.hpp>
#include <tapegrad/error.hpp>

#include "tensor/tensor_impl.hpp"

#include <cstring>

namespace tg::data {

Tensor gather_rows(const Tensor& source, const std::vector<int64_t>& indices) {
  if (source.dim() == 0) {
    fail("gather_rows: expected a tensor with at least one dimension, got shape []");
  }
  Shape shape = source.shape();
  const int64_t rows = shape[0];
  shape[0] = static_cast<int64_t>(indices.size());
  Tensor out = make_tensor(shape, source.dtype());
  const size_t row_bytes =
      static_cast<size_t>(rows == 0 ? 0 : source.numel() / rows) * dtype_size(source.dtype());
  const auto* from = static_cast<const char*>(source.raw_data());
  auto* to = static_cast<char*>(out.raw_data());
  for (size_t i = 0; i < indices.size(); ++i) {
    if (indices[i] < 0 || indices[i] >= rows) {
      fail("gather_rows: index {} out of range for {} rows", indices[i], rows);
    }
    std::memcpy(to + i * row_bytes, from + static_cast<size_t>(indices[i]) * row_bytes, row_bytes);
  }
  return out;
}

TensorDataset::TensorDataset(Tensor inputs_, Tensor targets_)
    : inputs(std::move(inputs_)), targets(std::move(targets_)) {
  if (!inputs.defined() || !targets.defined())
    fail("TensorDataset: inputs and targets must be defined");
  if (inputs.dim() == 0 || targets.dim() == 0 || inputs.size(0) != targets.size(0)) {
    fail("TensorDataset: inputs {} and targets {} must have the same first dimension",
         shape_str(inputs.shape()), shape_str(targets.shape()));
  }
}

int64_t TensorDataset::size() const { return inputs.size(0); }

TensorDataset TensorDataset::gather(const std::vector<int64_t>& indices) const {
  return {gather_rows(inputs, indices), gather_rows(targets, indices)};
}

}  // namespace tg::data
