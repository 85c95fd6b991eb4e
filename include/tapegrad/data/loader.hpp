#pragma once

#include <tapegrad/data/dataset.hpp>

#include <cstdint>
#include <vector>

namespace tg::data {

/// How a DataLoader batches; defaults are torch.utils.data.DataLoader's.
struct LoaderOptions {
  int64_t batch_size = 1;
  bool shuffle = false;
  bool drop_last = false;
  uint64_t seed = 0;  // the shuffle of epoch e is drawn from (seed, e): reproducible
};

/// One batch: `inputs` and `targets` with batch_size rows (fewer in a last partial batch).
struct Batch {
  Tensor inputs;
  Tensor targets;
};

/// Iterates a TensorDataset in batches; each pass (each begin()) is one epoch with its own
/// shuffle. Only the rows of the current batch are copied.
class DataLoader {
 public:
  DataLoader(TensorDataset dataset, LoaderOptions options = {});

  /// Gathers its batch on first dereference, so `for (auto& batch : loader)` works too.
  class Iterator {
   public:
    const Batch& operator*() const;
    const Batch* operator->() const { return &**this; }
    Iterator& operator++();
    bool operator!=(const Iterator& other) const { return batch_ != other.batch_; }
    bool operator==(const Iterator& other) const { return batch_ == other.batch_; }

   private:
    friend class DataLoader;
    Iterator(const DataLoader* loader, int64_t batch) : loader_(loader), batch_(batch) {}
    const DataLoader* loader_;
    int64_t batch_;
    mutable Batch current_;
    mutable bool gathered_ = false;
  };

  /// Starts an epoch: reshuffles when shuffle is on.
  Iterator begin();
  Iterator end() const;
  /// Number of batches per epoch.
  int64_t size() const;
  const TensorDataset& dataset() const { return dataset_; }
  /// Epochs started so far (the next begin() starts epoch epoch()).
  int64_t epoch() const { return epoch_; }
  /// Makes the next begin() start epoch `epoch`, e.g. when resuming from a checkpoint, so its
  /// shuffle is the one an uninterrupted run would have drawn.
  void set_epoch(int64_t epoch);

 private:
  Batch batch(int64_t index) const;
  TensorDataset dataset_;
  LoaderOptions options_;
  std::vector<int64_t> order_;
  int64_t epoch_ = 0;
};

}  // namespace tg::data
