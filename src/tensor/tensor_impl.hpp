#pragma once

#include <tapegrad/autograd.hpp>
#include <tapegrad/tensor.hpp>

#include "tensor/storage.hpp"

#include <memory>

namespace tg {

/// What a Tensor handle points to: storage, shape, dtype and autograd metadata.
struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // elements from the storage's start to this tensor's first element
  Shape shape;
  int64_t numel = 0;
  // Set on a tensor that a view op (permute, expand, narrow off the outer dimension, …) had to
  // copy: an in-place write would not reach the tensor it came from, so in-place ops refuse it.
  const char* copied_by = nullptr;
  // Set on a view that a recorded op made (reshape, narrow, …): a recorded in-place write through
  // it would have to rewrite its base's history, which tapegrad does not do, so it is refused.
  const char* viewed_by = nullptr;
  Dtype dtype = Dtype::Float32;
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;  // accumulated by backward (leaves only)
  std::shared_ptr<Node> grad_fn;     // the node that produced this tensor; null for leaves
};

/// A fresh tensor of the given shape and dtype with uninitialized storage.
Tensor make_tensor(Shape shape, Dtype dtype);
/// A tensor sharing `source`'s storage: `shape` starting `offset` elements after source's start
/// (the caller checks that it fits).
Tensor share_storage(const Tensor& source, Shape shape, int64_t offset = 0);

}  // namespace tg
