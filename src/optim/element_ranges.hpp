// Splitting an optimizer's elementwise update across tapegrad's threads.
#pragma once

#include <tapegrad/threads.hpp>

#include "kernels/cpu_level.hpp"
#include "thread_pool.hpp"

#include <cstdint>

namespace tg::optim::detail {

/// Parameters of at least this many elements have their update split across threads; below,
/// waking a second thread costs about what it saves.
constexpr int64_t kParallelUpdateElements = int64_t{1} << 15;

/// Calls update(begin, end) over [0, n): once, or for one contiguous range per thread (starting
/// at multiples of 16 elements, so every range's vector loop starts aligned like the whole one).
/// Every element is updated by exactly one call with the same arithmetic, so the results are
/// the same bits whatever the thread count.
template <class F>
void for_element_ranges(int64_t n, const F& update) {
  const int threads = num_threads();
  if (threads <= 1 || n < kParallelUpdateElements) {
    update(int64_t{0}, n);
    return;
  }
  const auto boundary = [&](int part) {
    return part == threads ? n : n * part / threads / 16 * 16;
  };
  tg::detail::run_parts(threads, [&](int part) { update(boundary(part), boundary(part + 1)); });
}

/// One step of an optimizer's update for a parameter of n elements: counts the step, then runs
/// update(begin, end) over the element ranges above, compiled for the CPU level in use
/// (kernels/cpu_level.hpp: every level gives the same bits).
template <class State, class Update>
void step_in_ranges(State& s, int64_t n, const Update& update) {
  ++s.step;
  for_element_ranges(n, [&](int64_t begin, int64_t end) {
    tg::detail::at_cpu_level([&] { update(begin, end); });
  });
}

}  // namespace tg::optim::detail
