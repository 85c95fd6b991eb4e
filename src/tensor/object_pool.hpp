#pragma once

#include <cstddef>

namespace tg::detail {

/// Memory for the small objects every op creates (tensor handles, storage headers, tape nodes):
/// per-thread free lists by 16-byte size class, up to 256 bytes. glibc's per-thread cache holds
/// 7 blocks per size, fewer than one training step frees at once, so the rest of a step's
/// objects took its slower paths. Sanitizer builds use the global allocator.
void* pool_allocate(std::size_t bytes);
void pool_deallocate(void* block, std::size_t bytes) noexcept;

/// An allocator for std::allocate_shared that draws from the pool.
template <class T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() = default;
  template <class U>
  PoolAllocator(const PoolAllocator<U>&) {}  // NOLINT(google-explicit-constructor): rebinding
  T* allocate(std::size_t n) { return static_cast<T*>(pool_allocate(n * sizeof(T))); }
  void deallocate(T* block, std::size_t n) noexcept { pool_deallocate(block, n * sizeof(T)); }
  template <class U>
  bool operator==(const PoolAllocator<U>&) const {
    return true;
  }
};

}  // namespace tg::detail
