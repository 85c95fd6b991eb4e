#pragma once

// TAPEGRAD_UNDER_ASAN is 1 in AddressSanitizer builds (GCC or clang). The memory caches
// (block_cache.cpp, object_pool.cpp) step aside there, so ASan sees every use after free.
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
