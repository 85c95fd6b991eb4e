// tapegrad's own worker threads, for work split into a fixed number of parts (data_parallel).
#pragma once

#include <functional>

namespace tg::detail {

/// Runs task(part) for part = 0 … parts − 1 and returns when all are done: part 0 on the calling
/// thread, parts 1 … num_threads() − 1 on tapegrad's workers (worker k is started the first time
/// a call has a part k for it, then kept; a forked child starts its own). When the workers are
/// busy with another caller's parts, or there are more parts than threads, the remaining parts
/// run on the calling thread: what a part computes never depends on which thread runs it. If
/// parts throw, the exception of the lowest such part is rethrown after all parts have finished;
/// a worker that cannot be started is a tg::Error before any part runs.
void run_parts(int parts, const std::function<void(int)>& task);

}  // namespace tg::detail
