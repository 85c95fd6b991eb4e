// A per-thread cache of freed storage blocks, keyed by exact byte size. Training repeats the same
// tensor sizes every step, so after the first step every allocation is a cache hit: no malloc
// lock, no 64-byte-aligned memalign search, no mmap/munmap page faults for the large blocks.
// Sanitizer builds bypass the cache so AddressSanitizer still sees every use after free.
// Every thread's cache is in one registry, so that cached_memory_bytes() and
// release_cached_memory() see the worker threads' blocks too; each cache has its own lock, which
// only its thread takes on the hot path (uncontended: one atomic exchange and one store).

#include <tapegrad/memory.hpp>

#include "tensor/block_cache.hpp"
#include "tensor/thread_cache.hpp"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <new>
#include <vector>

namespace tg {
namespace {

constexpr std::align_val_t kAlignment{64};  // a cache line, and enough for AVX-512 loads
constexpr std::size_t kMaxCachedBytes = std::size_t{256} << 20;
constexpr std::size_t kMaxBlockBytes = std::size_t{64} << 20;

void* allocate(std::size_t bytes) { return ::operator new(bytes == 0 ? 1 : bytes, kAlignment); }
void deallocate(void* block) noexcept { ::operator delete(block, kAlignment); }

// A lock for a cache that its own thread takes almost always: cheaper than std::mutex.
class SpinLock {
 public:
  void lock() noexcept {
    while (held_.exchange(true, std::memory_order_acquire)) {
      while (held_.load(std::memory_order_relaxed)) {
      }
    }
  }
  void unlock() noexcept { held_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> held_{false};
};

class BlockCache;

// All live thread caches. Never destroyed: thread caches are destroyed at thread exit, which
// for the main thread comes after static destructors.
struct Registry {
  std::mutex mutex;  // taken before any cache's lock, never after
  std::vector<BlockCache*> caches;
};
Registry& registry();

class BlockCache {
 public:
  BlockCache() {
    Registry& all = registry();
    std::lock_guard hold(all.mutex);
    all.caches.push_back(this);
  }
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;
  ~BlockCache() {
    {
      Registry& all = registry();
      std::lock_guard hold(all.mutex);
      all.caches.erase(std::find(all.caches.begin(), all.caches.end(), this));
    }
    release_all();
  }

  void* take(std::size_t bytes) {
    std::lock_guard hold(lock_);
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
    std::lock_guard hold(lock_);
    if (cached_bytes_ + bytes > kMaxCachedBytes) release_unlocked();
    try {
      bucket_for(bytes).push_back(block);
    } catch (const std::bad_alloc&) {
      return false;
    }
    cached_bytes_ += bytes;
    return true;
  }

  void release_all() noexcept {
    std::lock_guard hold(lock_);
    release_unlocked();
  }

  std::size_t cached_bytes() {
    std::lock_guard hold(lock_);
    return cached_bytes_;
  }

  SpinLock& lock() { return lock_; }

 private:
  void release_unlocked() noexcept {
    for (Bucket& bucket : buckets_) {
      for (void* block : bucket.blocks) deallocate(block);
    }
    buckets_.clear();
    cached_bytes_ = 0;
  }

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

  SpinLock lock_;
  std::vector<Bucket> buckets_;  // a training loop uses a few dozen sizes: a scan is fastest
  std::size_t cached_bytes_ = 0;
};

// fork() copies only the calling thread: the registry and every cache are locked across it, so
// the child never inherits a lock that a thread it does not have was holding.
void lock_all_for_fork() {
  Registry& all = registry();
  all.mutex.lock();
  for (BlockCache* cache : all.caches) cache->lock().lock();
}
void unlock_all_after_fork() {
  Registry& all = registry();
  for (BlockCache* cache : all.caches) cache->lock().unlock();
  all.mutex.unlock();
}

Registry& registry() {
  static Registry* const all = [] {
    pthread_atfork(lock_all_for_fork, unlock_all_after_fork, unlock_all_after_fork);
    return new Registry;
  }();
  return *all;
}

// Created while the program starts, single-threaded, so no fork() can race with registering
// the handlers (see default_generator in src/random.cpp).
[[maybe_unused]] Registry& registry_at_startup = registry();

BlockCache* thread_cache() { return detail::this_thread_cache<BlockCache>(); }

template <class F>
void for_each_cache(F f) {
  Registry& all = registry();
  std::lock_guard hold(all.mutex);
  for (BlockCache* cache : all.caches) f(*cache);
}

}  // namespace

void* detail::acquire_block(std::size_t bytes) {
  BlockCache* cache = thread_cache();
  if (cache) {
    if (void* block = cache->take(bytes)) return block;
  }
  try {
    return allocate(bytes);
  } catch (const std::bad_alloc&) {
    if (cached_memory_bytes() == 0) throw;
    release_cached_memory();  // what the caches keep may be just what this allocation needs
    return allocate(bytes);
  }
}

void detail::release_block(void* block, std::size_t bytes) noexcept {
  BlockCache* cache = thread_cache();
  if (!cache || !cache->keep(block, bytes)) deallocate(block);
}

int64_t cached_memory_bytes() {
  int64_t total = 0;
  for_each_cache([&](BlockCache& cache) { total += static_cast<int64_t>(cache.cached_bytes()); });
  return total;
}

void release_cached_memory() {
  for_each_cache([](BlockCache& cache) { cache.release_all(); });
}

}  // namespace tg
