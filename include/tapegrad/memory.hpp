#pragma once

#include <cstdint>

namespace tg {

/// Tensor storage freed on a thread is kept by that thread for the next tensor of the same byte
/// size, so a training step in steady state takes no memory from the system allocator. These
/// report and release what all threads keep, tapegrad's worker threads included (each thread
/// keeps at most 256 MiB; blocks above 64 MiB are not kept).

/// Bytes of freed storage that all threads keep for reuse.
int64_t cached_memory_bytes();
/// Returns every thread's kept storage to the system allocator.
void release_cached_memory();

}  // namespace tg
