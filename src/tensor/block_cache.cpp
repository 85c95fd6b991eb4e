// A per-thread cache of freed storage blocks, keyed by exact byte size. Training repeats the same
// tensor sizes every step, so after the first step every allocation is a cache hit: no malloc
// lock, no 64-byte-aligned memalign search, no mmap/munmap page faults for the large blocks.
// Sanitizer builds bypass the cache so AddressSanitizer still sees every use after free.

#include <tapegrad/memory.hpp>

#include "tensor/block_cache.hpp"
#include "tensor/thread_cache.hpp"

#include <new>
#include <vector>

namespace tg {
namespace {

constexpr std::align_val_t kAlignment{64};  // a cache line, and enough for AVX-512 loads
constexpr std::size_t kMaxCachedBytes = std::size_t{256} << 20;
constexpr std::size_t kMaxBlockBytes = std::size_t{64} << 20;

void* allocate(std::size_t bytes) { return ::operator new(bytes == 0 ? 1 : bytes, kAlignment); }
void deallocate(void* block) noexcept { ::operator delete(block, kAlignment); }

class BlockCache {
 public:
  BlockCache() = default;
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;
  ~BlockCache() { release_all(); }

  void* take(std::size_t bytes) {
    for (Bucket& bucket : buckets_) {
      if (bucket.bytes != bytes || bucket.blocks.empty()) continue;
      void* block = bucket.blocks.back();
      bucket.blocks.pop_back();
      cached_bytes_ -= bytes;
      return block;
    }
    return nullptr;
  }

  // Keeps the block unless it is too large; when the cache would exceed its budget, the
  // cache is emptied first (the sizes it held are evidently not the ones in use now).
  bool keep(void* block, std::size_t bytes) noexcept {
    if (bytes > kMaxBlockBytes) return false;
    if (cached_bytes_ + bytes > kMaxCachedBytes) release_all();
    try {
      bucket_for(bytes).push_back(block);
    } catch (const std::bad_alloc&) {
      return false;
    }
    cached_bytes_ += bytes;
    return true;
  }

  void release_all() noexcept {
    for (Bucket& bucket : buckets_) {
      for (void* block : bucket.blocks) deallocate(block);
    }
    buckets_.clear();
    cached_bytes_ = 0;
  }

  std::size_t cached_bytes() const { return cached_bytes_; }

 private:
  struct Bucket {
    std::size_t bytes;
    std::vector<void*> blocks;
  };

  std::vector<void*>& bucket_for(std::size_t bytes) {
    for (Bucket& bucket : buckets_) {
      if (bucket.bytes == bytes) return bucket.blocks;
    }
    buckets_.push_back({bytes, {}});
    return buckets_.back().blocks;
  }

  std::vector<Bucket> buckets_;  // a training loop uses a few dozen sizes: a scan is fastest
  std::size_t cached_bytes_ = 0;
};

BlockCache* thread_cache() { return detail::this_thread_cache<BlockCache>(); }

}  // namespace

void* detail::acquire_block(std::size_t bytes) {
  BlockCache* cache = thread_cache();
  if (cache) {
    if (void* block = cache->take(bytes)) return block;
  }
  try {
    return allocate(bytes);
  } catch (const std::bad_alloc&) {
    if (!cache || cache->cached_bytes() == 0) throw;
    cache->release_all();  // what the cache keeps may be just what this allocation needs
    return allocate(bytes);
  }
}

void detail::release_block(void* block, std::size_t bytes) noexcept {
  BlockCache* cache = thread_cache();
  if (!cache || !cache->keep(block, bytes)) deallocate(block);
}

int64_t cached_memory_bytes() {
  const BlockCache* cache = thread_cache();
  return cache ? static_cast<int64_t>(cache->cached_bytes()) : 0;
}

void release_cached_memory() {
  if (BlockCache* cache = thread_cache()) cache->release_all();
}

}  // namespace tg
