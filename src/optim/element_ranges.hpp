// Splitting an optimizer's elementwise update across tapegrad's threads.
#pragma once

#include <tapegrad/threads.hpp>

#include "kernels/cpu_level.hpp"
#include "thread_pool.hpp"

#include <tapegrad/tensor.hpp>

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

/// Calls call.template operator()<kFlags...>() with each runtime flag turned into a template
/// bool, so every combination of options compiles to its own branch-free loop.
template <bool... kDecided, class Call>
[[gnu::always_inline]] inline void with_flags(const Call& call) {
  call.template operator()<kDecided...>();
}
template <bool... kDecided, class Call, class... Rest>
[[gnu::always_inline]] inline void with_flags(const Call& call, bool next, Rest... rest) {
  if (next) {
    with_flags<kDecided..., true>(call, rest...);
  } else {
    with_flags<kDecided..., false>(call, rest...);
  }
}

/// The one way an optimizer runs its elementwise update: counts the step, then calls
/// loop.template operator()<flags...>(p, g, begin, end) with T* p, const T* g (T = float or
/// double, the parameter's dtype) over the element ranges of step_in_ranges, compiled for the CPU
/// level in use. `flags` (bools) become template arguments (see with_flags). The loop reads its
/// state buffers through `.data<T>()` and writes only p[i] and buffer[i] for i in [begin, end).
template <class State, class Loop, class... Flags>
void update_elements(State& s, Tensor& param, const Tensor& grad, const Loop& loop,
                     Flags... flags) {
  const auto run = [&]<class T>(T* p, const T* g) {
    step_in_ranges(s, param.numel(), [&](int64_t begin, int64_t end) {
      with_flags(
          [&]<bool... kFlags>() { loop.template operator()<kFlags...>(p, g, begin, end); },
          flags...);
    });
  };
  if (param.dtype() == Dtype::Float32) {
    run(param.data<float>(), grad.data<float>());
  } else {
    run(param.data<double>(), grad.data<double>());
  }
}

}  // namespace tg::optim::detail
