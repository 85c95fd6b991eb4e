#pragma once

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

 private:
  void* data_;
  std::size_t bytes_;
};

}  // namespace tg
