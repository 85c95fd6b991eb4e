#pragma once

// The one place that writes an op's result into an existing tensor (PyTorch's `_` ops): the
// rules of when that is allowed, the write through shared storage, the version bump and the
// history. Every in-place op is "compute out of place, then assign_in_place".

#include <tapegrad/tensor.hpp>

namespace tg::detail {

/// Throws unless `op` may write into self: a leaf that requires grad only under NoGradGuard,
/// never a copy that a view op made (the write would not reach the tensor it came from).
void check_in_place(const Tensor& self, const char* op);

/// Writes `result` (self's shape and dtype) into self's storage, so every view sees it, and bumps
/// the storage's version. When grad mode is on, self's history becomes result's (the in-place op
/// is on the tape) or, if result was not recorded, self is cut from the tape. Call it after
/// check_in_place, before which nothing may have been computed.
Tensor& assign_in_place(Tensor& self, const Tensor& result, const char* op);

/// An in-place op whose result needs no checks of its own: check_in_place, then
/// assign_in_place(self, compute(), op).
template <class Compute>
Tensor& in_place(Tensor& self, const char* op, Compute compute) {
  check_in_place(self, op);
  return assign_in_place(self, compute(), op);
}

}  // namespace tg::detail
