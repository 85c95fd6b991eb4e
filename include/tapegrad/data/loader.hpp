#pragma once

#include <tapegrad/data/dataset.hpp>

#include <cstdint>
#include <memory>
#include <vector>

namespace tg::data {

/// How a DataLoader batches; defaults are torch.utils.data.DataLoader's.
struct LoaderOptions {
  int64_t batch_size = 1;
  bool shuffle = false;
  bool drop_last = false;
  uint64_t seed = 0;  // the shuffle of epoch e is drawn from (seed, e): reproducible
  // torch.utils.data.DistributedSampler's sharding (with or without MPI): the epoch's order
  // padded by its first rows to a multiple of world_size, of which this loader takes every
  // world_size-th row from `rank` on. Every rank draws the same order and gets as many batches.
  int64_t rank = 0;
  int64_t world_size = 1;
};

/// One batch: `inputs` and `targets` with batch_size rows (fewer in a last partial batch).
struct Batch {
  Tensor inputs;
  Tensor targets;
};

/// Iterates a TensorDataset in batches. Each begin() starts a pass over the rows in an order
/// fixed at that begin(): epoch e's order is Generator(seed ^ 0x9e3779b97f4a7c15 · (e + 1))
/// .permutation(size) with shuffle on and 0, 1, … without, so it depends on the seed and e only.
/// A pass is open until one of its iterators reaches end() or all of them are destroyed; a
/// begin() while a pass is open (a loop nested in another over the same loader) iterates the
/// open epoch's order again, independently, and starts no epoch. Only the rows of the current
/// batch are copied. With world_size > 1 the pass covers this rank's share of the order only.
class DataLoader {
 public:
  DataLoader(TensorDataset dataset, LoaderOptions options = {});

  /// Gathers its batch on first dereference, so `for (auto& batch : loader)` works too.
  class Iterator {
   public:
    /// The current batch; a tg::Error at end().
    const Batch& operator*() const;
    const Batch* operator->() const { return &**this; }
    Iterator& operator++();
    bool operator!=(const Iterator& other) const { return batch_ != other.batch_; }
    bool operator==(const Iterator& other) const { return batch_ == other.batch_; }

   private:
    friend class DataLoader;
    struct Pass;
    Iterator(const DataLoader* loader, std::shared_ptr<Pass> pass, int64_t batch)
        : loader_(loader), pass_(std::move(pass)), batch_(batch) {}
    const DataLoader* loader_;
    std::shared_ptr<Pass> pass_;  // null in end()
    int64_t batch_;
    mutable Batch current_;
    mutable bool gathered_ = false;
  };

  /// Starts a pass: a new epoch with its own order, or the open epoch again inside a pass.
  Iterator begin();
  Iterator end() const;
  /// Number of batches per epoch (of this rank's share).
  int64_t size() const;
  const TensorDataset& dataset() const { return dataset_; }
  /// Epochs started so far: the begin() calls made while no pass was open. The next such
  /// begin() starts epoch epoch().
  int64_t epoch() const { return epoch_; }
  /// Makes the next begin() start epoch `epoch`, even inside an open pass, e.g. when resuming
  /// from a checkpoint, so its shuffle is the one an uninterrupted run would have drawn.
  void set_epoch(int64_t epoch);

 private:
  Batch batch(const std::vector<int64_t>& order, int64_t index) const;
  int64_t rows() const;  // rows per epoch: all, or this rank's share
  std::vector<int64_t> shard(const std::vector<int64_t>& order) const;
  TensorDataset dataset_;
  LoaderOptions options_;
  int64_t epoch_ = 0;
  std::weak_ptr<Iterator::Pass> open_;  // the pass of the latest epoch, while it is open
};

}  // namespace tg::data
