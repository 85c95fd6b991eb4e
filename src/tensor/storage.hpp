#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace tg {

/// A 64-byte aligned, uninitialized block of bytes shared by tensors that view the same data.
class Storage {
 public:
  explicit Storage(std::size_t bytes);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  std::size_t bytes() const { return bytes_; }
  static int64_t live_count();

  /// How many times the bytes were handed out for writing: PyTorch's version counter, shared by
  /// every view of the storage. A backward compares it with the value its saved tensors had.
  uint64_t version() const { return version_.load(std::memory_order_relaxed); }
  // A load and a store, not fetch_add: a locked add costs ~20 cycles on every mutable data()
  // call. Two threads writing one storage at once race on its bytes anyway, and even then the
  // version still moves away from what a backward saved, which is all the check needs.
  void bump_version() {
    version_.store(version_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

 private:
  void* data_;
  std::size_t bytes_;
  std::atomic<uint64_t> version_{0};
};

}  // namespace tg
