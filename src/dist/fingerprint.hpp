// 64-bit hashes that let the ranks check, with one small collective, that they hold the same
// batch, the same parameter layout or the same parameter values.
#pragma once

#include <tapegrad/tensor.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tg::dist::detail {

/// A hash of `count` bytes (not cryptographic: it only has to notice accidental differences).
uint64_t hash_bytes(const void* data, size_t count, uint64_t seed = 0);

/// A hash of the tensors' count, shapes and dtypes; with `values`, of their bytes too.
uint64_t fingerprint(const std::vector<Tensor>& tensors, bool values);

}  // namespace tg::dist::detail
