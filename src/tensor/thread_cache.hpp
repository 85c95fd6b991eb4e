#pragma once

// The per-thread state of the memory caches (block_cache.cpp, object_pool.cpp).

// TAPEGRAD_UNDER_ASAN is 1 in AddressSanitizer builds (GCC or clang).
#if defined(__SANITIZE_ADDRESS__)
#define TAPEGRAD_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TAPEGRAD_UNDER_ASAN 1
#endif
#endif
#ifndef TAPEGRAD_UNDER_ASAN
#define TAPEGRAD_UNDER_ASAN 0
#endif

namespace tg::detail {

/// The calling thread's T, created on first use; null in AddressSanitizer builds (the caches
/// step aside so ASan sees every use after free) and once the thread's T was destroyed at
/// thread exit (objects that outlive it, such as globals destroyed after main's thread-locals,
/// then go to the global allocator).
template <class T>
T* this_thread_cache() {
  thread_local constinit bool destroyed = false;
  struct Owner {
    T cache;
    ~Owner() { destroyed = true; }
  };
  if (TAPEGRAD_UNDER_ASAN || destroyed) return nullptr;
  thread_local Owner owner;
  return &owner.cache;
}

}  // namespace tg::detail
