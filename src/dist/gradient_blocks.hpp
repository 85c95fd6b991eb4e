// One step's gradients as flat blocks of 8-byte words, one block per shard of a batch (or per
// rank), so that one MPI call moves all of them and every rank adds them in the same order.
#pragma once

#include <tapegrad/tensor.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace tg::dist::detail {

/// What a block carries besides the gradients: its shard's loss, and the loss's dtype and
/// dimension count for the ranks that did not compute it. Trivial, so that it is copied as bytes.
struct BlockHeader {
  double loss;
  int32_t loss_dtype;
  int32_t loss_dims;
};

/// Where each parameter's gradient lies in a block: the header, one "has a gradient" byte per
/// parameter, then every gradient's elements, each padded to whole words.
class GradientBlocks {
 public:
  /// A tg::Error naming `op` unless every parameter is Float32 or Float64.
  GradientBlocks(const std::vector<Tensor>& parameters, const char* op);

  /// The size of one block in 8-byte words.
  size_t words() const { return words_; }

  /// Writes `header` and `grads` (one per parameter; an undefined one: none) into `block`.
  void pack(const BlockHeader& header, const std::vector<Tensor>& grads,
            std::span<uint64_t> block) const;

  /// The header `pack` wrote into `block`.
  static BlockHeader header(std::span<const uint64_t> block);

  /// For each parameter, its gradients in the consecutive blocks of `blocks` added in block
  /// order (the first present copied, each later one added to it, as the engine accumulates),
  /// or an undefined tensor where no block has one.
  std::vector<Tensor> sum(std::span<const uint64_t> blocks) const;

 private:
  struct Slot {
    Shape shape;
    Dtype dtype;
    int64_t numel;
    size_t offset;  // in words, from the block's start
  };
  std::vector<Slot> slots_;
  size_t words_ = 0;
};

}  // namespace tg::dist::detail
