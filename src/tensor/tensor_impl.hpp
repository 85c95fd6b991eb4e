#pragma once

#include <tapegrad/autograd.hpp>
#include <tapegrad/tensor.hpp>

#include "tensor/storage.hpp"

#include <memory>

namespace tg {

/// What a Tensor handle points to: storage, shape, dtype and autograd metadata.
struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  int64_t numel = 0;
  Dtype dtype = Dtype::Float32;
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;  // accumulated by backward (leaves only)
  std::shared_ptr<Node> grad_fn;     // the node that produced this tensor; null for leaves
};

/// A fresh tensor of the given shape and dtype with uninitialized storage.
Tensor make_tensor(Shape shape, Dtype dtype);
/// A tensor sharing `source`'s storage, with another shape (same number of elements).
Tensor share_storage(const Tensor& source, Shape shape);

}  // namespace tg
