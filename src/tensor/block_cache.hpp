#pragma once

#include <cstddef>

namespace tg::detail {

/// A 64-byte aligned, uninitialized block of `bytes`, reused from the calling thread's cache of
/// freed blocks of exactly that size when it has one.
void* acquire_block(std::size_t bytes);
/// Gives a block from acquire_block back: kept in the calling thread's cache, or freed.
void release_block(void* block, std::size_t bytes) noexcept;

}  // namespace tg::detail
